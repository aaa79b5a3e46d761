// Micro-benchmarks that explain the load figures: token verification with the Worker's own
// code (keys imported or fetched once per isolate, as in production), for HS256 and for the
// asymmetric algorithms of Better Auth's JWKS, and what a new database connection per request
// costs locally, which production Hyperdrive does not pay.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import pg from "pg";
import { verifyToken } from "../../src/auth/jwt.ts";
import { type AuthConfig, configFrom } from "../../src/config.ts";
import { hs256Token } from "../lib/token.ts";

export interface VerifyResult {
  cachedKeyMicros: number;
  importPerRequestMicros: number;
  /** Per JWKS algorithm, with the key set fetched once and cached. */
  jwksMicros: Record<string, number>;
}

const JWKS_ALGORITHMS = ["EdDSA", "ES256", "RS256"] as const;

function authOf(env: Parameters<typeof configFrom>[0]): AuthConfig {
  const { auth } = configFrom(env);
  if (!auth.ok) throw new Error(auth.reason);
  return auth.value;
}

// Many verifications in flight at once, as under load: Node's WebCrypto runs each on its
// thread pool, so a one-at-a-time loop would measure thread hops rather than cost.
async function microsPerCall(verify: () => Promise<unknown>, iterations: number): Promise<number> {
  const BATCH = 64;
  const run = async (count: number) => {
    for (let done = 0; done < count; done += BATCH) await Promise.all(Array.from({ length: BATCH }, verify));
  };
  await run(2000); // warm-up
  const started = performance.now();
  await run(iterations);
  return ((performance.now() - started) * 1000) / iterations;
}

/** Serves a JWKS of one fresh key per algorithm; returns its URL and a signed token per algorithm. */
async function jwksFixture(): Promise<{ url: string; tokens: Record<string, string>; close: () => void }> {
  const keys = await Promise.all(
    JWKS_ALGORITHMS.map(async (alg) => ({ alg, kid: `bench-${alg}`, ...(await generateKeyPair(alg, { extractable: true })) })),
  );
  const jwks = { keys: await Promise.all(keys.map(async (k) => ({ ...(await exportJWK(k.publicKey)), kid: k.kid, alg: k.alg }))) };
  const server = createServer((_request, response) => {
    response.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(jwks));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const tokens: Record<string, string> = {};
  for (const key of keys) {
    tokens[key.alg] = await new SignJWT({})
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "JWT" })
      .setSubject("bench-user")
      .setIssuer(url)
      .setAudience(url)
      .setIssuedAt()
      .setExpirationTime("1h")
      .sign(key.privateKey);
  }
  return { url, tokens, close: () => server.close() };
}

export async function benchVerify(secret: string, iterations = 20_000): Promise<VerifyResult> {
  const token = await hs256Token(secret, "bench-user", "1h");
  const cached = authOf({ BETTER_AUTH_SECRET: secret });
  const cachedKeyMicros = await microsPerCall(() => verifyToken(token, cached), iterations);
  // For comparison: what importing the key on every request would cost.
  const importPerRequestMicros = await microsPerCall(() => verifyToken(token, authOf({ BETTER_AUTH_SECRET: secret })), iterations);

  const fixture = await jwksFixture();
  try {
    const jwks = authOf({ BETTER_AUTH_URL: fixture.url });
    const jwksMicros: Record<string, number> = {};
    for (const [alg, jwt] of Object.entries(fixture.tokens)) {
      jwksMicros[alg] = await microsPerCall(() => verifyToken(jwt, jwks), alg === "RS256" ? iterations / 4 : iterations);
    }
    return { cachedKeyMicros, importPerRequestMicros, jwksMicros };
  } finally {
    fixture.close();
  }
}

/** The figures as the bench prints them. */
export function describeVerify(verify: VerifyResult): string[] {
  const jwks = Object.entries(verify.jwksMicros).map(([alg, micros]) => `${alg} ${micros.toFixed(1)} µs`);
  return [
    `HS256 verification (Node, the Worker's verifyToken): ${verify.cachedKeyMicros.toFixed(1)} µs with the key cached per isolate; ${verify.importPerRequestMicros.toFixed(1)} µs if imported per request.`,
    `JWKS verification (Node, the Worker's verifyToken, key set fetched once and cached): ${jwks.join(", ")}.`,
  ];
}

export interface ConnectionCost {
  /** SELECT 1 on a connection kept open. */
  persistentMs: number;
  /** Connect, SELECT 1, disconnect: what the local Hyperdrive simulation does per request. */
  newPerQueryMs: number;
}

export async function benchConnections(url: string, iterations = 300): Promise<ConnectionCost> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  let started = performance.now();
  for (let i = 0; i < iterations; i++) await client.query("SELECT 1");
  const persistentMs = (performance.now() - started) / iterations;
  await client.end();
  started = performance.now();
  for (let i = 0; i < iterations; i++) {
    const fresh = new pg.Client({ connectionString: url });
    await fresh.connect();
    await fresh.query("SELECT 1");
    await fresh.end();
  }
  return { persistentMs, newPerQueryMs: (performance.now() - started) / iterations };
}
