// Shared lists (docs/api.md "Sharing"): invitations, roles, members, transfers, and what each
// member sees, reads and syncs. Every rule against the real Worker and Postgres, on both transports.
import { createHash } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { RunningWorker } from "../scripts/lib/worker.ts";
import { call, createTask, expectProblem, newUser, sleep, type Task } from "./support/api.ts";
import { TEST_SECRET } from "./support/constants.ts";
import { suiteDatabase } from "./support/database.ts";
import { createList, expectJson, inboxOf, type List, readLists } from "./support/lists.ts";
import { closeAll, open } from "./support/live.ts";
import {
  accept,
  type ChangesPage,
  expectSameTasks,
  feedOf,
  type Invitation,
  invitationToken,
  invite,
  type Member,
  members,
  removeMember,
  setRole,
  share,
  sharedList,
  visibleTasks,
} from "./support/sharing.ts";
import { startTestWorker } from "./support/transport.ts";

const db = suiteDatabase();

const getTask = (user: string, id: number) => call(`/api/${user}/tasks/${id}`);

describe("invitations", () => {
  it("the owner makes one: 201 with a 256-bit token shown once, an editor role by default, valid 7 days; only its SHA-256 is stored", async () => {
    const owner = newUser();
    const list = await createList(owner, { name: "Groceries" });
    const before = Date.now();
    const invitation = await expectJson<Invitation>(await invite(owner, list.id), 201);
    expect(invitation).toEqual({
      id: expect.any(Number),
      list_id: list.id,
      role: "editor",
      created_by: owner,
      created_at: expect.any(String),
      expires_at: expect.any(String),
      token: expect.stringMatching(/^inv_[A-Za-z0-9_-]{43}$/),
    });
    const lifetime = Date.parse(invitation.expires_at) - before;
    expect(lifetime).toBeGreaterThan(7 * 86_400_000 - 60_000);
    expect(lifetime).toBeLessThan(7 * 86_400_000 + 60_000);
    const { rows } = await db.query<{ token_hash: Buffer }>("SELECT token_hash FROM list_invitations WHERE id = $1", [invitation.id]);
    expect(rows[0]?.token_hash.toString("hex")).toBe(
      createHash("sha256")
        .update(invitation.token ?? "")
        .digest("hex"),
    );
    const stored = JSON.stringify((await db.query("SELECT * FROM list_invitations WHERE id = $1", [invitation.id])).rows);
    expect(stored).not.toContain((invitation.token ?? "").slice(4));
    // Listed without its token; two invitations never share one.
    const second = await expectJson<Invitation>(await invite(owner, list.id, "viewer"), 201);
    expect(second.token).not.toBe(invitation.token);
    const pending = await expectJson<Invitation[]>(await call(`/api/${owner}/lists/${list.id}/invitations`));
    expect(pending.map((i) => [i.id, i.role, "token" in i])).toEqual([
      [second.id, "viewer", false],
      [invitation.id, "editor", false],
    ]);
  });

  it("accepting makes the caller a member with its role; the list and its tasks then reach them under their own path", async () => {
    const owner = newUser();
    const viewer = newUser();
    const list = await createList(owner, { name: "Trip" });
    const task = await createTask(owner, { title: "passports", list_id: list.id });
    const seen = await expectJson<List>(await accept(viewer, await invitationToken(owner, list.id, "viewer")));
    expect(seen).toMatchObject({ id: list.id, user_id: owner, name: "Trip", role: "viewer", shared: true });
    const lists = await readLists(viewer);
    expect(lists.map((l) => [l.name, l.role])).toEqual([
      ["Inbox", "owner"],
      ["Trip", "viewer"],
    ]);
    expect((await readLists(owner)).find((l) => l.id === list.id)).toMatchObject({ role: "owner", shared: true });
    expect(await expectJson<Task>(await getTask(viewer, task.id))).toMatchObject({ id: task.id, user_id: owner, created_by: owner });
    expect((await visibleTasks(viewer)).has(task.id)).toBe(true);
    expect(await expectJson<List>(await call(`/api/${viewer}/lists/${list.id}`))).toMatchObject({ role: "viewer" });
    const listed = await expectJson<Task[]>(await call(`/api/${viewer}/tasks?list_id=${list.id}&sort=position`));
    expect(listed.map((t) => t.id)).toEqual([task.id]);
  });

  it("is single use (410 invitation_used), expires (410 invitation_expired), can be revoked (410 invitation_revoked); an unknown token is a 404", async () => {
    const owner = newUser();
    const list = await createList(owner);
    const token = await invitationToken(owner, list.id);
    await expectJson<List>(await accept(newUser(), token));
    await expectProblem(await accept(newUser(), token), "invitation_used");

    const expiring = await expectJson<Invitation>(await invite(owner, list.id), 201);
    await db.query("UPDATE list_invitations SET expires_at = now() - interval '1 second' WHERE id = $1", [expiring.id]);
    const late = newUser();
    await expectProblem(await accept(late, expiring.token ?? ""), "invitation_expired");

    const revoked = await expectJson<Invitation>(await invite(owner, list.id), 201);
    expect((await call(`/api/${owner}/lists/${list.id}/invitations/${revoked.id}`, { method: "DELETE" })).status).toBe(204);
    await expectProblem(await accept(late, revoked.token ?? ""), "invitation_revoked");
    await expectProblem(
      await call(`/api/${owner}/lists/${list.id}/invitations/${revoked.id}`, { method: "DELETE" }),
      "invitation_not_found",
    );

    await expectProblem(await accept(late, `inv_${"A".repeat(43)}`), "invitation_not_found");
    await expectProblem(await accept(late, "not-a-token"), "validation_failed", "token");
    // None of those made `late` a member.
    expect((await readLists(late)).map((l) => l.id)).not.toContain(list.id);
    await expectProblem(await call(`/api/${late}/lists/${list.id}`), "list_not_found");
  });

  it("the owner or a member accepting is a 409 already_member and leaves the invitation unused; the Inbox cannot be shared", async () => {
    const owner = newUser();
    const member = newUser();
    const list = await createList(owner);
    await share(owner, list.id, member);
    const token = await invitationToken(owner, list.id);
    await expectProblem(await accept(owner, token), "already_member");
    await expectProblem(await accept(member, token), "already_member");
    await expectJson<List>(await accept(newUser(), token));
    await expectProblem(await invite(owner, (await inboxOf(owner)).id), "inbox_not_shareable");
  });

  it("only the owner invites, lists and revokes invitations: 403 for members, 404 for anyone else", async () => {
    const owner = newUser();
    const editor = newUser();
    const viewer = newUser();
    const list = await sharedList(owner, [editor, [viewer, "viewer"]]);
    await expectProblem(await invite(editor, list.id), "list_owner_only");
    await expectProblem(await invite(viewer, list.id), "list_read_only");
    await expectProblem(await call(`/api/${editor}/lists/${list.id}/invitations`), "list_owner_only");
    await expectProblem(await invite(newUser(), list.id), "list_not_found");
    await expectProblem(await call(`/api/${newUser()}/lists/${list.id}/invitations`), "list_not_found");
    const pending = await expectJson<Invitation>(await invite(owner, list.id), 201);
    await expectProblem(await call(`/api/${editor}/lists/${list.id}/invitations/${pending.id}`, { method: "DELETE" }), "list_owner_only");
    expect((await expectJson<Invitation[]>(await call(`/api/${owner}/lists/${list.id}/invitations`))).map((i) => i.id)).toEqual([
      pending.id,
    ]);
  });

  it("a role other than editor or viewer is a 422 naming role", async () => {
    const owner = newUser();
    const list = await createList(owner);
    await expectProblem(await invite(owner, list.id, "owner" as "editor"), "validation_failed", "role");
  });
});

