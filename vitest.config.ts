import { defineConfig } from "vitest/config";

/**
 * Files whose every response is decided before the database is asked, or that bind both
 * transports themselves, or that test a tool rather than the Worker's database path: they run on
 * the "hyperdrive" project only, since the "neon" project would prove nothing more with them.
 */
const NOT_TRANSPORT_BOUND = [
  // Token rules, key sources, JWKS fetching and Better Auth interop: checked before any statement.
  "test/auth.test.ts",
  "test/jwks.test.ts",
  "test/better-auth.test.ts",
  // Settings checked once per isolate, the router's 404/405/OPTIONS/HEAD, headers and CORS.
  "test/config.test.ts",
  "test/http.test.ts",
  // Request validation: a 422 is answered before the database is asked; so are query names that
  // Object.prototype has. Location and Link are built by the Worker from PUBLIC_URL, whichever
  // driver carried the statement.
  "test/validation.test.ts",
  "test/prototype-names.test.ts",
  "test/public-url.test.ts",
  // The OpenAPI document and the query plans (EXPLAIN, on a direct connection).
  "test/openapi.test.ts",
  "test/indexes.test.ts",
  // Starts Workers on both transports itself and compares their answers byte for byte.
  "test/transports.test.ts",
  // The / index and the static pages' headers, answered without a statement.
  "test/index-route.test.ts",
  "test/static-pages.test.ts",
  // The typed client (client/): its calls, its /live helper, its package installed into scratch
  // projects; the API it calls is the same on both transports.
  "test/client.test.ts",
  "test/client-package.test.ts",
  // A migration run on a database of its own, checked with SQL on a direct connection: no Worker.
  "test/migration-lists.test.ts",
  // The /live Durable Object's own behaviour (floods, the socket cap, hibernation, 1,000 sockets):
  // the database only answers the upgrade's statement, which test/live.test.ts runs on both.
  "test/live-object.test.ts",
  // When a close the server starts reaches the client: the runtime's connection handling, timed.
  "test/live-close.test.ts",
  // Applying src/db/functions.sql twice, on a database of its own.
  "test/functions-reapply.test.ts",
  // The order-key functions against the library they port, in SQL on a direct connection.
  "test/order-key.test.ts",
  // /mcp's rate limit and body limits: decided before a statement (or by the route a tool calls).
  "test/mcp-limits.test.ts",
  // Tools: `npm run dev` (which always binds Hyperdrive), `npm run token`, the suite's own pooler.
  "test/dev.test.ts",
  "test/token-script.test.ts",
  "test/mcp-try.test.ts",
  "test/pooler.test.ts",
];

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Browser tests need Chromium: `npm run test:browser` (vitest.browser.config.ts).
    exclude: ["test/browser/**", "node_modules/**"],
    // Generous: CI may run while the machine is busy, and no test may depend on being fast.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Each test file talks to the Worker and Postgres started by its project's global setup, with
    // its own fresh user ids, so files run in parallel safely.
    pool: "forks",
    // A worker process keeps its modules from one test file to the next (the OpenAPI document,
    // its compiled validators, the drivers): re-importing them for every file cost 7% of the
    // suite's CPU. Nothing in test/ changes global state that outlives its file (the one spy,
    // in test/unit/client-live.test.ts, is restored after each test), and every file uses users
    // of its own.
    isolate: false,
    // The files mostly wait on workerd and Postgres (and one on a 30 s JWKS cooldown), so run
    // more of them at once than vitest's default of one per spare core (one, on 2 cores).
    maxWorkers: 4,
    // Two projects, one per database transport (test/support/transport.ts): Hyperdrive +
    // node-postgres runs every file; @neondatabase/serverless through a local WebSocket proxy runs
    // every file whose behaviour goes through the database driver (writes, reads, races, the feed,
    // /live, timeouts and errors). Files that prove nothing more on a second transport are left
    // out of it: see NOT_TRANSPORT_BOUND.
    projects: [
      // Each project has its own global setup (its own Postgres, pooler and Worker): a globalSetup
      // in the root config would run once, for the root project, and both projects would share it.
      { extends: true, test: { name: "hyperdrive", globalSetup: ["test/support/global-setup.ts"] } },
      {
        extends: true,
        test: {
          name: "neon",
          globalSetup: ["test/support/global-setup.ts"],
          exclude: ["test/browser/**", "test/docs/**", "test/unit/**", "node_modules/**", ...NOT_TRANSPORT_BOUND],
        },
      },
    ],
  },
});
