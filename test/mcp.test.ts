// /mcp: the API as MCP tools, driven by the official MCP SDK clients over real HTTP against the
// Worker in workerd and Postgres: the tool list and its schemas, every tool, idempotent retries,
// errors as tool errors with the API's codes, one user's tools never reaching another's data.
import type { Client } from "@modelcontextprotocol/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openApiDocument } from "../src/openapi.ts";
import { call, newUser, tokenFor, workerUrl } from "./support/api.ts";
import { ALLOWED_ORIGIN } from "./support/constants.ts";
import { callTool, connect, connectLegacy, type Json, loadOutputSchemas, ok, toolProblem } from "./support/mcp.ts";

interface Task {
  id: number;
  user_id: string;
  title: string;
  version: number;
  completed: boolean;
  list_id: number;
  parent_id: number | null;
  position: string;
  next_id: number | null;
  tags: string[];
  priority: string;
}
interface List {
  id: number;
  name: string;
  inbox: boolean;
  role: string;
  version: number;
}

type Change = { op: "upsert"; task: Task } | { op: "delete"; id: number };
const changed = (change: Change) => [change.op, change.op === "upsert" ? change.task.id : change.id];

const TOOLS = [
  "add_task",
  "add_tasks",
  "list_tasks",
  "get_task",
  "update_task",
  "complete_task",
  "move_task",
  "delete_task",
  "restore_task",
  "list_trash",
  "list_occurrences",
  "list_lists",
  "create_list",
  "update_list",
  "move_list",
  "delete_list",
  "restore_list",
  "create_invitation",
  "list_invitations",
  "revoke_invitation",
  "accept_invitation",
  "list_members",
  "update_member",
  "remove_member",
  "get_changes",
];

const clients: Client[] = [];
async function client(user: string): Promise<Client> {
  const connected = await connect(user);
  clients.push(connected);
  return connected;
}
afterAll(async () => {
  await Promise.all(clients.map((connected) => connected.close()));
});

const task = async (c: Client, args: Json) => (await ok<{ task: Task }>(c, "add_task", args)).task;
const get = async (c: Client, id: number) => (await ok<{ task: Task }>(c, "get_task", { id })).task;

describe("the tool list", () => {
  let mcp: Client;
  beforeAll(async () => {
    mcp = await client(newUser());
  });

  it("names the server and offers a tool for every part of the API", async () => {
    expect(mcp.getServerVersion()).toMatchObject({ name: "task-api" });
    expect(mcp.getNegotiatedProtocolVersion()).toBe("2026-07-28");
    const listed = await mcp.listTools();
    // The same list for every user until the next deploy: a client may keep it an hour.
    expect(listed).toMatchObject({ ttlMs: 3_600_000, cacheScope: "public" });
    const { tools } = listed;
    expect(tools.map((tool) => tool.name).sort()).toEqual([...TOOLS].sort());
    for (const tool of tools) {
      expect(tool.description?.length, tool.name).toBeGreaterThan(20);
      expect(tool.inputSchema).toMatchObject({ type: "object", additionalProperties: false });
      expect(tool.outputSchema, tool.name).toMatchObject({ type: "object" });
      // The tools act for the token's subject: no argument names a user whose data to touch.
      expect(Object.keys(tool.inputSchema.properties ?? {}), tool.name).not.toContain("user_id");
      expect(tool.annotations?.readOnlyHint, tool.name).toBe(/^(list|get)_/.test(tool.name));
    }
  });

  it("takes its schemas from the OpenAPI document (the valibot schemas), not a second definition", async () => {
    const { tools } = await mcp.listTools();
    const byName = new Map(tools.map((tool) => [tool.name, tool]));
    const document = openApiDocument() as {
      paths: Record<string, Record<string, { requestBody: { content: Record<string, { schema: Json }> }; parameters: Json[] }>>;
      components: { schemas: Record<string, Json> };
    };
    const createBody = document.paths["/api/{user_id}/tasks"]?.post?.requestBody.content["application/json"]?.schema as Json;
    const addTask = byName.get("add_task")?.inputSchema as Json;
    expect(addTask.properties).toEqual({ ...(createBody.properties as Json), idempotency_key: expect.any(Object) });
    expect(addTask.required).toEqual(createBody.required);
    const query = document.paths["/api/{user_id}/tasks"]?.get?.parameters.filter((parameter) => parameter.in === "query") ?? [];
    expect(Object.keys(byName.get("list_tasks")?.inputSchema.properties ?? {})).toEqual(query.map((parameter) => parameter.name));
    const getTask = byName.get("get_task")?.outputSchema as { properties: Json } | undefined;
    expect(getTask?.properties.task).toEqual(document.components.schemas.Task);
  });

  it("is the same for a client of the 2025 protocol (SDK 1.x, stateless Streamable HTTP)", async () => {
    const user = newUser();
    const legacy = await connectLegacy(user);
    try {
      const { tools } = await legacy.listTools();
      expect(tools.map((tool) => tool.name).sort()).toEqual([...TOOLS].sort());
      const added = await legacy.callTool({ name: "add_task", arguments: { title: "from an older client" } });
      expect(added.isError).not.toBe(true);
      expect(added.structuredContent).toMatchObject({ task: { title: "from an older client", user_id: user } });
      const listed = await legacy.callTool({ name: "list_tasks", arguments: {} });
      expect((listed.structuredContent as { tasks: Task[] }).tasks.map((t) => t.title)).toEqual(["from an older client"]);
    } finally {
      await legacy.close();
    }
  });
});

