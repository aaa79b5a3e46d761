import { defineConfig } from "vitest/config";

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
    // The files mostly wait on workerd and Postgres (and one on a 30 s JWKS cooldown), so run
    // more of them at once than vitest's default of one per spare core (one, on 2 cores).
    maxWorkers: 4,
    // The whole integration suite runs once per database transport (test/support/transport.ts):
    // Hyperdrive + node-postgres, and @neondatabase/serverless through a local WebSocket proxy.
    projects: [
      // Each project has its own global setup (its own Postgres and Worker): a globalSetup in the
      // root config would run once, for the root project, and both projects would share it.
      { extends: true, test: { name: "hyperdrive", globalSetup: ["test/support/global-setup.ts"] } },
      {
        extends: true,
        test: {
          name: "neon",
          globalSetup: ["test/support/global-setup.ts"],
          exclude: ["test/browser/**", "test/unit/**", "node_modules/**"],
        },
      },
    ],
  },
});
