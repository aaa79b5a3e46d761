import { defineConfig } from "vitest/config";

// `npm run test:browser`: the /docs page and CORS as a real browser sees them, in Debian's
// Chromium (/usr/bin/chromium) driven by playwright-core, against the same Postgres and Worker
// the global setup starts for `npm test`. Screenshots go to test-results/.
export default defineConfig({
  test: {
    include: ["test/browser/**/*.test.ts"],
    globalSetup: ["test/support/global-setup.ts"],
    // Chromium starts slowly on a busy CI machine, and Swagger UI renders a large bundle.
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: "forks",
  },
});
