// Workers Static Assets for `[assets]` in wrangler.toml, run by wrangler as the custom build
// (`[build] command`) before `wrangler dev` and `wrangler deploy`:
// - /docs: the API reference (src/docs/) with Swagger UI's files copied from node_modules, so it
//   works offline, from no CDN;
// - /problems/<code>: one short page per problem code, the URI each problem's `type` names,
//   written from the catalogue in src/problems.ts;
// - /demo/: the live demo page (src/demo/, plain HTML and a module, copied as they are), with
//   the /live protocol module it shares with the Worker and the tests (src/live/protocol.ts),
//   served as /demo/protocol.js with its types stripped.
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { stripTypeScriptTypes } from "node:module";
import path from "node:path";
import { PROBLEMS, type ProblemCode } from "../src/problems.ts";

const ROOT = path.resolve(import.meta.dirname, "..");
const OUT = path.join(ROOT, "dist/assets");
const SWAGGER = path.join(ROOT, "node_modules/swagger-ui-dist");

rmSync(OUT, { recursive: true, force: true });
mkdirSync(path.join(OUT, "docs"), { recursive: true });
for (const file of ["index.html", "init.js"]) copyFileSync(path.join(ROOT, "src/docs", file), path.join(OUT, "docs", file));
for (const file of ["swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png"]) {
  copyFileSync(path.join(SWAGGER, file), path.join(OUT, "docs", file));
}

mkdirSync(path.join(OUT, "demo"), { recursive: true });
for (const file of ["index.html", "demo.js", "demo.css"]) copyFileSync(path.join(ROOT, "src/demo", file), path.join(OUT, "demo", file));
writeFileSync(
  path.join(OUT, "demo", "protocol.js"),
  `// Generated from src/live/protocol.ts by scripts/build-assets.ts.\n${stripTypeScriptTypes(readFileSync(path.join(ROOT, "src/live/protocol.ts"), "utf8"))}`,
);

mkdirSync(path.join(OUT, "problems"), { recursive: true });
for (const [code, { status, title, about }] of Object.entries(PROBLEMS) as [ProblemCode, (typeof PROBLEMS)[ProblemCode]][]) {
  writeFileSync(
    path.join(OUT, "problems", `${code}.html`),
    `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${code}</title></head>
<body>
<h1><code>${code}</code></h1>
<p>HTTP ${status} ${title}. ${about}</p>
<p>A problem of the Task API (RFC 9457 <code>application/problem+json</code>): programs read its <code>code</code>; its <code>detail</code> is for people. See <a href="/docs">the API reference</a>.</p>
</body>
</html>
`,
  );
}

// Headers for the static files (the Worker sets its own on API responses).
writeFileSync(
  path.join(OUT, "_headers"),
  `/docs*
  X-Content-Type-Options: nosniff
  Referrer-Policy: no-referrer
  Content-Security-Policy: default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'
/problems/*
  X-Content-Type-Options: nosniff
  Content-Security-Policy: default-src 'none'
/demo/*
  X-Content-Type-Options: nosniff
  Referrer-Policy: no-referrer
  Content-Security-Policy: default-src 'self'; img-src 'self' data:; connect-src 'self' ws: wss:; style-src 'self'; script-src 'self'
`,
);
console.log(
  `Static assets written to ${path.relative(ROOT, OUT)}/ (docs: Swagger UI; demo; problems: ${Object.keys(PROBLEMS).length} pages)`,
);
