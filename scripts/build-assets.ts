// Workers Static Assets for `[assets]` in wrangler.toml, run by wrangler as the custom build
// (`[build] command`) before `wrangler dev` and `wrangler deploy`: the /docs page (src/docs/)
// with Swagger UI's files copied from node_modules, so the reference works offline, from no CDN.
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";

const ROOT = path.resolve(import.meta.dirname, "..");
const OUT = path.join(ROOT, "dist/assets");
const SWAGGER = path.join(ROOT, "node_modules/swagger-ui-dist");

rmSync(OUT, { recursive: true, force: true });
mkdirSync(path.join(OUT, "docs"), { recursive: true });
for (const file of ["index.html", "init.js"]) copyFileSync(path.join(ROOT, "src/docs", file), path.join(OUT, "docs", file));
for (const file of ["swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png"]) {
  copyFileSync(path.join(SWAGGER, file), path.join(OUT, "docs", file));
}
// Headers for the static files (the Worker sets its own on API responses).
writeFileSync(
  path.join(OUT, "_headers"),
  `/docs/*
  X-Content-Type-Options: nosniff
  Referrer-Policy: no-referrer
  Content-Security-Policy: default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'
`,
);
console.log(`Static assets written to ${path.relative(ROOT, OUT)}/ (docs: Swagger UI)`);
