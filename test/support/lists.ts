// Lists, manual order and the trash as a client sees them: small helpers over call() shared by
// the tests of those routes (test/lists.test.ts, test/order.test.ts, test/trash.test.ts, …).
import { expect } from "vitest";
import { call, type Task } from "./api.ts";

export interface List {
  id: number;
  user_id: string;
  name: string;
  color: string | null;
  inbox: boolean;
  position: string;
  created_at: string;
  updated_at: string;
  version: number;
  /** The caller's role in it. */
  role: "owner" | "editor" | "viewer";
  /** Whether it has members besides its owner. */
  shared: boolean;
}

export interface TrashEntry {
  type: "task" | "list";
  deleted_at: string;
  purge_at: string;
  task?: Task;
  list?: List;
}

/** The response's JSON body, after checking its status (the body is in the failure message). */
export async function expectJson<T>(response: Response, status = 200): Promise<T> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  return JSON.parse(text) as T;
}

/** The path and query of the Link rel="next" (absolute on PUBLIC_URL, or relative), for call(). */
export function nextPath(response: Response): string | undefined {
  const next = /<([^>]+)>;\s*rel="next"/.exec(response.headers.get("Link") ?? "")?.[1];
  if (next === undefined) return undefined;
  const url = new URL(next, "http://relative.invalid");
  return `${url.pathname}${url.search}`;
}

/** Creates a list for `user` and returns it. */
export async function createList(user: string, body: Record<string, unknown> = { name: "a list" }): Promise<List> {
  return expectJson<List>(await call(`/api/${user}/lists`, { method: "POST", body }), 201);
}

/** GET /lists: every list of the user, in order (creates the Inbox on first use). */
export async function readLists(user: string): Promise<List[]> {
  return expectJson<List[]>(await call(`/api/${user}/lists`));
}

/** The user's Inbox (created on first use). */
export async function inboxOf(user: string): Promise<List> {
  const inbox = (await readLists(user)).find((list) => list.inbox);
  if (inbox === undefined) throw new Error("no Inbox in GET /lists");
  return inbox;
}

/** A list's tasks in their manual order (GET /tasks?list_id=…&sort=position), every page. */
export async function inOrder(user: string, listId: number, query: Record<string, string> = {}): Promise<Task[]> {
  const tasks: Task[] = [];
  let path: string | undefined =
    `/api/${user}/tasks?${new URLSearchParams({ list_id: String(listId), sort: "position", limit: "1000", ...query })}`;
  while (path !== undefined) {
    const response = await call(path);
    tasks.push(...(await expectJson<Task[]>(response)));
    path = nextPath(response);
  }
  return tasks;
}

/** Titles of a list's tasks in order, subtasks as "parent > child" (the order is top level first, then each parent's subtasks). */
export async function titles(user: string, listId: number): Promise<string[]> {
  const tasks = await inOrder(user, listId);
  const byId = new Map(tasks.map((task) => [task.id, task]));
  return tasks.map((task) => (task.parent_id === null ? task.title : `${byId.get(task.parent_id)?.title ?? "?"} > ${task.title}`));
}

/** POST /tasks/{id}/move. */
export const moveTask = (user: string, id: number, body: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
  call(`/api/${user}/tasks/${id}/move`, { method: "POST", body, headers });

/** POST /tasks/{id}/restore. */
export const restoreTask = (user: string, id: number) => call(`/api/${user}/tasks/${id}/restore`, { method: "POST" });

/** DELETE /tasks/{id}, expecting 204. */
export async function deleteTask(user: string, id: number): Promise<void> {
  const response = await call(`/api/${user}/tasks/${id}`, { method: "DELETE" });
  expect(response.status, await response.text()).toBe(204);
}

/** DELETE /lists/{id}[?move_to=…], expecting 204. */
export async function deleteList(user: string, id: number, moveTo?: number): Promise<void> {
  const query = moveTo === undefined ? "" : `?move_to=${moveTo}`;
  const response = await call(`/api/${user}/lists/${id}${query}`, { method: "DELETE" });
  expect(response.status, await response.text()).toBe(204);
}

/** GET /trash, every page of `limit`; the pages as they came. */
export async function trashPages(user: string, limit: number): Promise<TrashEntry[][]> {
  const pages: TrashEntry[][] = [];
  let path: string | undefined = `/api/${user}/trash?limit=${limit}`;
  while (path !== undefined) {
    const response = await call(path);
    pages.push(await expectJson<TrashEntry[]>(response));
    path = nextPath(response);
    if (pages.length > 1000) throw new Error("GET /trash never ends");
  }
  return pages;
}

/** Whether `a` sorts before `b` byte by byte, as order keys do. */
export const keyBefore = (a: string, b: string): boolean => Buffer.compare(Buffer.from(a), Buffer.from(b)) < 0;