describe("the task tools", () => {
  let mcp: Client;
  const user = newUser();
  beforeAll(async () => {
    mcp = await client(user);
    await loadOutputSchemas(mcp);
  });

  it("add_task creates a task for the token's user and summarizes it", async () => {
    const result = await callTool(mcp, "add_task", { title: "Buy milk", tags: ["home"], priority: "high" });
    expect(result.structuredContent).toMatchObject({
      task: { title: "Buy milk", tags: ["home"], priority: "high", user_id: user, version: 1 },
    });
    const { id } = (result.structuredContent as { task: Task }).task;
    expect(result.content[0]?.text).toBe(`Added task ${id} "Buy milk".`);
  });

  it("add_tasks creates up to 100 tasks at once, all or none", async () => {
    const { tasks } = await ok<{ tasks: Task[] }>(mcp, "add_tasks", { tasks: [{ title: "one" }, { title: "two", tags: ["batch"] }] });
    expect(tasks.map((t) => t.title)).toEqual(["one", "two"]);
    const before = await ok<{ tasks: Task[] }>(mcp, "list_tasks", { limit: 1000 });
    await toolProblem(mcp, "add_tasks", { tasks: [{ title: "three" }, { title: "" }] }, "validation_failed", "tasks.1.title");
    await toolProblem(mcp, "add_tasks", { tasks: [] }, "validation_failed", "tasks");
    await toolProblem(
      mcp,
      "add_tasks",
      { tasks: Array.from({ length: 101 }, (_, i) => ({ title: `t${i}` })) },
      "validation_failed",
      "tasks",
    );
    const after = await ok<{ tasks: Task[] }>(mcp, "list_tasks", { limit: 1000 });
    expect(after.tasks).toHaveLength(before.tasks.length);
  });

  it("list_tasks filters and searches as GET /tasks does, and pages with next_cursor", async () => {
    const me = await client(newUser());
    await ok(me, "add_tasks", {
      tasks: [
        { title: "Call the plumber", tags: ["home"], priority: "high" },
        { title: "Pay rent", tags: ["home"] },
        { title: "Write report", tags: ["work"], due_date: "2030-01-02T09:00:00Z" },
        { title: "Plan the trip" },
        { title: "Read a book" },
      ],
    });
    const search = await ok<{ tasks: Task[] }>(me, "list_tasks", { q: "PLUMB" });
    expect(search.tasks.map((t) => t.title)).toEqual(["Call the plumber"]);
    const tagged = await ok<{ tasks: Task[] }>(me, "list_tasks", { tag: "home", sort: "title" });
    expect(tagged.tasks.map((t) => t.title)).toEqual(["Call the plumber", "Pay rent"]);
    const due = await ok<{ tasks: Task[] }>(me, "list_tasks", { due_after: "2029-12-31T00:00:00Z" });
    expect(due.tasks.map((t) => t.title)).toEqual(["Write report"]);
    const high = await ok<{ tasks: Task[] }>(me, "list_tasks", { priority: "high", status: "pending" });
    expect(high.tasks.map((t) => t.title)).toEqual(["Call the plumber"]);

    const titles: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const args: Json = { sort: "title", limit: 2, ...(cursor === null ? {} : { cursor }) };
      const page: { tasks: Task[]; next_cursor: string | null } = await ok(me, "list_tasks", args);
      titles.push(...page.tasks.map((t) => t.title));
      cursor = page.next_cursor;
      pages += 1;
    } while (cursor !== null && pages < 10);
    expect(pages).toBe(3);
    expect(titles).toEqual(["Call the plumber", "Pay rent", "Plan the trip", "Read a book", "Write report"]);

    await toolProblem(me, "list_tasks", { limit: 1001 }, "validation_failed", "limit");
    await toolProblem(me, "list_tasks", { sort: "sideways" }, "validation_failed", "sort");
    await toolProblem(me, "list_tasks", { user_id: "someone-else" }, "validation_failed", "user_id");
  });

  it("get, update, complete, move, delete and restore one task", async () => {
    const created = await task(mcp, { title: "Draft" });
    expect(await get(mcp, created.id)).toEqual(created);

    const updated = (await ok<{ task: Task }>(mcp, "update_task", { id: created.id, title: "Final", tags: ["doc"] })).task;
    expect(updated).toMatchObject({ id: created.id, title: "Final", tags: ["doc"], version: 2 });
    await toolProblem(mcp, "update_task", { id: created.id, title: "" }, "validation_failed", "title");
    await toolProblem(mcp, "update_task", { id: created.id, colour: "red" }, "validation_failed", "colour");
    const two = await toolProblem(mcp, "update_task", { id: created.id, title: "", priority: "urgent" }, "validation_failed", "priority");
    expect(two.detail).toMatch(/^title .* \(and 1 more in errors\)$/);
    await toolProblem(mcp, "update_task", { id: created.id, title: "stale", if_match: '"1"' }, "precondition_failed");
    await toolProblem(mcp, "update_task", { id: "forty-two", title: "x" }, "validation_failed", "id");

    const completed = await callTool(mcp, "complete_task", { id: created.id });
    expect(completed.structuredContent).toMatchObject({ task: { completed: true, version: 3 } });
    expect(completed.content[0]?.text).toBe(`Completed task ${created.id} "Final" (completed).`);
    // Completing twice leaves it completed (no toggle for an agent's retry to undo).
    expect((await ok<{ task: Task }>(mcp, "complete_task", { id: created.id })).task.completed).toBe(true);
    expect((await ok<{ task: Task }>(mcp, "complete_task", { id: created.id, completed: false })).task.completed).toBe(false);

    const parent = await task(mcp, { title: "Parent" });
    const moved = (await ok<{ task: Task }>(mcp, "move_task", { id: created.id, parent_id: parent.id })).task;
    expect(moved).toMatchObject({ parent_id: parent.id, list_id: parent.list_id });
    await toolProblem(mcp, "move_task", { id: created.id, after_id: 1, before_id: 2 }, "validation_failed");

    const deleted = await callTool(mcp, "delete_task", { id: parent.id });
    expect(deleted.structuredContent).toEqual({ id: parent.id });
    await toolProblem(mcp, "get_task", { id: parent.id }, "task_not_found");
    const trash = await ok<{ entries: { type: string; task: Task }[] }>(mcp, "list_trash", {});
    expect(trash.entries.map((entry) => entry.task.id)).toEqual([parent.id]);
    const restored = (await ok<{ task: Task }>(mcp, "restore_task", { id: parent.id })).task;
    expect(restored.id).toBe(parent.id);
    // The subtask went to the trash with its parent and came back with it.
    expect((await get(mcp, created.id)).parent_id).toBe(parent.id);
  });

  it("list_occurrences shows a recurring task's next dates", async () => {
    const recurring = await task(mcp, {
      title: "Standup",
      due_date: "2030-03-25T08:00:00Z",
      recurrence: { rule: "FREQ=DAILY", time_zone: "Europe/Berlin", anchor: "due" },
    });
    const { occurrences } = await ok<{ occurrences: string[] }>(mcp, "list_occurrences", { id: recurring.id, limit: 3 });
    // The next three after this one, at 09:00 Berlin (CET, before the change to summer time).
    expect(occurrences).toEqual(["2030-03-26T08:00:00.000Z", "2030-03-27T08:00:00.000Z", "2030-03-28T08:00:00.000Z"]);
    const done = (await ok<{ task: Task }>(mcp, "complete_task", { id: recurring.id })).task;
    expect(done.next_id).toEqual(expect.any(Number));
  });
});