describe("roles", () => {
  it("a viewer reads but every write is a 403 list_read_only that changes nothing", async () => {
    const owner = newUser();
    const viewer = newUser();
    const list = await sharedList(owner, [[viewer, "viewer"]]);
    const task = await createTask(owner, { title: "read me", list_id: list.id });
    const tasksPath = `/api/${viewer}/tasks`;
    const writes: Array<[string, string, unknown]> = [
      ["POST", tasksPath, { title: "no", list_id: list.id }],
      ["POST", tasksPath, { title: "no", parent_id: task.id }],
      ["PATCH", `${tasksPath}/${task.id}`, { title: "changed" }],
      ["PUT", `${tasksPath}/${task.id}`, { title: "changed" }],
      ["PATCH", `${tasksPath}/${task.id}/complete`, undefined],
      ["POST", `${tasksPath}/${task.id}/move`, {}],
      ["DELETE", `${tasksPath}/${task.id}`, undefined],
      ["POST", `${tasksPath}/batch`, { operations: [{ op: "complete", id: task.id }] }],
      ["PATCH", `/api/${viewer}/lists/${list.id}`, { name: "renamed" }],
      ["DELETE", `/api/${viewer}/lists/${list.id}`, undefined],
    ];
    for (const [method, path, body] of writes) {
      const response = await call(path, body === undefined ? { method } : { method, body });
      await expectProblem(response, "list_read_only");
    }
    // A viewer may move a task of their own into it no more than create one there.
    const own = await createTask(viewer, { title: "mine" });
    await expectProblem(await call(`${tasksPath}/${own.id}/move`, { method: "POST", body: { list_id: list.id } }), "list_read_only");
    expect(await expectJson<Task>(await getTask(owner, task.id))).toEqual(task);
    expect((await visibleTasks(owner)).size).toBe(1);
  });

  it("an editor creates, edits, completes, moves, deletes and restores tasks; the tasks stay the owner's, created_by says who", async () => {
    const owner = newUser();
    const editor = newUser();
    const list = await sharedList(owner, [editor]);
    const first = await createTask(editor, { title: "by the editor", list_id: list.id });
    expect(first).toMatchObject({ user_id: owner, created_by: editor, list_id: list.id, assignee_id: null });
    const second = await createTask(owner, { title: "by the owner", list_id: list.id });
    expect(second).toMatchObject({ user_id: owner, created_by: owner });
    const sub = await createTask(editor, { title: "a subtask", parent_id: second.id });
    expect(sub).toMatchObject({ user_id: owner, parent_id: second.id, list_id: list.id });
    expect(
      await expectJson<Task>(await call(`/api/${editor}/tasks/${first.id}`, { method: "PATCH", body: { title: "renamed" } })),
    ).toMatchObject({
      title: "renamed",
      created_by: editor,
    });
    expect(await expectJson<Task>(await call(`/api/${editor}/tasks/${first.id}/complete`, { method: "PATCH" }))).toMatchObject({
      completed: true,
    });
    expect(
      await expectJson<Task>(await call(`/api/${editor}/tasks/${first.id}/move`, { method: "POST", body: { after_id: second.id } })),
    ).toMatchObject({ list_id: list.id });
    expect((await call(`/api/${editor}/tasks/${second.id}`, { method: "DELETE" })).status).toBe(204);
    await expectProblem(await getTask(owner, sub.id), "task_not_found");
    expect(await expectJson<Task>(await call(`/api/${editor}/tasks/${second.id}/restore`, { method: "POST" }))).toMatchObject({
      id: second.id,
      list_id: list.id,
    });
    expect(await expectJson<Task>(await getTask(owner, sub.id))).toMatchObject({ parent_id: second.id });
  });

  it("an editor does not change the list itself: 403 list_owner_only for rename, move, delete", async () => {
    const owner = newUser();
    const editor = newUser();
    const list = await sharedList(owner, [editor]);
    await expectProblem(await call(`/api/${editor}/lists/${list.id}`, { method: "PATCH", body: { name: "mine now" } }), "list_owner_only");
    await expectProblem(await call(`/api/${editor}/lists/${list.id}/move`, { method: "POST", body: {} }), "list_owner_only");
    await expectProblem(await call(`/api/${editor}/lists/${list.id}`, { method: "DELETE" }), "list_owner_only");
    expect((await readLists(owner)).find((l) => l.id === list.id)).toMatchObject({ name: list.name });
  });

  it("an editor may move a task between the shared list and their own lists: it becomes the new list's owner's", async () => {
    const owner = newUser();
    const editor = newUser();
    const list = await sharedList(owner, [editor]);
    const task = await createTask(owner, { title: "take it", list_id: list.id });
    const inbox = await inboxOf(editor);
    const moved = await expectJson<Task>(
      await call(`/api/${editor}/tasks/${task.id}/move`, { method: "POST", body: { list_id: inbox.id } }),
    );
    expect(moved).toMatchObject({ id: task.id, user_id: editor, list_id: inbox.id, created_by: owner });
    await expectProblem(await getTask(owner, task.id), "task_not_found");
    const back = await expectJson<Task>(await call(`/api/${editor}/tasks/${task.id}/move`, { method: "POST", body: { list_id: list.id } }));
    expect(back).toMatchObject({ user_id: owner, list_id: list.id });
    expect(await expectJson<Task>(await getTask(owner, task.id))).toEqual(back);
  });

  it("assignee_id must be a member of the task's list (422 naming it otherwise); a member removed is unassigned", async () => {
    const owner = newUser();
    const editor = newUser();
    const list = await sharedList(owner, [editor]);
    await expectProblem(
      await call(`/api/${owner}/tasks`, { method: "POST", body: { title: "x", list_id: list.id, assignee_id: newUser() } }),
      "validation_failed",
      "assignee_id",
    );
    const task = await createTask(owner, { title: "for the editor", list_id: list.id, assignee_id: editor });
    expect(task.assignee_id).toBe(editor);
    const own = await createTask(owner, { title: "for me", list_id: list.id, assignee_id: owner });
    expect(own.assignee_id).toBe(owner);
    await expectProblem(
      await call(`/api/${owner}/tasks/${own.id}`, { method: "PATCH", body: { assignee_id: newUser() } }),
      "validation_failed",
      "assignee_id",
    );
    expect((await removeMember(owner, list.id, editor)).status).toBe(204);
    expect(await expectJson<Task>(await getTask(owner, task.id))).toMatchObject({ assignee_id: null });
    expect(await expectJson<Task>(await getTask(owner, own.id))).toMatchObject({ assignee_id: owner });
  });
});

