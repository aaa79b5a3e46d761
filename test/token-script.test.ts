// `npm run token -- <user_id> [--expires <span>]`: the local HS256 token the README's curl
// examples use, accepted by the Worker for that user.
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { describe, expect, it } from "vitest";
import { call, newUser } from "./support/api.ts";
import { TEST_SECRET } from "./support/constants.ts";

const SCRIPT = path.resolve(import.meta.dirname, "../scripts/token.ts");

async function token(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [SCRIPT, ...args], {
      env: { ...process.env, BETTER_AUTH_SECRET: TEST_SECRET },
    });
    return { code: 0, stdout: stdout.trim(), stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout.trim(), stderr: failed.stderr };
  }
}

describe("npm run token", () => {
  it("prints an HS256 token for the user that lives 7 days by default and opens their tasks", async () => {
    const user = newUser();
    const { code, stdout } = await token(user);
    expect(code).toBe(0);
    expect(decodeProtectedHeader(stdout).alg).toBe("HS256");
    const claims = decodeJwt(stdout);
    expect(claims.sub).toBe(user);
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(7 * 24 * 60 * 60);
    expect((await call(`/api/${user}/tasks`, { token: stdout })).status).toBe(200);
  });

  it.each([
    ["15m", 15 * 60],
    ["2h", 2 * 60 * 60],
    ["90s", 90],
    ["1d", 24 * 60 * 60],
  ])("--expires %s sets the lifetime", async (span, seconds) => {
    const user = newUser();
    const { code, stdout } = await token(user, "--expires", span);
    expect(code).toBe(0);
    const claims = decodeJwt(stdout);
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(seconds);
    expect((await call(`/api/${user}/tasks`, { token: stdout })).status).toBe(200);
  });

  it("prints a 30-day token with a warning on stderr: the API refuses it (JWT_MAX_TOKEN_LIFETIME, 7 days by default)", async () => {
    const user = newUser();
    const { code, stdout, stderr } = await token(user, "--expires", "30d");
    expect(code).toBe(0);
    expect(stderr).toContain("Warning: the API refuses this token: it lives longer than JWT_MAX_TOKEN_LIFETIME (7 days)");
    expect((await call(`/api/${user}/tasks`, { token: stdout })).status).toBe(401);
    // The default 7 days is exactly the maximum: no warning.
    expect((await token(newUser())).stderr).not.toContain("Warning");
  });

  it.each([["--expires", "soon"], ["--expires", "-5m"], ["--expires"], [], ["--unknown"]])(
    "exits 1 with the usage and prints no token for %j",
    async (...args) => {
      const { code, stdout, stderr } = await token(...(args.length === 0 ? [] : [newUser(), ...args]));
      expect(code).toBe(1);
      expect(stdout).toBe("");
      expect(stderr).toContain("Usage: npm run token");
    },
  );
});