describe("the list and sharing tools", () => {
  it("create, rename, reorder, delete and restore lists", async () => {
    const mcp = await client(newUser());
    await loadOutputSchemas(mcp);
    const { lists: initial } = await ok<{ lists: List[] }>(mcp, "list_lists");
    expect(initial.map((list) => list.inbox)).toEqual([true]);
    const errands = (await ok<{ list: List }>(mcp, "create_list", { name: "Errands" })).list;
    const work = (await ok<{ list: List }>(mcp, "create_list", { name: "Work", color: "#0b8043" })).list;
    expect((await ok<{ list: List }>(mcp, "update_list", { list_id: errands.id, name: "Shopping" })).list.name).toBe("Shopping");
    await ok(mcp, "move_list", { list_id: work.id, before_id: errands.id });
    const { lists } = await ok<{ lists: List[] }>(mcp, "list_lists");
    expect(lists.map((list) => list.name)).toEqual(["Inbox", "Work", "Shopping"]);

    const inList = await task(mcp, { title: "Milk", list_id: errands.id });
    expect((await ok(mcp, "delete_list", { list_id: errands.id })) as Json).toEqual({ id: errands.id });
    await toolProblem(mcp, "get_task", { id: inList.id }, "task_not_found");
    await ok(mcp, "restore_list", { list_id: errands.id });
    expect((await get(mcp, inList.id)).list_id).toBe(errands.id);
    await toolProblem(mcp, "delete_list", { list_id: initial[0]?.id }, "inbox_not_deletable");
    await toolProblem(mcp, "update_list", { list_id: 0, name: "x" }, "validation_failed", "list_id");
  });

  it("invite, accept, list members, change a role, remove a member", async () => {
    const owner = newUser();
    const member = newUser();
    const ownerMcp = await client(owner);
    const memberMcp = await client(member);
    await loadOutputSchemas(ownerMcp);
    const shared = (await ok<{ list: List }>(ownerMcp, "create_list", { name: "Household" })).list;

    const invitation = await callTool(ownerMcp, "create_invitation", { list_id: shared.id });
    const { token, id: invitationId, role } = invitation.structuredContent as { token: string; id: number; role: string };
    expect(role).toBe("editor");
    expect(invitation.content[0]?.text).toContain(token);
    const second = await ok<{ id: number }>(ownerMcp, "create_invitation", { list_id: shared.id, role: "viewer" });
    const pending = await ok<{ invitations: { id: number }[] }>(ownerMcp, "list_invitations", { list_id: shared.id });
    expect(pending.invitations.map((i) => i.id).sort()).toEqual([invitationId, second.id].sort());
    expect(await ok(ownerMcp, "revoke_invitation", { list_id: shared.id, invitation_id: second.id })).toEqual({ id: second.id });
    await toolProblem(ownerMcp, "revoke_invitation", { list_id: shared.id, invitation_id: second.id }, "invitation_not_found");

    const joined = (await ok<{ list: List }>(memberMcp, "accept_invitation", { token })).list;
    expect(joined).toMatchObject({ id: shared.id, role: "editor", shared: true });
    await toolProblem(memberMcp, "accept_invitation", { token }, "invitation_used");
    const added = await task(memberMcp, { title: "Buy bread", list_id: shared.id });
    expect(added.user_id).toBe(owner);
    const seen = await ok<{ tasks: Task[] }>(ownerMcp, "list_tasks", { list_id: shared.id });
    expect(seen.tasks.map((t) => t.title)).toEqual(["Buy bread"]);

    const { members } = await ok<{ members: { user_id: string; role: string }[] }>(memberMcp, "list_members", { list_id: shared.id });
    expect(members.map((m) => [m.user_id, m.role])).toEqual([
      [owner, "owner"],
      [member, "editor"],
    ]);
    await toolProblem(memberMcp, "update_member", { list_id: shared.id, member_id: member, role: "owner" }, "list_owner_only");
    expect(await ok(ownerMcp, "update_member", { list_id: shared.id, member_id: member, role: "viewer" })).toMatchObject({
      role: "viewer",
    });
    await toolProblem(memberMcp, "add_task", { title: "not allowed", list_id: shared.id }, "list_read_only");

    expect(await ok(ownerMcp, "remove_member", { list_id: shared.id, member_id: member })).toEqual({
      list_id: shared.id,
      member_id: member,
    });
    await toolProblem(ownerMcp, "remove_member", { list_id: shared.id, member_id: member }, "member_not_found");
    await toolProblem(memberMcp, "get_task", { id: added.id }, "task_not_found");
    await toolProblem(memberMcp, "list_members", { list_id: shared.id }, "list_not_found");
  });

  it("get_changes gives the full state, then what changed since its cursor", async () => {
    const mcp = await client(newUser());
    await loadOutputSchemas(mcp);
    const first = await task(mcp, { title: "first" });
    const full = await ok<{ changes: Change[]; lists: unknown[]; cursor: string; has_more: boolean }>(mcp, "get_changes");
    expect(full.changes.map(changed)).toEqual([["upsert", first.id]]);
    expect(full.lists).toHaveLength(1);
    const second = await task(mcp, { title: "second" });
    await ok(mcp, "delete_task", { id: first.id });
    const since = await ok<{ changes: Change[] }>(mcp, "get_changes", { since: full.cursor });
    expect(since.changes.map(changed)).toEqual([
      ["upsert", second.id],
      ["delete", first.id],
    ]);
    await toolProblem(mcp, "get_changes", { since: "not a cursor" }, "validation_failed", "since");
  });
});