describe("isolation: a non-member gets the 404 of a list that does not exist, for the list and every task in it", () => {
  it("reads and writes alike, and GET /tasks and /changes never show them", async () => {
    const owner = newUser();
    const stranger = newUser();
    const list = await sharedList(owner, [newUser()]);
    const task = await createTask(owner, { title: "private to members", list_id: list.id });
    await expectProblem(await call(`/api/${stranger}/lists/${list.id}`), "list_not_found");
    await expectProblem(await call(`/api/${stranger}/lists/${list.id}/members`), "list_not_found");
    await expectProblem(await getTask(stranger, task.id), "task_not_found");
    await expectProblem(await call(`/api/${stranger}/tasks/${task.id}`, { method: "PATCH", body: { title: "x" } }), "task_not_found");
    await expectProblem(await call(`/api/${stranger}/tasks/${task.id}`, { method: "DELETE" }), "task_not_found");
    await expectProblem(
      await call(`/api/${stranger}/tasks`, { method: "POST", body: { title: "x", list_id: list.id } }),
      "validation_failed",
      "list_id",
    );
    await expectProblem(await call(`/api/${stranger}/lists/${list.id}/members/${owner}`, { method: "DELETE" }), "list_not_found");
    expect((await visibleTasks(stranger)).size).toBe(0);
    const feed = feedOf(stranger);
    await feed.pull();
    expect(feed.tasks.size).toBe(0);
    expect([...feed.lists.values()].map((l) => l.inbox)).toEqual([true]);
    // Filtering by the list finds nothing rather than the owner's tasks.
    expect(await expectJson<Task[]>(await call(`/api/${stranger}/tasks?list_id=${list.id}`))).toEqual([]);
  });
});

