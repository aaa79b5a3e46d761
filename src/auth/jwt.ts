// Bearer token → user id, verified with jose: HS256 tokens with BETTER_AUTH_SECRET, asymmetric
// tokens of Better Auth's JWT plugin with its JWKS. The token's alg picks the key source, and
// each source has its own allow-list, so neither can stand in for the other. Every failure is a
// token_invalid problem whose header is fixed text: nothing from the token reaches a header.
import { decodeProtectedHeader, errors, jwtVerify, type ProtectedHeaderParameters } from "jose";
import { type AuthConfig, required } from "../config.ts";
import { tokenInvalid, tokenMissing } from "../problems.ts";
import { JWKS_ALGORITHMS, type KeySource, SECRET_ALGORITHMS } from "./keys.ts";
import { describeLifetime } from "./lifetime.ts";

const CLOCK_TOLERANCE_SECONDS = 60;
/** The subject is stored as the owner of tasks (an indexed text column): longer ones are refused. */
const MAX_SUBJECT_LENGTH = 255;

export interface Identity {
  /** The token's subject: the user id. */
  userId: string;
  /** The token's exp, in seconds since the epoch. */
  expires: number;
}

/** The token from `Authorization: Bearer <token>`; 401 token_missing when absent or not a bearer token. */
export function bearerToken(request: Request): string {
  const header = request.headers.get("Authorization");
  if (header === null) throw tokenMissing();
  if (/^Bearer\s*$/i.test(header)) throw tokenMissing("the bearer token is missing from the Authorization header");
  const match = /^Bearer +([^\s]+) *$/i.exec(header);
  if (!match?.[1]) throw tokenMissing('the Authorization header is invalid: it must be "Bearer <token>"');
  return match[1];
}

const iso = (seconds: unknown) =>
  typeof seconds === "number" && Number.isFinite(seconds) && Math.abs(seconds) < 8.64e12
    ? new Date(Math.floor(seconds) * 1000).toISOString().replace(".000Z", "Z")
    : "an invalid time";

/** Completes "the token is invalid: …" for a jose error. Only our own words and formatted numbers. */
function reason(error: unknown): string {
  if (error instanceof errors.JWTExpired) return `it expired at ${iso(error.payload.exp)}`;
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case "nbf":
        return `it is not valid before ${iso(error.payload.nbf)}`;
      case "iss":
        return "it has the wrong issuer";
      case "aud":
        return "it has the wrong audience";
      case "exp":
        return error.reason === "missing" ? "it has no expiry (exp)" : "its expiry (exp) is not a number";
      case "iat":
        return "its issue time (iat) is not a number";
      default:
        return "one of its claims is not valid";
    }
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return "its algorithm is not accepted";
  if (error instanceof errors.JWSSignatureVerificationFailed) return "its signature does not verify";
  if (error instanceof errors.JWKSNoMatchingKey) return "its key is not in the key set";
  if (error instanceof errors.JWKSMultipleMatchingKeys) return "its key is ambiguous in the key set";
  if (error instanceof errors.JOSENotSupported) return "it uses an unsupported algorithm or header";
  return "it is malformed";
}

/** The key source for the token's alg; token_invalid when no configured source accepts that alg. */
function sourceFor(header: ProtectedHeaderParameters, auth: AuthConfig): KeySource {
  const alg = header.alg ?? "";
  let source: AuthConfig["secret"];
  if ((SECRET_ALGORITHMS as readonly string[]).includes(alg)) source = auth.secret;
  else if ((JWKS_ALGORITHMS as readonly string[]).includes(alg)) source = auth.jwks;
  if (source === undefined) throw tokenInvalid("its algorithm is not accepted here");
  return required(source);
}

/** Verifies the token and returns who it is for. Every failure is a 401 token_invalid. */
export async function verifyToken(token: string, auth: AuthConfig): Promise<Identity> {
  let header: ProtectedHeaderParameters;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    // jose throws a plain TypeError for a header that is not base64url JSON.
    throw tokenInvalid("it is malformed");
  }
  const source = sourceFor(header, auth);
  let payload: Awaited<ReturnType<typeof jwtVerify>>["payload"];
  try {
    ({ payload } = await jwtVerify(token, source.key, {
      algorithms: [...source.algorithms],
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      requiredClaims: ["exp"],
      ...(source.issuer === undefined ? {} : { issuer: source.issuer }),
      ...(source.audience === undefined ? {} : { audience: source.audience }),
    }));
  } catch (error) {
    if (error instanceof errors.JOSEError) throw tokenInvalid(reason(error));
    throw error;
  }
  const { sub, iat, exp } = payload;
  if (typeof sub !== "string" || sub === "") throw tokenInvalid("it has no subject (sub)");
  // The subject is stored as the owner of tasks: Postgres text cannot hold NUL or lone surrogates,
  // and an index entry cannot hold an unbounded string.
  if (!sub.isWellFormed() || sub.includes("\u0000")) throw tokenInvalid("its subject (sub) is not a valid user id");
  if ([...sub].length > MAX_SUBJECT_LENGTH) throw tokenInvalid(`its subject (sub) is longer than ${MAX_SUBJECT_LENGTH} characters`);
  // jose's maxTokenAge would make iat mandatory; the contract only limits it when present.
  const now = Math.floor(Date.now() / 1000);
  const longest = auth.maxTokenLifetime + CLOCK_TOLERANCE_SECONDS;
  if (iat !== undefined && now - iat > longest)
    throw tokenInvalid(`it was issued more than ${describeLifetime(auth.maxTokenLifetime)} ago`);
  if (iat !== undefined && iat - now > CLOCK_TOLERANCE_SECONDS) throw tokenInvalid(`it was issued in the future (${iso(iat)})`);
  // jwtVerify checked that exp is a number in the future (requiredClaims). A token may not live
  // longer than the maximum, counted from iat, and from now whether or not it has an iat: no exp
  // reaches the database (live_until) or an alarm (the socket's close) out of their range. The
  // tolerance also covers issuers that read the clock twice (jose's setIssuedAt, then "7d").
  const expires = typeof exp === "number" ? exp : now;
  if (expires - now > longest || (iat !== undefined && expires - iat > longest)) {
    throw tokenInvalid(`its lifetime is longer than ${describeLifetime(auth.maxTokenLifetime)}`);
  }
  return { userId: sub, expires };
}