describe("retries", () => {
  it("an add_tasks retried with its idempotency_key creates the tasks once and returns them again", async () => {
    const mcp = await client(newUser());
    const key = crypto.randomUUID();
    const args = { tasks: [{ title: "a" }, { title: "b" }], idempotency_key: key };
    const first = await callTool(mcp, "add_tasks", args);
    const retry = await callTool(mcp, "add_tasks", args);
    expect(retry.structuredContent).toEqual(first.structuredContent);
    expect(retry.content[0]?.text).toContain("a retry");
    expect((await ok<{ tasks: Task[] }>(mcp, "list_tasks")).tasks).toHaveLength(2);
    await toolProblem(mcp, "add_tasks", { ...args, tasks: [{ title: "c" }] }, "idempotency_key_reused");
    await toolProblem(mcp, "add_task", { title: "x", idempotency_key: "line\nbreak" }, "validation_failed", "idempotency_key");
    await toolProblem(mcp, "add_task", { title: "x", idempotency_key: 42 }, "validation_failed", "idempotency_key");
  });

  it("every task and list write takes an idempotency_key: a retried update, delete or create changes nothing again", async () => {
    const mcp = await client(newUser());
    const created = await task(mcp, { title: "v1", idempotency_key: "create-1" });
    expect(await task(mcp, { title: "v1", idempotency_key: "create-1" })).toEqual(created);
    const update = { id: created.id, title: "v2", idempotency_key: "update-1" };
    expect((await ok<{ task: Task }>(mcp, "update_task", update)).task.version).toBe(2);
    expect((await ok<{ task: Task }>(mcp, "update_task", update)).task.version).toBe(2);
    expect((await get(mcp, created.id)).version).toBe(2);
    const remove = { id: created.id, idempotency_key: "delete-1" };
    expect(await ok(mcp, "delete_task", remove)).toEqual({ id: created.id });
    expect(await ok(mcp, "delete_task", remove)).toEqual({ id: created.id });
    const list = await ok<{ list: List }>(mcp, "create_list", { name: "Once", idempotency_key: "list-1" });
    expect(await ok(mcp, "create_list", { name: "Once", idempotency_key: "list-1" })).toEqual(list);
    expect((await ok<{ lists: List[] }>(mcp, "list_lists")).lists.map((l) => l.name)).toEqual(["Inbox", "Once"]);
    const { tools } = await mcp.listTools();
    // Every write but making an invitation (its token is shown once and never stored: a replay could not show it).
    const writes = tools.filter((tool) => tool.annotations?.readOnlyHint === false && tool.name !== "create_invitation");
    expect(writes).toHaveLength(16);
    for (const tool of writes) {
      expect(Object.keys(tool.inputSchema.properties ?? {}), tool.name).toContain("idempotency_key");
      expect(tool.annotations?.idempotentHint, tool.name).toBe(true);
    }
  });

  it("so does every sharing write but making an invitation: a retried accept, role change, removal or revoke", async () => {
    const owner = newUser();
    const member = newUser();
    const ownerMcp = await client(owner);
    const memberMcp = await client(member);
    const list = (await ok<{ list: List }>(ownerMcp, "create_list", { name: "Retried" })).list;
    const { token } = await ok<{ token: string }>(ownerMcp, "create_invitation", { list_id: list.id });
    const join = { token, idempotency_key: "join" };
    const joined = await callTool(memberMcp, "accept_invitation", join);
    const rejoined = await callTool(memberMcp, "accept_invitation", join);
    expect(rejoined.structuredContent).toEqual(joined.structuredContent);
    expect(rejoined.content[0]?.text).toContain("a retry");
    const demote = { list_id: list.id, member_id: member, role: "viewer", idempotency_key: "demote" };
    expect(await ok(ownerMcp, "update_member", demote)).toEqual(await ok(ownerMcp, "update_member", demote));
    const { id: invitation } = await ok<{ id: number }>(ownerMcp, "create_invitation", { list_id: list.id });
    const revoke = { list_id: list.id, invitation_id: invitation, idempotency_key: "revoke" };
    expect(await ok(ownerMcp, "revoke_invitation", revoke)).toEqual(await ok(ownerMcp, "revoke_invitation", revoke));
    const remove = { list_id: list.id, member_id: member, idempotency_key: "remove" };
    expect(await ok(ownerMcp, "remove_member", remove)).toEqual(await ok(ownerMcp, "remove_member", remove));
    const { members } = await ok<{ members: { user_id: string }[] }>(ownerMcp, "list_members", { list_id: list.id });
    expect(members.map((m) => m.user_id)).toEqual([owner]);
    // Once the member has left, their retried accept shows nothing of the list: a 404.
    await toolProblem(memberMcp, "accept_invitation", join, "list_not_found");
  });
});