describe("members", () => {
  it("every member reads the members, the owner first; the owner changes roles", async () => {
    const owner = newUser();
    const editor = newUser();
    const viewer = newUser();
    const list = await sharedList(owner, [editor, [viewer, "viewer"]]);
    const all = await members(viewer, list.id);
    expect(all.map((m) => [m.user_id, m.role])).toEqual([
      [owner, "owner"],
      [editor, "editor"],
      [viewer, "viewer"],
    ]);
    expect(await expectJson<Member>(await setRole(owner, list.id, viewer, "editor"))).toMatchObject({ user_id: viewer, role: "editor" });
    expect(await createTask(viewer, { title: "now I may", list_id: list.id })).toMatchObject({ created_by: viewer });
    await expectProblem(await setRole(editor, list.id, viewer, "viewer"), "list_owner_only");
    await expectProblem(await setRole(owner, list.id, owner, "viewer"), "owner_role_fixed");
    // The owner made the owner again: nothing to change, the same answer as a read.
    expect(await expectJson<Member>(await setRole(owner, list.id, owner, "owner"))).toEqual(all[0]);
    await expectProblem(await setRole(owner, list.id, newUser(), "viewer"), "member_not_found");
    await expectProblem(await setRole(owner, list.id, editor, "admin"), "validation_failed", "role");
  });

  it("a transfer makes a member the owner of the list and its tasks; the former owner stays as an editor", async () => {
    const owner = newUser();
    const heir = newUser();
    const list = await sharedList(owner, [heir]);
    const task = await createTask(owner, { title: "inherited", list_id: list.id });
    expect(await expectJson<Member>(await setRole(owner, list.id, heir, "owner"))).toMatchObject({ user_id: heir, role: "owner" });
    expect((await members(owner, list.id)).map((m) => [m.user_id, m.role])).toEqual([
      [heir, "owner"],
      [owner, "editor"],
    ]);
    expect(await expectJson<Task>(await getTask(heir, task.id))).toMatchObject({ user_id: heir, created_by: owner });
    expect((await readLists(heir)).find((l) => l.id === list.id)).toMatchObject({ user_id: heir, role: "owner" });
    expect((await readLists(owner)).find((l) => l.id === list.id)).toMatchObject({ user_id: heir, role: "editor" });
    // The former owner is an editor now: the list itself is the heir's.
    await expectProblem(await call(`/api/${owner}/lists/${list.id}`, { method: "DELETE" }), "list_owner_only");
    expect((await call(`/api/${heir}/lists/${list.id}`, { method: "DELETE" })).status).toBe(204);
  });

  it("a member leaves; the owner cannot (409 owner_cannot_leave); the owner removes a member; an editor removes no one else", async () => {
    const owner = newUser();
    const a = newUser();
    const b = newUser();
    const list = await sharedList(owner, [a, b]);
    await expectProblem(await removeMember(a, list.id, b), "list_owner_only");
    await expectProblem(await removeMember(owner, list.id, owner), "owner_cannot_leave");
    expect((await removeMember(a, list.id, a)).status).toBe(204);
    await expectProblem(await call(`/api/${a}/lists/${list.id}`), "list_not_found");
    expect((await removeMember(owner, list.id, b)).status).toBe(204);
    await expectProblem(await call(`/api/${b}/lists/${list.id}`), "list_not_found");
    await expectProblem(await removeMember(owner, list.id, b), "member_not_found");
    expect((await readLists(owner)).find((l) => l.id === list.id)).toMatchObject({ shared: false });
  });
});

