// Which browser origins `npm run dev` lets through CORS: ALLOWED_ORIGINS when .dev.vars or
// wrangler.toml sets it, else the usual local frontend dev servers. The deployed Worker never
// sees this default: there, no ALLOWED_ORIGINS still means no origin.

/** Next.js / Create React App / Express (3000), Vite (5173), Angular (4200), Vue CLI and webpack (8080). */
const LOCAL_DEV_PORTS = [3000, 5173, 4200, 8080];

export const LOCAL_DEV_ORIGINS: readonly string[] = ["localhost", "127.0.0.1"].flatMap((host) =>
  LOCAL_DEV_PORTS.map((port) => `http://${host}:${port}`),
);

/** What older copies of .dev.vars.example pinned: worth a hint, since it hides the defaults. */
export const OLD_EXAMPLE_ORIGINS = "http://localhost:3000,http://127.0.0.1:3000";

export interface DevOrigins {
  origins: readonly string[];
  /** Where the list comes from; "default" is the only case in which dev.ts passes it to wrangler. */
  from: ".dev.vars" | "wrangler.toml" | "default";
}

/**
 * The origins wrangler dev will allow, from the values .dev.vars and wrangler.toml's [vars] give
 * ALLOWED_ORIGINS (.dev.vars wins, as in wrangler). Empty or absent in both: the local defaults.
 */
export function devOrigins(devVarsValue: string | undefined, wranglerTomlValue: string | undefined): DevOrigins {
  const fromDevVars = parseOrigins(devVarsValue);
  if (fromDevVars.length > 0) return { origins: fromDevVars, from: ".dev.vars" };
  const fromToml = parseOrigins(wranglerTomlValue);
  if (fromToml.length > 0) return { origins: fromToml, from: "wrangler.toml" };
  return { origins: LOCAL_DEV_ORIGINS, from: "default" };
}

/** The same reading as the Worker's (src/config.ts): comma-separated, trimmed, no trailing slash. */
function parseOrigins(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((origin) => origin.trim().replace(/\/+$/, ""))
    .filter((origin) => origin !== "");
}

/** A string variable of wrangler.toml's top-level [vars] table (not an [env.*.vars] one), as written. */
export function wranglerVar(toml: string, name: string): string | undefined {
  let inVars = false;
  for (const line of toml.split(/\r?\n/)) {
    const table = /^\s*\[([^\]]*)\]/.exec(line);
    if (table) inVars = table[1]?.trim() === "vars";
    else if (inVars) {
      const match = new RegExp(`^\\s*${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)')`).exec(line);
      if (match) return match[1] ?? match[2] ?? "";
    }
  }
  return undefined;
}