describe("isolation", () => {
  it("another user's task or list is invisible to every tool, and stays unchanged", async () => {
    const alice = newUser();
    const aliceMcp = await client(alice);
    const malloryMcp = await client(newUser());
    const secret = await task(aliceMcp, { title: "Alice's secret" });
    const list = (await ok<{ list: List }>(aliceMcp, "create_list", { name: "Alice's list" })).list;

    await toolProblem(malloryMcp, "get_task", { id: secret.id }, "task_not_found");
    await toolProblem(malloryMcp, "update_task", { id: secret.id, title: "pwned" }, "task_not_found");
    await toolProblem(malloryMcp, "complete_task", { id: secret.id }, "task_not_found");
    await toolProblem(malloryMcp, "move_task", { id: secret.id, list_id: list.id }, "task_not_found");
    await toolProblem(malloryMcp, "delete_task", { id: secret.id }, "task_not_found");
    await toolProblem(malloryMcp, "list_occurrences", { id: secret.id }, "task_not_found");
    await toolProblem(malloryMcp, "add_task", { title: "into Alice's list", list_id: list.id }, "validation_failed", "list_id");
    await toolProblem(malloryMcp, "update_list", { list_id: list.id, name: "pwned" }, "list_not_found");
    await toolProblem(malloryMcp, "delete_list", { list_id: list.id }, "list_not_found");
    await toolProblem(malloryMcp, "create_invitation", { list_id: list.id }, "list_not_found");
    await toolProblem(malloryMcp, "list_members", { list_id: list.id }, "list_not_found");
    // A user_id argument names nobody: the task is the caller's (the field is read-only in a body).
    const own = await task(malloryMcp, { title: "mine", user_id: alice });
    expect(own.user_id).not.toBe(alice);
    const renamed = (await ok<{ task: Task }>(malloryMcp, "update_task", { id: own.id, title: "still mine", user_id: alice })).task;
    expect(renamed).toMatchObject({ title: "still mine", user_id: own.user_id });
    const { tasks } = await ok<{ tasks: Task[] }>(malloryMcp, "list_tasks", { q: "secret" });
    expect(tasks).toEqual([]);
    const { changes } = await ok<{ changes: Change[] }>(malloryMcp, "get_changes");
    expect(changes.map(changed)).toEqual([["upsert", own.id]]);

    expect(await get(aliceMcp, secret.id)).toEqual(secret);
    expect((await ok<{ lists: List[] }>(aliceMcp, "list_lists")).lists.map((l) => l.name)).toEqual(["Inbox", "Alice's list"]);
  });
});