describe("sync for every member", () => {
  it("a change by any member reaches every member's /changes once; each feed ends equal to what GET /tasks shows", async () => {
    const owner = newUser();
    const editor = newUser();
    const viewer = newUser();
    const list = await sharedList(owner, [editor, [viewer, "viewer"]]);
    const feeds = [owner, editor, viewer].map((user) => ({ user, feed: feedOf(user) }));
    for (const { feed } of feeds) await feed.pull();
    const task = await createTask(editor, { title: "milk", list_id: list.id });
    await call(`/api/${owner}/tasks/${task.id}`, { method: "PATCH", body: { title: "oat milk" } });
    const other = await createTask(owner, { title: "bread", list_id: list.id });
    await call(`/api/${editor}/tasks/${other.id}/complete`, { method: "PATCH" });
    for (const { user, feed } of feeds) {
      const { taskIds } = await feed.pull();
      expect(taskIds.sort(), user).toEqual([task.id, other.id].sort());
      expectSameTasks(feed.tasks, await visibleTasks(user));
      expect(feed.tasks.get(task.id)?.title).toBe("oat milk");
    }
  });

  it("a full sync of a member includes the shared list and its tasks, with the member's role", async () => {
    const owner = newUser();
    const viewer = newUser();
    const list = await createList(owner, { name: "Before sharing" });
    const task = await createTask(owner, { title: "already there", list_id: list.id });
    await share(owner, list.id, viewer, "viewer");
    const feed = feedOf(viewer, 1);
    await feed.pull();
    expect(feed.lists.get(list.id)).toMatchObject({ role: "viewer", name: "Before sharing" });
    expect(feed.tasks.get(task.id)).toMatchObject({ title: "already there" });
    expectSameTasks(feed.tasks, await visibleTasks(viewer));
  });

  it("removing a member sends them a deletion for the list and each of its tasks; rejoining brings them back", async () => {
    const owner = newUser();
    const member = newUser();
    const list = await sharedList(owner, [member]);
    const tasks = [await createTask(owner, { title: "a", list_id: list.id }), await createTask(owner, { title: "b", list_id: list.id })];
    const feed = feedOf(member);
    await feed.pull();
    expect(feed.tasks.size).toBe(2);
    expect(feed.lists.has(list.id)).toBe(true);
    expect((await removeMember(owner, list.id, member)).status).toBe(204);
    const { taskIds, listIds } = await feed.pull();
    expect(taskIds.sort()).toEqual(tasks.map((t) => t.id).sort());
    expect(listIds).toEqual([list.id]);
    expect(feed.tasks.size).toBe(0);
    expect(feed.lists.has(list.id)).toBe(false);
    await share(owner, list.id, member, "viewer");
    await feed.pull();
    expect(feed.tasks.size).toBe(2);
    expect(feed.lists.get(list.id)).toMatchObject({ role: "viewer" });
    expectSameTasks(feed.tasks, await visibleTasks(member));
  });

  it("a task moved out of a shared list into the owner's own is a deletion for the members; deleting the list too", async () => {
    const owner = newUser();
    const member = newUser();
    const list = await sharedList(owner, [member]);
    const moving = await createTask(owner, { title: "private now", list_id: list.id });
    const staying = await createTask(owner, { title: "stays", list_id: list.id });
    const feed = feedOf(member);
    await feed.pull();
    await call(`/api/${owner}/tasks/${moving.id}/move`, { method: "POST", body: { list_id: (await inboxOf(owner)).id } });
    await feed.pull();
    expect([...feed.tasks.keys()]).toEqual([staying.id]);
    expect((await call(`/api/${owner}/lists/${list.id}`, { method: "DELETE" })).status).toBe(204);
    await feed.pull();
    expect(feed.tasks.size).toBe(0);
    expect(feed.lists.has(list.id)).toBe(false);
    // Restored, it comes back to the member with its task.
    expect((await call(`/api/${owner}/lists/${list.id}/restore`, { method: "POST" })).status).toBe(200);
    await feed.pull();
    expect([...feed.tasks.keys()]).toEqual([staying.id]);
    expectSameTasks(feed.tasks, await visibleTasks(member));
  });

  it("memberships travel in `members` beside `changes`: joins, role changes and leaves reach every member; the one who leaves loses them all", async () => {
    const owner = newUser();
    const a = newUser();
    const b = newUser();
    const list = await sharedList(owner, [a]);
    const feeds = new Map([owner, a, b].map((user) => [user, feedOf(user)]));
    for (const feed of feeds.values()) await feed.pull();
    const roster = (user: string) => [...(feeds.get(user)?.memberships.values() ?? [])].map((m) => `${m.user_id}:${m.role}`).sort();
    expect(roster(owner)).toEqual([`${a}:editor`]);
    expect(roster(a)).toEqual([`${a}:editor`]);
    await share(owner, list.id, b, "viewer");
    await setRole(owner, list.id, a, "viewer");
    for (const feed of feeds.values()) await feed.pull();
    for (const user of [owner, a, b]) expect(roster(user), user).toEqual([`${a}:viewer`, `${b}:viewer`].sort());
    // The members route agrees with the feed.
    const listed = await members(b, list.id);
    expect(listed.filter((m) => m.role !== "owner").map((m) => [m.id, m.user_id, m.role])).toEqual(
      [...(feeds.get(b)?.memberships.values() ?? [])].map((m) => [m.id, m.user_id, m.role]).sort((x, y) => Number(x[0]) - Number(y[0])),
    );
    expect(listed[0]).toMatchObject({ id: null, user_id: owner, role: "owner", list_id: list.id });
    expect((await removeMember(a, list.id, a)).status).toBe(204);
    for (const feed of feeds.values()) await feed.pull();
    expect(roster(owner)).toEqual([`${b}:viewer`]);
    expect(roster(b)).toEqual([`${b}:viewer`]);
    expect(roster(a)).toEqual([]);
  });

  it("a transfer keeps every member's feed equal to what they see", async () => {
    const owner = newUser();
    const heir = newUser();
    const viewer = newUser();
    const list = await sharedList(owner, [heir, [viewer, "viewer"]]);
    await createTask(owner, { title: "one", list_id: list.id });
    await createTask(heir, { title: "two", list_id: list.id });
    const feeds = [owner, heir, viewer].map((user) => ({ user, feed: feedOf(user) }));
    for (const { feed } of feeds) await feed.pull();
    expect((await setRole(owner, list.id, heir, "owner")).status).toBe(200);
    await createTask(owner, { title: "three, by the former owner", list_id: list.id });
    for (const { user, feed } of feeds) {
      const { taskIds } = await feed.pull();
      expect(new Set(taskIds).size, `${user}: each task once in a pull`).toBe(taskIds.length);
      expectSameTasks(feed.tasks, await visibleTasks(user));
      expect(feed.lists.get(list.id)).toMatchObject({ user_id: heir });
    }
  });
});

