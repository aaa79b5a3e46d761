// Sharing a list: invitations (made, listed and revoked by the owner; accepted by anyone holding
// the token) and members (read by every member; roles changed and members removed by the owner; a
// member may leave). Every write is an operation of task_write, so that membership and roles are
// decided in the same statement as the write, under the locks of everyone it concerns.
import * as lists from "../db/lists.ts";
import type * as tasks from "../db/tasks.ts";
import type { Env } from "../env.ts";
import { readJsonObject, requireJsonObject } from "../http/body.ts";
import type { AuthedRequest } from "../http/context.ts";
import { idempotencyKey } from "../http/idempotency.ts";
import { jsonText } from "../http/json.ts";
import { validate } from "../http/validate.ts";
import { invalid, listNotFound, listOwnerOnly } from "../problems.ts";
import { AcceptInput, INVITATION_DAYS, InvitationInput, MemberPatch } from "../schemas/sharing.ts";
import { dbFor, writeTasks } from "./database.ts";
import { listId } from "./lists.ts";
import { failureProblem } from "./outcomes.ts";

/** 256 random bits as a token, and the SHA-256 of it (hex), which is all the database keeps. */
async function newToken(): Promise<{ token: string; hash: string }> {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const token = `inv_${btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "")}`;
  return { token, hash: await tokenHash(token) };
}

async function tokenHash(token: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token)));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** The {member_id} of the path: a user id, percent-encoded like {user_id}. */
function memberId(request: AuthedRequest): string {
  let id = "";
  try {
    id = decodeURIComponent(request.params.member_id ?? "");
  } catch {
    // Not valid percent-encoding: refused below.
  }
  if (id === "" || id.length > 255) throw invalid("member_id", "must be a user id (percent-encoded)");
  return id;
}

/** The {invitation_id} of the path: a positive integer, else 422. */
function invitationId(request: AuthedRequest): number {
  const text = request.params.invitation_id ?? "";
  const id = /^[1-9][0-9]{0,15}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(id)) throw invalid("invitation_id", `must be a positive integer up to ${Number.MAX_SAFE_INTEGER}`);
  return id;
}

/**
 * The one result of a sharing write, or its failure as the problem it stands for, and the headers
 * of its answer. Every sharing write takes an Idempotency-Key (the operation is what the key's hash
 * covers) but making an invitation (`keyed: false`): its token is in the first answer only.
 */
async function writeOne(request: AuthedRequest, env: Env, ctx: ExecutionContext, operation: tasks.Operation, keyed = true) {
  const idempotent = keyed ? { key: idempotencyKey(request), body: operation } : undefined;
  const outcome = await writeTasks(request, env, ctx, [operation], idempotent);
  if (outcome.kind === "failed") throw failureProblem(outcome.reason, outcome.path, { list: true, prefix: "" });
  const [only] = outcome.results;
  if (only === undefined) throw new Error("task_write answered no result");
  const headers: Record<string, string> = outcome.replayed ? { "Idempotent-Replayed": "true" } : {};
  return { result: only, headers };
}

/** POST …/lists/{list_id}/invitations: the owner makes an invitation; its token is in this answer only. */
export async function createInvitation(request: AuthedRequest, env: Env, ctx: ExecutionContext): Promise<Response> {
  const list = listId(request);
  const { role } = validate(InvitationInput, (await readJsonObject(request)) ?? {});
  const { token, hash } = await newToken();
  const expires = new Date(Date.now() + INVITATION_DAYS * 86_400_000).toISOString();
  const operation: tasks.Operation = { op: "invitation_create", list_id: list, role, token_hash: hash, expires_at: expires };
  const { result } = await writeOne(request, env, ctx, operation, false);
  if (result.status === 204) throw new Error("task_write made no invitation");
  const invitation = JSON.parse(result.task.json) as Record<string, unknown>;
  return jsonText(JSON.stringify({ ...invitation, token }), { status: 201 });
}

/** GET …/lists/{list_id}/invitations: the pending ones, newest first (the owner's only). */
export async function listInvitations(request: AuthedRequest, _env: unknown, ctx: ExecutionContext): Promise<Response> {
  const found = await lists.readInvitations(dbFor(request, ctx), request.userId, listId(request));
  if (found.kind === "not_found") throw listNotFound();
  if (found.kind === "owner_only") throw listOwnerOnly();
  return jsonText(found.json);
}

/** DELETE …/lists/{list_id}/invitations/{invitation_id}: revoked; accepting it is then a 410. */
export async function revokeInvitation(request: AuthedRequest, env: Env, ctx: ExecutionContext): Promise<Response> {
  const { headers } = await writeOne(request, env, ctx, {
    op: "invitation_revoke",
    list_id: listId(request),
    id: invitationId(request),
  });
  return new Response(null, { status: 204, headers });
}

/** POST /invitations/accept: the caller joins the list with the invitation's role; answers the list. */
export async function acceptInvitation(request: AuthedRequest, env: Env, ctx: ExecutionContext): Promise<Response> {
  const { token } = validate(AcceptInput, await requireJsonObject(request));
  const { result, headers } = await writeOne(request, env, ctx, { op: "invitation_accept", token_hash: await tokenHash(token) });
  if (result.status === 204) throw new Error("task_write joined no list");
  return jsonText(result.task.json, { headers });
}

/** GET …/lists/{list_id}/members: every member, the owner first (for any member). */
export async function listMembers(request: AuthedRequest, _env: unknown, ctx: ExecutionContext): Promise<Response> {
  const found = await lists.readMembers(dbFor(request, ctx), request.userId, listId(request));
  if (found.kind !== "found") throw listNotFound();
  return jsonText(found.json);
}

/** PATCH …/members/{member_id}: a new role (the owner's call); owner transfers the list. */
export async function updateMember(request: AuthedRequest, env: Env, ctx: ExecutionContext): Promise<Response> {
  const list = listId(request);
  const member = memberId(request);
  const { role } = validate(MemberPatch, await requireJsonObject(request));
  const { result, headers } = await writeOne(request, env, ctx, { op: "member_update", list_id: list, user_id: member, role });
  if (result.status === 204) throw new Error("task_write changed no member");
  return jsonText(result.task.json, { headers });
}

/** DELETE …/members/{member_id}: the owner removes a member, or a member leaves (their own id). */
export async function removeMember(request: AuthedRequest, env: Env, ctx: ExecutionContext): Promise<Response> {
  const { headers } = await writeOne(request, env, ctx, { op: "member_remove", list_id: listId(request), user_id: memberId(request) });
  return new Response(null, { status: 204, headers });
}
