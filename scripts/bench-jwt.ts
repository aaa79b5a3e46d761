// npm run bench:jwt: the token verification micro-benchmark of `npm run bench` on its own
// (seconds, no database): HS256 with the secret, and EdDSA, ES256, RS256 with a cached JWKS.
import { benchVerify, describeVerify } from "./bench/micro.ts";

const SECRET = "bench-secret-that-is-at-least-32-characters-long";
for (const line of describeVerify(await benchVerify(SECRET))) console.log(line);