describe("/live for every member", () => {
  it("a write to a shared list reaches the sockets of every member within 1 s, with each one's own cursor; a stranger hears nothing", async () => {
    const owner = newUser();
    const editor = newUser();
    const viewer = newUser();
    const stranger = newUser();
    const list = await sharedList(owner, [editor, [viewer, "viewer"]]);
    const users = [owner, editor, viewer, stranger];
    const sockets = await Promise.all(users.map((user) => open(user)));
    const readies = await Promise.all(sockets.map((live) => live.next("ready")));
    await createTask(editor, { title: "heard by all three", list_id: list.id });
    const heard = await Promise.all(sockets.slice(0, 3).map((live) => live.next("changed", 1_000)));
    // Each member's cursor is a position of their own feed, and a pull from ready shows the task.
    for (const [index, user] of [owner, editor, viewer].entries()) {
      const ready = readies[index];
      const since = ready?.type === "ready" ? ready.cursor : "";
      const page = await expectJson<ChangesPage>(await call(`/api/${user}/changes?since=${since}`));
      expect(
        page.changes.map((change) => change.task?.title),
        user,
      ).toEqual(["heard by all three"]);
      expect(heard[index]).toEqual({ type: "changed", cursor: page.cursor });
    }
    await sleep(500);
    expect(sockets[3]?.messages.map((message) => message.type)).toEqual(["ready"]);
    // A member removed hears of it (their feed now has the deletions).
    expect((await removeMember(owner, list.id, viewer)).status).toBe(204);
    await sockets[2]?.next("changed", 1_000);
    await closeAll(sockets);
  });
});

