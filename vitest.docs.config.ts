import { defineConfig } from "vitest/config";

// `npm run test:docs`: every shell block of README.md and docs/*.md, run against a fresh
// `npm run dev` (test/docs/pages.docs.ts). Its file is not named *.test.ts, so `npm test`
// (vitest.config.ts, test/**/*.test.ts) never picks it up.
export default defineConfig({
  test: {
    include: ["test/docs/**/*.docs.ts"],
    // A block may take up to 60 s (the runner's own limit, with a better message than vitest's).
    testTimeout: 90_000,
    // Starting the dev server: a fresh Postgres (initdb), migrations, the asset build and wrangler.
    hookTimeout: 240_000,
    pool: "forks",
    fileParallelism: false,
  },
});
