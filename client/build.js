// npm run build (and prepack, so that npm pack and npm publish build it): dist/ from scratch with
// tsc (tsconfig.json), plus the generated types, which tsc does not copy (it emits no .d.ts of its
// own inputs). Plain JavaScript: it runs on any Node the packing user has.
import { execFileSync } from "node:child_process";
import { copyFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
rmSync(path.join(here, "dist"), { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
execFileSync(process.execPath, [tsc, "-p", path.join(here, "tsconfig.json")], { stdio: "inherit" });
copyFileSync(path.join(here, "schema.d.ts"), path.join(here, "dist/schema.d.ts"));