describe("the trash of a shared list", () => {
  it("a task deleted in a shared list is in the trash of the owner and of every editor, who may restore it; not a viewer's", async () => {
    const owner = newUser();
    const editor = newUser();
    const viewer = newUser();
    const list = await sharedList(owner, [editor, [viewer, "viewer"]]);
    const task = await createTask(owner, { title: "oops", list_id: list.id });
    expect((await call(`/api/${editor}/tasks/${task.id}`, { method: "DELETE" })).status).toBe(204);
    const trashOf = async (user: string) =>
      (await expectJson<Array<{ type: string; task?: Task }>>(await call(`/api/${user}/trash`))).map((entry) => entry.task?.id);
    expect(await trashOf(owner)).toEqual([task.id]);
    expect(await trashOf(editor)).toEqual([task.id]);
    expect(await trashOf(viewer)).toEqual([]);
    await expectProblem(await call(`/api/${viewer}/tasks/${task.id}/restore`, { method: "POST" }), "list_read_only");
    await expectProblem(await call(`/api/${newUser()}/tasks/${task.id}/restore`, { method: "POST" }), "task_not_found");
    expect(await expectJson<Task>(await call(`/api/${editor}/tasks/${task.id}/restore`, { method: "POST" }))).toMatchObject({
      id: task.id,
      list_id: list.id,
    });
    expect(await trashOf(owner)).toEqual([]);
  });
});

describe("after 30 days: a member's deletions are purged like anyone's", () => {
  let worker: RunningWorker;
  beforeAll(async () => {
    worker = await startTestWorker({ bindings: { BETTER_AUTH_SECRET: TEST_SECRET } });
  });
  afterAll(() => worker?.stop());

  it("the entry of a membership that ended stays 30 days, then the purge removes it and an older cursor of that member is a 410", async () => {
    const base = worker.url;
    const owner = newUser();
    const member = newUser();
    const list = await sharedList(owner, [member]);
    const { cursor } = await expectJson<{ cursor: string }>(await call(`/api/${member}/changes`, { base }));
    expect((await removeMember(owner, list.id, member)).status).toBe(204);
    const entries = async () =>
      (await db.query<{ kind: string }>("SELECT kind FROM shared_changes WHERE user_id = $1 ORDER BY kind", [member])).rows.map(
        (row) => row.kind,
      );
    const before = await entries();
    expect(before).toContain("member");
    await db.query("UPDATE shared_changes SET changed_at = now() - interval '29 days' WHERE user_id = $1", [member]);
    expect(await worker.scheduled("0 * * * *")).toBe("ok");
    expect(await entries()).toEqual(before);
    expect((await call(`/api/${member}/changes?since=${cursor}`, { base })).status).toBe(200);
    await db.query("UPDATE shared_changes SET changed_at = now() - interval '31 days' WHERE user_id = $1", [member]);
    expect(await worker.scheduled("0 * * * *")).toBe("ok");
    // The membership is gone for good, so is its entry; the list still exists (its owner's), so its entry stays.
    expect(await entries()).toEqual(before.filter((kind) => kind !== "member"));
    await expectProblem(await call(`/api/${member}/changes?since=${cursor}`, { base }), "cursor_expired");
  });
});

describe("Idempotency-Key after leaving", () => {
  it("a replay never shows a task of a list the caller has left: that operation's 404 instead; while a member, the same answer", async () => {
    const owner = newUser();
    const editor = newUser();
    const list = await sharedList(owner, [editor]);
    const send = () =>
      call(`/api/${editor}/tasks`, {
        method: "POST",
        body: { title: "made once", list_id: list.id },
        headers: { "Idempotency-Key": "leave-then-replay" },
      });
    const first = await expectJson<Task>(await send(), 201);
    const again = await send();
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expect(await expectJson<Task>(again, 201)).toEqual(first);
    expect((await removeMember(owner, list.id, editor)).status).toBe(204);
    await expectProblem(await send(), "task_not_found");
    // Nothing was created again.
    expect([...(await visibleTasks(owner)).keys()]).toEqual([first.id]);
  });
});

