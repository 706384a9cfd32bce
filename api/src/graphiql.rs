//! GraphiQL served entirely by this server (`dev` profile only), from bundles pinned by version
//! in `api/assets/graphiql/` (see its `VERSIONS.txt` and licence files): it loads with no network
//! access, as on the restricted government networks many users sit on.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Where the assets are served.
pub const PREFIX: &str = "/graphiql";

/// The page (`GET /graphql` from a browser).
pub const PAGE: &str = include_str!("../assets/graphiql/index.html");

/// The page may load only what this server serves: no CDN, no inline script.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
     connect-src 'self'; frame-ancestors 'none'";

/// The assets by file name: contents and media type.
const ASSETS: &[(&str, &[u8], &str)] = &[
    (
        "react.production.min.js",
        include_bytes!("../assets/graphiql/react.production.min.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        "react-dom.production.min.js",
        include_bytes!("../assets/graphiql/react-dom.production.min.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        "graphiql.min.js",
        include_bytes!("../assets/graphiql/graphiql.min.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        "graphiql.min.css",
        include_bytes!("../assets/graphiql/graphiql.min.css"),
        "text/css; charset=utf-8",
    ),
    (
        "init.js",
        include_bytes!("../assets/graphiql/init.js"),
        "text/javascript; charset=utf-8",
    ),
    ("index.html", PAGE.as_bytes(), "text/html; charset=utf-8"),
    (
        "VERSIONS.txt",
        include_bytes!("../assets/graphiql/VERSIONS.txt"),
        "text/plain; charset=utf-8",
    ),
    (
        "LICENSE-react",
        include_bytes!("../assets/graphiql/LICENSE-react"),
        "text/plain; charset=utf-8",
    ),
    (
        "LICENSE-react-dom",
        include_bytes!("../assets/graphiql/LICENSE-react-dom"),
        "text/plain; charset=utf-8",
    ),
    (
        "LICENSE-graphiql",
        include_bytes!("../assets/graphiql/LICENSE-graphiql"),
        "text/plain; charset=utf-8",
    ),
];

/// The page, with its security headers.
pub fn page() -> Response {
    with_headers(PAGE.as_bytes(), "text/html; charset=utf-8")
}

/// `GET /graphiql/{file}`.
pub async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(name, _, _)| *name == file) {
        Some((_, body, media)) => with_headers(body, media),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

fn with_headers(body: &'static [u8], media: &'static str) -> Response {
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    res
}
