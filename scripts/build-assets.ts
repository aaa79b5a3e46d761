// Workers Static Assets for `[assets]` in wrangler.toml, run by wrangler as the custom build
// (`[build] command`) before `wrangler dev` and `wrangler deploy`:
// - /docs: the API reference (src/docs/) with Swagger UI's files copied from node_modules, so it
//   works offline, from no CDN;
// - /problems/<code>: one short page per problem code, the URI each problem's `type` names,
//   written from the catalogue in src/problems.ts;
// - /demo/: the live demo page (src/demo/, plain HTML and a module, copied as they are), with
//   the /live protocol module it shares with the Worker and the tests (src/live/protocol.ts),
//   served as /demo/protocol.js with its types stripped.
import { copyFileSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { stripTypeScriptTypes } from "node:module";
import path from "node:path";
import { PROBLEMS, type ProblemCode } from "../src/problems.ts";

const ROOT = path.resolve(import.meta.dirname, "..");
const TARGET = path.join(ROOT, "dist/assets");
// Written beside the target, then swapped in: another build running at the same time (a second
// test run in this checkout) never serves or copies a half-written directory.
const OUT = `${TARGET}.${process.pid}`;
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

// Headers for the static files (the Worker sets its own on API responses). A _headers rule matches
// the request's path, and "/demo/*" does not match "/demo", which drop-trailing-slash serves (and
// "/demo/" redirects to): each page gets a rule for its bare path and one for what is under it, so
// no path of a page goes without. Rules never overlap: a header set by two rules is sent twice.
// frame-ancestors 'none' (and X-Frame-Options for browsers without CSP 2): no page may be framed
// (clickjacking: the demo holds a token, /docs an Authorize button). default-src does not cover
// base-uri and form-action: no form posts anywhere (should the demo's script fail to load, its
// token form would submit to the page's own URL, the token in the query string).
const SECURITY_HEADERS = {
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "X-Frame-Options": "DENY",
};
const LOCKED = "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
const POLICIES: Array<{ paths: string[]; policy: string }> = [
  // Swagger UI sets inline styles, and calls only this origin (/openapi.json, Try it out).
  {
    paths: ["/docs", "/docs/*"],
    policy: `default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; ${LOCKED}`,
  },
  // The demo: its own module and stylesheet, the API and /live (ws: or wss:) on this origin.
  {
    paths: ["/demo", "/demo/*"],
    policy: `default-src 'self'; img-src 'self' data:; connect-src 'self' ws: wss:; style-src 'self'; script-src 'self'; ${LOCKED}`,
  },
  // A problem page is plain HTML: nothing to load. Its bare /problems is no page (the Worker's 404).
  { paths: ["/problems/*"], policy: `default-src 'none'; ${LOCKED}` },
];
const headerLines = (policy: string) =>
  Object.entries({ ...SECURITY_HEADERS, "Content-Security-Policy": policy })
    .map(([name, value]) => `  ${name}: ${value}\n`)
    .join("");
writeFileSync(
  path.join(OUT, "_headers"),
  POLICIES.flatMap(({ paths, policy }) => paths.map((rule) => `${rule}\n${headerLines(policy)}`)).join(""),
);
const old = `${TARGET}.${process.pid}.old`;
try {
  renameSync(TARGET, old);
} catch {
  // No earlier build.
}
try {
  renameSync(OUT, TARGET);
} catch {
  // Another build swapped its own (identical) directory in meanwhile: keep that one.
  rmSync(OUT, { recursive: true, force: true });
}
rmSync(old, { recursive: true, force: true });
console.log(
  `Static assets written to ${path.relative(ROOT, TARGET)}/ (docs: Swagger UI; demo; problems: ${Object.keys(PROBLEMS).length} pages)`,
);