describe("arguments that could steer a tool's REST call", () => {
  it('refuses "." and ".." as ids, which a URL would resolve (remove_member of ".." deleting the list)', async () => {
    const mcp = await client(newUser());
    const list = (await ok<{ list: List }>(mcp, "create_list", { name: "Keep me" })).list;
    await toolProblem(mcp, "remove_member", { list_id: list.id, member_id: ".." }, "validation_failed", "member_id");
    await toolProblem(mcp, "update_member", { list_id: list.id, member_id: ".", role: "viewer" }, "validation_failed", "member_id");
    await toolProblem(mcp, "revoke_invitation", { list_id: "..", invitation_id: ".." }, "validation_failed", "list_id");
    await toolProblem(mcp, "get_task", { id: ".." }, "validation_failed", "id");
    expect((await ok<{ lists: List[] }>(mcp, "list_lists")).lists.map((l) => l.name)).toEqual(["Inbox", "Keep me"]);
  });

  it("never takes a field from an argument named __proto__ (the SDK makes it the arguments' prototype)", async () => {
    const mcp = await client(newUser());
    const created = await task(mcp, { title: "plain" });
    const args = JSON.parse(`{"id": ${created.id}, "__proto__": {"title": "from the prototype"}}`) as Json;
    // No field of its own to change: refused as an empty change.
    await toolProblem(mcp, "update_task", args, "validation_failed");
    const added = await task(mcp, JSON.parse('{"title": "x", "__proto__": {"priority": "high", "user_id": "someone"}}') as Json);
    expect(added).toMatchObject({ title: "x", priority: "medium" });
    expect((await get(mcp, created.id)).title).toBe("plain");
  });
});

