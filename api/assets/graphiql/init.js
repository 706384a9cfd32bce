// Bootstraps GraphiQL from the vendored bundles (no CDN, no inline script: works under
// Content-Security-Policy "script-src 'self'").
(function () {
  'use strict';

  var defaultQuery =
    '# Regional data platform: GraphQL explorer.\n' +
    '#\n' +
    '# The demo users and their password are listed\n' +
    '# in the README. To query as one of them, sign in\n' +
    '# with the `login` mutation:\n' +
    '#\n' +
    '#   mutation Login {\n' +
    '#     login(input: {username: "...",\n' +
    '#                   password: "..."}) {\n' +
    '#       accessToken\n' +
    '#     }\n' +
    '#   }\n' +
    '#\n' +
    '# then put the token in the Headers tab below as\n' +
    '#   {"Authorization": "Bearer <token>"}\n' +
    '# Without a token, requests are anonymous.\n' +
    '\n' +
    'query Province {\n' +
    '  province(code: "79", asOf: "2024-06-01") {\n' +
    '    code\n' +
    '    name\n' +
    '    districts { code name }\n' +
    '  }\n' +
    '}\n';

  // Full-page layout, set from script so no inline style is needed either.
  document.documentElement.style.height = '100%';
  document.body.style.height = '100%';
  document.body.style.margin = '0';
  document.body.style.overflow = 'hidden';
  var container = document.getElementById('graphiql');
  container.style.height = '100vh';
  container.textContent = '';

  var fetcher = GraphiQL.createFetcher({ url: '/graphql' });
  var root = ReactDOM.createRoot(container);
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: defaultQuery,
      defaultEditorToolsVisibility: 'headers',
      shouldPersistHeaders: false
    })
  );
})();
