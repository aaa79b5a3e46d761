// Micro-benchmarks that explain the load figures: HS256 verification with the Worker's own
// code (key imported once per isolate, as in production), and what a new database connection
// per request costs locally, which production Hyperdrive does not pay.
import { SignJWT } from "jose";
import pg from "pg";
import { verifyToken } from "../../src/auth/jwt.ts";
import { configFrom } from "../../src/config.ts";

export interface VerifyResult {
  cachedKeyMicros: number;
  importPerRequestMicros: number;
}

export async function benchVerify(secret: string, iterations = 20_000): Promise<VerifyResult> {
  const token = await new SignJWT({})
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject("bench-user")
    .setIssuedAt()
    .setExpirationTime("1h")
    .sign(new TextEncoder().encode(secret));
  const cached = configFrom({ BETTER_AUTH_SECRET: secret }).auth;
  if (!cached.ok) throw new Error(cached.reason);
  // Many verifications in flight at once, as under load: Node's WebCrypto runs each on its
  // thread pool, so a one-at-a-time loop would measure thread hops rather than cost.
  const BATCH = 64;
  const time = async (verify: () => Promise<unknown>) => {
    const run = async (count: number) => {
      for (let done = 0; done < count; done += BATCH) await Promise.all(Array.from({ length: BATCH }, verify));
    };
    await run(2000); // warm-up
    const started = performance.now();
    await run(iterations);
    return ((performance.now() - started) * 1000) / iterations;
  };
  return {
    cachedKeyMicros: await time(() => verifyToken(token, cached.value)),
    // For comparison: what importing the key on every request would cost.
    importPerRequestMicros: await time(() => {
      const fresh = configFrom({ BETTER_AUTH_SECRET: secret });
      if (!fresh.auth.ok) throw new Error(fresh.auth.reason);
      return verifyToken(token, fresh.auth.value);
    }),
  };
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
