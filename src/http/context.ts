// What the router carries along with each request: a strict type, so a misspelt property does
// not type-check (itty's IRequest would accept any name).
import type { IRequestStrict } from "itty-router";
import type { Config } from "../config.ts";

export type AppRequest = IRequestStrict & {
  /** The request id: the client's X-Request-Id when sane, else generated. */
  id: string;
  /** When the Worker began handling it (ms since epoch), for the log line. */
  startedAt: number;
  config: Config;
};

/** A request that passed `authenticate`: its token is valid and its subject owns the path. */
export type AuthedRequest = AppRequest & {
  userId: string;
  /** The token's `exp` (seconds since epoch), for connections that must end when it does. */
  tokenExpires: number;
};
