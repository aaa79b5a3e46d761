import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Browser tests need Chromium: `npm run test:browser` (vitest.browser.config.ts).
    exclude: ["test/browser/**", "node_modules/**"],
    globalSetup: ["test/support/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Each test file talks to the one Worker and Postgres started by the global setup, with
    // its own fresh user ids, so files run in parallel safely.
    pool: "forks",
    // The files mostly wait on workerd and Postgres (and one on a 30 s JWKS cooldown), so run
    // more of them at once than vitest's default of one per spare core (one, on 2 cores).
    maxWorkers: 4,
  },
});
