// Which origins `npm run dev` allows (scripts/lib/dev-origins.ts): ALLOWED_ORIGINS from .dev.vars,
// else from wrangler.toml's [vars], else the usual local frontend dev servers.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { devOrigins, LOCAL_DEV_ORIGINS, wranglerVar } from "../../scripts/lib/dev-origins.ts";

const TOML = `
name = "task-api"
ALLOWED_ORIGINS = "https://top-level.example"
[vars]
# ALLOWED_ORIGINS = "https://commented.example"
LOG_REQUESTS = "errors"
ALLOWED_ORIGINS = "https://app.example.com"
[[hyperdrive]]
binding = "HYPERDRIVE"
[env.staging.vars]
ALLOWED_ORIGINS = "https://staging.example.com"
`;

describe("devOrigins", () => {
  it("lists localhost and 127.0.0.1 on 3000, 5173, 4200 and 8080 when neither file sets ALLOWED_ORIGINS", () => {
    expect(devOrigins(undefined, undefined)).toEqual({ origins: LOCAL_DEV_ORIGINS, from: "default" });
    expect([...LOCAL_DEV_ORIGINS].sort()).toEqual(
      [3000, 5173, 4200, 8080].flatMap((port) => [`http://localhost:${port}`, `http://127.0.0.1:${port}`]).sort(),
    );
  });

  it("treats an empty, blank or commas-only value as not set", () => {
    for (const value of ["", "  ", " , ,"]) expect(devOrigins(value, value).from, JSON.stringify(value)).toBe("default");
  });

  it("takes .dev.vars over wrangler.toml, as wrangler dev does, read as the Worker reads it", () => {
    expect(devOrigins(" https://a.example/ , http://localhost:5174", "https://b.example")).toEqual({
      origins: ["https://a.example", "http://localhost:5174"],
      from: ".dev.vars",
    });
    expect(devOrigins(undefined, "https://b.example")).toEqual({ origins: ["https://b.example"], from: "wrangler.toml" });
  });
});

describe("wranglerVar", () => {
  it("reads the top-level [vars] table only: not another table, an environment's, or a comment", () => {
    expect(wranglerVar(TOML, "ALLOWED_ORIGINS")).toBe("https://app.example.com");
    expect(wranglerVar(TOML, "LOG_REQUESTS")).toBe("errors");
    expect(wranglerVar(TOML, "BETTER_AUTH_URL")).toBeUndefined();
  });

  it("finds ALLOWED_ORIGINS empty in the project's wrangler.toml: deployed, no origin is allowed unless set", () => {
    const toml = readFileSync(path.resolve(import.meta.dirname, "../../wrangler.toml"), "utf8");
    expect(wranglerVar(toml, "ALLOWED_ORIGINS")).toBe("");
    expect(devOrigins(undefined, wranglerVar(toml, "ALLOWED_ORIGINS")).from).toBe("default");
  });
});
