import { SignJWT } from "jose";

/**
 * An HS256 token for `user`, signed with `secret` the way a frontend using Better Auth's shared
 * secret mints one: `expires` is a jose time span ("15m", "2h", "7d").
 */
export function hs256Token(secret: string, user: string, expires = "2h"): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(user)
    .setIssuedAt()
    .setExpirationTime(expires)
    .sign(new TextEncoder().encode(secret));
}
