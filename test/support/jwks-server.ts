// A JWKS endpoint the tests control: keys of every algorithm Better Auth can sign with, key
// rotation, and the ways an endpoint fails (down, hanging, erroring, not a JWKS). It counts the
// fetches, so tests can see when the Worker asked for the keys. Tokens are signed here with
// jose, as Better Auth's jwt() plugin signs them (kid header, iss and aud its base URL).
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from "jose";

export type Algorithm = "EdDSA" | "ES256" | "ES512" | "RS256" | "PS256";
export type Mode = "serve" | "hang" | "error" | "garbage";

export interface SigningKey {
  kid: string;
  alg: Algorithm;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function newKey(alg: Algorithm, kid = `key-${alg}-${crypto.randomUUID()}`): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: "sig" } };
}

export interface TokenOptions {
  /** Claims to add or override; undefined removes one (aud: undefined). */
  claims?: Record<string, unknown>;
  /** Extra protected header parameters (crit, jwk, jku, a different kid, …). */
  header?: Record<string, unknown>;
  /** Extension header names to let jose sign with (for crit). */
  crit?: Record<string, boolean>;
}

export interface JwksServer {
  /** Plays BETTER_AUTH_URL: the JWKS is served at every path, /api/auth/jwks included. */
  url: string;
  keys: SigningKey[];
  mode: Mode;
  /** The Cache-Control header of the key set's responses; undefined: none. */
  cacheControl: string | undefined;
  /** How many times the JWKS was requested. */
  fetches: number;
  /** A token for `sub` signed with `key`, with iss and aud set to the server's URL. */
  token(key: SigningKey, sub: string, options?: TokenOptions): Promise<string>;
  /** Stops answering: connections are refused from now on. */
  stop(): Promise<void>;
}

export async function startJwksServer(keys: SigningKey[]): Promise<JwksServer> {
  const hanging = new Set<ServerResponse>();
  const server: Server = createServer((_request, response) => {
    state.fetches += 1;
    switch (state.mode) {
      case "hang":
        hanging.add(response);
        return;
      case "error":
        response.writeHead(500, { "Content-Type": "text/plain" }).end("internal error");
        return;
      case "garbage":
        response.writeHead(200, { "Content-Type": "text/html" }).end("<html>not a key set</html>");
        return;
      case "serve":
        response
          .writeHead(200, {
            "Content-Type": "application/json",
            ...(state.cacheControl === undefined ? {} : { "Cache-Control": state.cacheControl }),
          })
          .end(JSON.stringify({ keys: state.keys.map((key) => key.publicJwk) }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const state: JwksServer = {
    url,
    keys,
    mode: "serve",
    cacheControl: undefined,
    fetches: 0,
    token: async (key, sub, options = {}) => {
      const now = Math.floor(Date.now() / 1000);
      const payload: JWTPayload = { iat: now, exp: now + 15 * 60, iss: url, aud: url, ...options.claims, sub };
      return new SignJWT(payload)
        .setProtectedHeader({ alg: key.alg, kid: key.kid, ...options.header })
        .sign(key.privateKey, options.crit === undefined ? {} : { crit: options.crit });
    },
    stop: async () => {
      for (const response of hanging) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return state;
}
