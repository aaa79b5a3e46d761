// The database a route's statements go to: this deployment's settings (config.ts), over a
// connection of this request (db/client.ts).
import { required } from "../config.ts";
import { connectTo, type Db } from "../db/client.ts";
import type { AuthedRequest } from "../http/context.ts";

export const dbFor = (request: AuthedRequest, ctx: ExecutionContext): Db => connectTo(required(request.config.database), ctx);
