// Reads KEY=value lines of .dev.vars (the local secrets file wrangler dev reads too).
import { existsSync, readFileSync } from "node:fs";

export function readDevVars(path: string): Record<string, string> {
  if (!existsSync(path)) return {};
  const vars: Record<string, string> = {};
  for (const line of readFileSync(path, "utf8").split(/\r?\n/)) {
    const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!match?.[1] || line.trimStart().startsWith("#")) continue;
    vars[match[1]] = (match[2] ?? "").replace(/^"(.*)"$|^'(.*)'$/, "$1$2");
  }
  return vars;
}

/** The local BETTER_AUTH_SECRET: from the environment, else .dev.vars, else .dev.vars.example. */
export function localSecret(): string | undefined {
  return (
    process.env.BETTER_AUTH_SECRET ?? readDevVars(".dev.vars").BETTER_AUTH_SECRET ?? readDevVars(".dev.vars.example").BETTER_AUTH_SECRET
  );
}
