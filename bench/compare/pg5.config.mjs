// PostGraphile 5 for bench/compare.sh: the amber preset (the recommended default) with the
// simplified inflection that its documentation recommends, over the schemas `units_2024`, `plans_bench` and `values_bench` (bench/compare/*.sql).
// compare.sh copies this file next to its node_modules (PostGraphile is installed outside the
// repository) and sets PG5_DATABASE_URL and PG5_PORT.
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { PgSimplifyInflectionPreset } from "@graphile/simplify-inflection";
import { makePgService } from "postgraphile/adaptors/pg";

export default {
  extends: [PostGraphileAmberPreset, PgSimplifyInflectionPreset],
  pgServices: [
    makePgService({
      connectionString: process.env.PG5_DATABASE_URL,
      schemas: ["units_2024", "plans_bench", "values_bench"],
      // The same pool size as this API's (16 connections on PostgreSQL).
      poolConfig: { max: 16 },
    }),
  ],
  grafserv: {
    host: "127.0.0.1",
    port: Number(process.env.PG5_PORT),
    graphiql: false,
    watch: false,
  },
  grafast: { explain: false },
};
