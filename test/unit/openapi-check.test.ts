// The conformance check that call() runs on every response: it must catch what drifts.
import { describe, expect, it } from "vitest";
import { nonConformance } from "../support/openapi-check.ts";

const url = (path: string) => new URL(`http://worker.test${path}`);
const task = {
  id: 1,
  user_id: "u",
  title: "t",
  description: null,
  completed: false,
  completed_at: null,
  priority: "medium",
  tags: [],
  due_date: null,
  created_at: "2026-11-24T10:00:00.000Z",
  updated_at: "2026-11-24T10:00:00.000Z",
  version: 1,
  recurrence: null,
  series_id: null,
  next_id: null,
  list_id: 2,
  parent_id: null,
  position: "a0",
  created_by: "u",
  assignee_id: null,
};
const list = {
  id: 2,
  user_id: "u",
  name: "Inbox",
  color: null,
  inbox: true,
  position: "a0",
  created_at: "2026-11-24T10:00:00.000Z",
  updated_at: "2026-11-24T10:00:00.000Z",
  version: 1,
  role: "owner",
  shared: false,
};
const json = (body: unknown, status: number, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json; charset=utf-8", "X-Request-Id": "r", ...headers },
  });
const problem = (status: number, headers: Record<string, string> = {}, code = "precondition_failed") =>
  new Response(JSON.stringify({ type: `/problems/${code}`, code, title: "x", status, detail: "d", request_id: "r" }), {
    status,
    headers: { "Content-Type": "application/problem+json; charset=utf-8", "X-Request-Id": "r", ...headers },
  });

describe("nonConformance", () => {
  it("accepts a documented response", async () => {
    expect(await nonConformance("GET", url("/api/u/tasks/1"), json(task, 200, { ETag: '"1"' }))).toEqual([]);
    expect(await nonConformance("PUT", url("/api/u/tasks/1"), problem(412))).toEqual([]);
  });

  it("flags an undocumented status", async () => {
    expect((await nonConformance("GET", url("/api/u/tasks/1"), problem(412))).join()).toContain("not documented");
  });

  it("flags a missing required header", async () => {
    expect((await nonConformance("GET", url("/api/u/tasks/1"), json(task, 200))).join()).toContain("missing header ETag");
    expect((await nonConformance("GET", url("/api/u/tasks"), problem(503))).join()).toContain("missing header Retry-After");
  });

  it("flags a body that does not match the schema", async () => {
    const { version: _, ...withoutVersion } = task;
    expect((await nonConformance("GET", url("/api/u/tasks/1"), json(withoutVersion, 200, { ETag: '"1"' }))).join()).toContain("version");
    expect((await nonConformance("GET", url("/api/u/tasks"), json([{ ...task, extra: true }], 200))).join()).toContain("additional");
  });

  it("flags a problem whose code is not one the status documents", async () => {
    expect((await nonConformance("PUT", url("/api/u/tasks/1"), problem(412, {}, "task_not_found"))).join()).toContain("code");
    expect((await nonConformance("PUT", url("/api/u/tasks/1"), problem(412, {}, "no_such_code"))).join()).toContain("code");
  });

  it("tells a list from a task, in /changes, the trash and batch results", async () => {
    const changes = {
      changes: [{ op: "upsert", task }],
      lists: [
        { op: "upsert", list },
        { op: "delete", id: 3 },
      ],
      members: [
        { op: "upsert", member: { id: 4, list_id: 2, user_id: "v", role: "viewer", joined_at: "2026-11-24T10:00:00.000Z" } },
        { op: "delete", id: 5 },
      ],
      cursor: "c",
      has_more: false,
    };
    expect(await nonConformance("GET", url("/api/u/changes"), json(changes, 200))).toEqual([]);
    const { lists: _, ...withoutLists } = changes;
    expect((await nonConformance("GET", url("/api/u/changes"), json(withoutLists, 200))).join()).toContain("lists");
    const swapped = { ...changes, lists: [{ op: "upsert", list: task }] };
    const { members: __, ...withoutMembers } = changes;
    expect((await nonConformance("GET", url("/api/u/changes"), json(withoutMembers, 200))).join()).toContain("members");
    expect(
      await nonConformance("GET", url("/api/u/changes"), json({ ...changes, members: [{ op: "upsert", member: list }] }, 200)),
    ).not.toEqual([]);
    expect(await nonConformance("GET", url("/api/u/changes"), json(swapped, 200))).not.toEqual([]);
    const trash = [
      { type: "list", deleted_at: list.updated_at, purge_at: list.updated_at, list },
      { type: "task", deleted_at: task.updated_at, purge_at: task.updated_at, task },
    ];
    expect(await nonConformance("GET", url("/api/u/trash"), json(trash, 200))).toEqual([]);
    expect(await nonConformance("GET", url("/api/u/trash"), json([{ ...trash[0], type: "task" }], 200))).not.toEqual([]);
    const results = {
      results: [
        { status: 201, etag: '"1"', list },
        { status: 200, etag: '"1"', task },
        { status: 204, id: 2 },
      ],
    };
    expect(await nonConformance("POST", url("/api/u/tasks/batch"), json(results, 200))).toEqual([]);
    expect(await nonConformance("GET", url("/api/u/lists/2"), json(list, 200, { ETag: '"1"' }))).toEqual([]);
    expect((await nonConformance("GET", url("/api/u/lists/2"), json(task, 200, { ETag: '"1"' }))).join()).toContain("additional");
  });

  it("takes Retry-After as optional on a 409 that may be another code than idempotency_in_flight", async () => {
    expect(await nonConformance("POST", url("/api/u/lists"), problem(409, {}, "list_limit_reached"))).toEqual([]);
    expect(await nonConformance("POST", url("/api/u/lists"), problem(409, { "Retry-After": "1" }, "idempotency_in_flight"))).toEqual([]);
    expect((await nonConformance("POST", url("/api/u/tasks"), problem(409, {}, "idempotency_in_flight"))).join()).toContain("Retry-After");
    expect((await nonConformance("DELETE", url("/api/u/lists/2"), problem(409, {}, "list_limit_reached"))).join()).toContain("code");
  });

  it("flags a 405 without Allow and a 404 that is not a problem", async () => {
    expect((await nonConformance("POST", url("/api/u/tasks/1"), problem(405))).join()).toContain("Allow");
    expect((await nonConformance("GET", url("/nowhere"), json({}, 404))).join()).toContain("problem+json");
  });
});