describe("Idempotency-Key on the sharing writes (accept, revoke, role, remove)", () => {
  const keyed = (key: string) => ({ "Idempotency-Key": key });

  it("a retried accept answers the same list with Idempotent-Replayed and joins once; after leaving, a 404", async () => {
    const owner = newUser();
    const member = newUser();
    const list = await createList(owner, { name: "joined once" });
    const token = await invitationToken(owner, list.id);
    const send = () => call(`/api/${member}/invitations/accept`, { method: "POST", body: { token }, headers: keyed("join-1") });
    const first = await expectJson<List>(await send());
    const again = await send();
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expect(await expectJson<List>(again)).toEqual(first);
    // Without the key, the same request is the invitation's 410: it was used.
    await expectProblem(await accept(member, token), "invitation_used");
    expect((await members(owner, list.id)).map((m) => m.user_id)).toEqual([owner, member]);
    // The same key with another body is a 422; nothing happens.
    const other = await invitationToken(owner, list.id);
    await expectProblem(
      await call(`/api/${member}/invitations/accept`, { method: "POST", body: { token: other }, headers: keyed("join-1") }),
      "idempotency_key_reused",
    );
    expect((await removeMember(member, list.id, member)).status).toBe(204);
    await expectProblem(await send(), "list_not_found");
    expect((await members(owner, list.id)).map((m) => m.user_id)).toEqual([owner]);
  });

  it("a retried revoke, role change or removal answers as the first time and changes nothing again", async () => {
    const owner = newUser();
    const member = newUser();
    const list = await sharedList(owner, [member]);
    const invitation = await expectJson<Invitation>(await invite(owner, list.id), 201);
    const revoke = () =>
      call(`/api/${owner}/lists/${list.id}/invitations/${invitation.id}`, { method: "DELETE", headers: keyed("revoke-1") });
    expect((await revoke()).status).toBe(204);
    const revokedAgain = await revoke();
    expect(revokedAgain.status).toBe(204);
    expect(revokedAgain.headers.get("Idempotent-Replayed")).toBe("true");

    const demote = () =>
      call(`/api/${owner}/lists/${list.id}/members/${member}`, { method: "PATCH", body: { role: "viewer" }, headers: keyed("role-1") });
    const demoted = await expectJson<Member>(await demote());
    const demotedAgain = await demote();
    expect(demotedAgain.headers.get("Idempotent-Replayed")).toBe("true");
    expect(await expectJson<Member>(demotedAgain)).toEqual(demoted);

    const remove = () => call(`/api/${owner}/lists/${list.id}/members/${member}`, { method: "DELETE", headers: keyed("remove-1") });
    expect((await remove()).status).toBe(204);
    const removedAgain = await remove();
    expect(removedAgain.status).toBe(204);
    expect(removedAgain.headers.get("Idempotent-Replayed")).toBe("true");
    // Without a key, a second removal is the 404 it always was.
    await expectProblem(await removeMember(owner, list.id, member), "member_not_found");
    expect((await members(owner, list.id)).map((m) => m.user_id)).toEqual([owner]);
    // A key is per user and per request: the owner's "remove-1" on another request is a 422.
    await expectProblem(
      await call(`/api/${owner}/lists/${list.id}/members/${member}`, {
        method: "PATCH",
        body: { role: "editor" },
        headers: keyed("remove-1"),
      }),
      "idempotency_key_reused",
    );
  });
});

describe("two writes that wait for each other", () => {
  it("the write that gives way answers 503 write_conflict with Retry-After and changes nothing; sent again, it succeeds", async () => {
    // Writes lock users in id order: the editor first, the other member last.
    const owner = newUser();
    const editor = `a-${newUser()}`;
    const other = `z-${newUser()}`;
    const list = await sharedList(owner, [editor, other]);
    const before = await visibleTasks(owner);
    // Another transaction holds one member's counter, then waits for the writer's own: a cycle.
    const blocker = new pg.Client({ connectionString: inject("databaseUrl") });
    await blocker.connect();
    try {
      await blocker.query("SET deadlock_timeout = '30s'");
      await blocker.query("BEGIN");
      await blocker.query("SELECT 1 FROM sync_state WHERE user_id = $1 FOR UPDATE", [other]);
      const write = call(`/api/${editor}/tasks`, { method: "POST", body: { title: "gives way", list_id: list.id } });
      await sleep(300);
      const waiting = blocker.query("SELECT 1 FROM sync_state WHERE user_id = $1 FOR UPDATE", [editor]);
      const response = await write;
      const problem = await expectProblem(response, "write_conflict");
      expect(problem.status).toBe(503);
      expect(response.headers.get("Retry-After")).toBe("1");
      await waiting;
      await blocker.query("ROLLBACK");
    } finally {
      await blocker.end();
    }
    expect(await visibleTasks(owner)).toEqual(before);
    expect(await createTask(editor, { title: "gives way", list_id: list.id })).toMatchObject({ user_id: owner, created_by: editor });
  });
});
