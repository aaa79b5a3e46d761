// What the router carries along with each request.
import type { IRequest } from "itty-router";
import type { Config } from "../config.ts";

export type AppRequest = IRequest & {
  /** The request id: the client's X-Request-Id when sane, else generated. */
  id: string;
  /** When the Worker began handling it (ms since epoch), for the log line. */
  startedAt: number;
  config: Config;
  /** The authenticated user, set by withOwner on /api routes. */
  userId: string;
};
