// npm run token -- <user_id>: prints a 7-day HS256 token for <user_id>, signed with the local
// BETTER_AUTH_SECRET (from the environment, else .dev.vars, else .dev.vars.example).
import { SignJWT } from "jose";
import { readDevVars } from "./lib/dev-vars.ts";

const userId = process.argv[2];
if (!userId || userId.startsWith("-")) {
  console.error("Usage: npm run token -- <user_id>");
  process.exit(1);
}
const secret =
  process.env.BETTER_AUTH_SECRET ?? readDevVars(".dev.vars").BETTER_AUTH_SECRET ?? readDevVars(".dev.vars.example").BETTER_AUTH_SECRET;
if (!secret) {
  console.error("No BETTER_AUTH_SECRET in the environment, .dev.vars or .dev.vars.example.");
  process.exit(1);
}
const token = await new SignJWT({})
  .setProtectedHeader({ alg: "HS256", typ: "JWT" })
  .setSubject(userId)
  .setIssuedAt()
  .setExpirationTime("7d")
  .sign(new TextEncoder().encode(secret));
console.log(token);
