// The real Better Auth (the `better-auth` npm package with its jwt() plugin), served over HTTP
// from this Node process the way an app serves it, on the test Postgres, with its own tables
// created by its own migration API. Tests sign users up through its HTTP API and take their
// tokens from /api/auth/token, exactly as a frontend does.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { betterAuth } from "better-auth";
import { getMigrations } from "better-auth/db/migration";
import { toNodeHandler } from "better-auth/node";
import { jwt } from "better-auth/plugins";
import pg from "pg";

export interface BetterAuthServer {
  /** BETTER_AUTH_URL: the app's base URL, also the tokens' iss and aud. */
  url: string;
  /** Signs a new user up through the HTTP API; returns its id and session cookie. */
  signUp(): Promise<{ userId: string; cookie: string }>;
  /** GET /api/auth/token with the session cookie, as the jwtClient() plugin does. */
  token(cookie: string): Promise<string>;
  /** The plugin's server-side signJWT: the real key and defaults, with claims of the test's choosing. */
  sign(payload: Record<string, unknown>): Promise<string>;
  stop(): Promise<void>;
}

export async function startBetterAuth(databaseUrl: string, secret: string): Promise<BetterAuthServer> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  const auth = betterAuth({
    baseURL: url,
    secret,
    database: pool,
    emailAndPassword: { enabled: true },
    telemetry: { enabled: false },
    plugins: [jwt()],
  });
  const { runMigrations } = await getMigrations(auth.options);
  await runMigrations();
  server.on("request", toNodeHandler(auth));

  async function signUp(): Promise<{ userId: string; cookie: string }> {
    const email = `user-${crypto.randomUUID()}@example.com`;
    const response = await fetch(`${url}/api/auth/sign-up/email`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Origin: url },
      body: JSON.stringify({ email, password: "correct horse battery staple", name: "Test User" }),
    });
    if (response.status !== 200) throw new Error(`sign-up failed: ${response.status} ${await response.text()}`);
    const body = (await response.json()) as { user: { id: string } };
    const cookie = response.headers
      .getSetCookie()
      .map((line) => line.split(";")[0])
      .join("; ");
    return { userId: body.user.id, cookie };
  }

  async function token(cookie: string): Promise<string> {
    const response = await fetch(`${url}/api/auth/token`, { headers: { Cookie: cookie } });
    if (response.status !== 200) throw new Error(`token failed: ${response.status} ${await response.text()}`);
    return ((await response.json()) as { token: string }).token;
  }

  async function sign(payload: Record<string, unknown>): Promise<string> {
    return (await auth.api.signJWT({ body: { payload } })).token;
  }

  return {
    url,
    signUp,
    token,
    sign,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await pool.end();
    },
  };
}
