// Bearer token → user id, verified with jose: HS256 tokens with BETTER_AUTH_SECRET, asymmetric
// tokens of Better Auth's JWT plugin with its JWKS. The token's alg picks the key source, and
// each source has its own allow-list, so neither can stand in for the other.
import { decodeProtectedHeader, errors, jwtVerify, type ProtectedHeaderParameters } from "jose";
import { type AuthConfig, required } from "../config.ts";
import { HttpError } from "../http/problem.ts";
import { JWKS_ALGORITHMS, type KeySource, SECRET_ALGORITHMS } from "./keys.ts";

export const CLOCK_TOLERANCE_SECONDS = 60;
export const MAX_TOKEN_AGE_SECONDS = 7 * 24 * 60 * 60;

const REALM = 'Bearer realm="tasks"';

function unauthorized(detail: string, tokenSent: boolean): HttpError {
  // RFC 6750: error_description may not contain a double quote or a backslash.
  const description = detail.replace(/["\\]/g, "'");
  const challenge = tokenSent ? `${REALM}, error="invalid_token", error_description="${description}"` : REALM;
  return new HttpError(401, detail, { headers: { "WWW-Authenticate": challenge } });
}

/** The token from `Authorization: Bearer <token>`; 401 when absent or not a bearer token. */
export function bearerToken(request: Request): string {
  const header = request.headers.get("Authorization");
  if (header === null) throw unauthorized("an Authorization: Bearer token is required", false);
  const match = /^Bearer +([^\s]+) *$/i.exec(header);
  if (!match?.[1]) throw unauthorized("the Authorization header must be: Bearer <token>", false);
  return match[1];
}

function describe(error: unknown): string {
  if (error instanceof errors.JWTExpired) return "the token has expired";
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case "nbf":
        return "the token is not valid yet";
      case "iss":
        return "the token has the wrong issuer";
      case "aud":
        return "the token has the wrong audience";
      case "exp":
        return "the token has no expiry";
      default:
        return `the token's "${error.claim}" claim is invalid`;
    }
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return "the token's algorithm is not allowed";
  if (error instanceof errors.JWSSignatureVerificationFailed) return "the token's signature is invalid";
  if (error instanceof errors.JWKSNoMatchingKey) return "the token's key is not in the JWKS";
  if (error instanceof errors.JWKSMultipleMatchingKeys) return "the token's key is ambiguous in the JWKS";
  if (error instanceof errors.JOSENotSupported) return "the token uses an unsupported algorithm or header";
  return "the token is malformed";
}

/** The key source for the token's alg; 401 when no configured source accepts that alg. */
function sourceFor(header: ProtectedHeaderParameters, auth: AuthConfig): KeySource {
  const alg = header.alg ?? "";
  let source: AuthConfig["secret"];
  if ((SECRET_ALGORITHMS as readonly string[]).includes(alg)) source = auth.secret;
  else if ((JWKS_ALGORITHMS as readonly string[]).includes(alg)) source = auth.jwks;
  if (source === undefined) throw unauthorized(`the token's algorithm ${JSON.stringify(alg)} is not accepted here`, true);
  return required(source);
}

/** Verifies the token and returns its subject, the user id. Every failure is a 401. */
export async function verifyToken(token: string, auth: AuthConfig): Promise<string> {
  let payload: Awaited<ReturnType<typeof jwtVerify>>["payload"];
  let header: ProtectedHeaderParameters;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    // jose throws a plain TypeError for a header that is not base64url JSON.
    throw unauthorized("the token is malformed", true);
  }
  const source = sourceFor(header, auth);
  try {
    ({ payload } = await jwtVerify(token, source.key, {
      algorithms: [...source.algorithms],
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      requiredClaims: ["exp"],
      ...(source.issuer === undefined ? {} : { issuer: source.issuer }),
      ...(source.audience === undefined ? {} : { audience: source.audience }),
    }));
  } catch (error) {
    if (error instanceof errors.JOSEError) throw unauthorized(describe(error), true);
    throw error;
  }
  if (typeof payload.sub !== "string" || payload.sub === "") {
    throw unauthorized('the token has no "sub" claim', true);
  }
  // The subject is stored as the owner of tasks; Postgres text cannot hold NUL.
  if (!payload.sub.isWellFormed() || payload.sub.includes("\u0000")) {
    throw unauthorized('the token\'s "sub" claim is not a valid user id', true);
  }
  // jose's maxTokenAge would make iat mandatory; the contract only limits it when present.
  const now = Math.floor(Date.now() / 1000);
  if (payload.iat !== undefined && now - payload.iat > MAX_TOKEN_AGE_SECONDS + CLOCK_TOLERANCE_SECONDS) {
    throw unauthorized("the token was issued more than 7 days ago", true);
  }
  return payload.sub;
}