describe("HTTP: authentication, metadata, methods and malformed messages", () => {
  it("lets an allowed origin's browser agent send MCP's headers (CORS preflight)", async () => {
    const preflight = await call("/mcp", {
      method: "OPTIONS",
      token: null,
      headers: {
        Origin: ALLOWED_ORIGIN,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type, mcp-protocol-version, mcp-method, mcp-name",
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("Allow")).toBe("POST, OPTIONS");
    const allowed = (preflight.headers.get("Access-Control-Allow-Headers") ?? "").toLowerCase().split(/,\s*/);
    expect(allowed).toEqual(expect.arrayContaining(["authorization", "content-type", "mcp-protocol-version", "mcp-method", "mcp-name"]));
    const refused = await call("/mcp", { method: "POST", token: null, headers: { Origin: ALLOWED_ORIGIN }, body: {} });
    expect(refused.headers.get("Access-Control-Expose-Headers")).toContain("WWW-Authenticate");
  });

  /** A POST of one message, checked against the OpenAPI document like every call() of the suite. */
  const rpc = (body: unknown, headers: Record<string, string> = {}) => {
    const { Authorization, ...rest } = headers;
    return call("/mcp", {
      method: "POST",
      token: Authorization === undefined ? null : Authorization.replace(/^Bearer /, ""),
      headers: { "Content-Type": "application/json", Accept: "application/json, text/event-stream", ...rest },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
  };
  /** The JSON-RPC answer: a JSON body, or the one message of a server-sent event stream (the 2025 transport). */
  async function rpcAnswer(response: Response): Promise<unknown> {
    const text = await response.text();
    if (!(response.headers.get("Content-Type") ?? "").startsWith("text/event-stream")) return JSON.parse(text);
    const data = text.split("\n").find((line) => line.startsWith("data: "));
    return JSON.parse(data?.slice("data: ".length) ?? "null");
  }
  const listTools = { jsonrpc: "2.0", id: 1, method: "tools/list", params: {} };
  const resourceMetadata = () => `resource_metadata="${workerUrl()}/.well-known/oauth-protected-resource/mcp"`;

  it("answers 401 before any tool runs, with a challenge that names the resource metadata", async () => {
    const missing = await rpc(listTools);
    expect(missing.status).toBe(401);
    expect(missing.headers.get("WWW-Authenticate")).toBe(`Bearer realm="tasks", ${resourceMetadata()}`);
    expect(await missing.json()).toMatchObject({ code: "token_missing" });

    const user = newUser();
    for (const token of [
      await tokenFor(user, { secret: "a secret that is not the server's, 32+ chars" }),
      await tokenFor(user, { expiresIn: -3600 }),
      "not.a.jwt",
    ]) {
      const refused = await rpc(listTools, { Authorization: `Bearer ${token}` });
      expect(refused.status).toBe(401);
      expect(refused.headers.get("WWW-Authenticate")).toBe(`Bearer realm="tasks", error="invalid_token", ${resourceMetadata()}`);
      expect(await refused.json()).toMatchObject({ code: "token_invalid" });
    }
    // The SDK client refuses to connect.
    await expect(connect(user, { token: await tokenFor(user, { expiresIn: -3600 }) })).rejects.toThrow(/401|nauthorized/);
    // A forged token created nothing.
    const mcp = await client(user);
    expect((await ok<{ tasks: unknown[] }>(mcp, "list_tasks")).tasks).toEqual([]);
  });

  it("serves OAuth 2.0 Protected Resource Metadata (RFC 9728) for /mcp and for the origin", async () => {
    const forMcp = await call("/.well-known/oauth-protected-resource/mcp");
    expect(forMcp.status).toBe(200);
    expect(forMcp.headers.get("Content-Type")).toMatch(/^application\/json/);
    expect(await forMcp.json()).toEqual({
      resource: `${workerUrl()}/mcp`,
      bearer_methods_supported: ["header"],
      resource_name: "Task API",
      resource_documentation: `${workerUrl()}/docs`,
    });
    const forOrigin = (await (await call("/.well-known/oauth-protected-resource")).json()) as Json;
    expect(forOrigin.resource).toBe(workerUrl());
  });

  it("answers GET and DELETE (no server stream, no sessions) with 405 and Allow", async () => {
    for (const method of ["GET", "DELETE", "PUT"]) {
      const response = await call("/mcp", { method, token: await tokenFor(newUser()) });
      expect(response.status, method).toBe(405);
      expect(response.headers.get("Allow")).toBe("POST, OPTIONS");
      expect(await response.json()).toMatchObject({ code: "method_not_allowed" });
    }
  });

  it("answers a malformed JSON-RPC message with a JSON-RPC error, never a 5xx", async () => {
    const auth = { Authorization: `Bearer ${await tokenFor(newUser())}` };
    const cases: [string, unknown, number][] = [
      ["not JSON", "{not json", -32700],
      ["not a JSON-RPC message", { hello: "world" }, -32600],
      ["an unknown method", { jsonrpc: "2.0", id: 1, method: "tasks/explode", params: {} }, -32601],
      ["an unknown tool", { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "drop_database", arguments: {} } }, -32602],
      [
        "arguments that are not an object",
        { jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "list_tasks", arguments: "all" } },
        -32602,
      ],
    ];
    for (const [name, body, code] of cases) {
      const response = await rpc(body, { ...auth, "MCP-Protocol-Version": "2025-06-18" });
      expect(response.status, name).toBeLessThan(500);
      const answer = (await rpcAnswer(response)) as { jsonrpc: string; error?: { code: number } };
      expect(answer.jsonrpc, name).toBe("2.0");
      expect(answer.error?.code, name).toBe(code);
    }
    const wrongType = await rpc(JSON.stringify(listTools), { ...auth, "Content-Type": "text/plain" });
    expect(wrongType.status).toBe(415);
    const huge = await rpc({ ...listTools, padding: "x".repeat(1024 * 1024) }, auth);
    expect(huge.status).toBe(413);
  });
});
