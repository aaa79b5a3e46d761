// Sharing a list between test users: invitations, acceptance, members, and a user's feed.
import { expect } from "vitest";
import { call, type Task } from "./api.ts";
import { createList, expectJson, type List, nextPath } from "./lists.ts";

export interface Invitation {
  id: number;
  list_id: number;
  role: "editor" | "viewer";
  created_by: string;
  created_at: string;
  expires_at: string;
  token?: string;
}

export interface Member {
  id: number | null;
  list_id: number;
  user_id: string;
  role: "owner" | "editor" | "viewer";
  joined_at: string;
}

export const invite = (owner: string, listId: number, role?: "editor" | "viewer") =>
  call(`/api/${owner}/lists/${listId}/invitations`, { method: "POST", body: role === undefined ? {} : { role } });

export const accept = (user: string, token: string) => call(`/api/${user}/invitations/accept`, { method: "POST", body: { token } });

/** An invitation's token, made by the owner. */
export async function invitationToken(owner: string, listId: number, role: "editor" | "viewer" = "editor"): Promise<string> {
  const invitation = await expectJson<Invitation>(await invite(owner, listId, role), 201);
  if (invitation.token === undefined) throw new Error("no token in the invitation");
  return invitation.token;
}

/** Makes `member` a member of `listId` with `role`, through an invitation; returns the list as they see it. */
export async function share(owner: string, listId: number, member: string, role: "editor" | "viewer" = "editor"): Promise<List> {
  return expectJson<List>(await accept(member, await invitationToken(owner, listId, role)));
}

/** A list of `owner`'s shared with each of `members` (editors unless said). */
export async function sharedList(owner: string, members: Array<string | [string, "editor" | "viewer"]>, name = "shared"): Promise<List> {
  const list = await createList(owner, { name });
  for (const member of members) {
    const [user, role] = typeof member === "string" ? [member, "editor" as const] : member;
    await share(owner, list.id, user, role);
  }
  return list;
}

export const members = async (user: string, listId: number) => expectJson<Member[]>(await call(`/api/${user}/lists/${listId}/members`));

export const setRole = (owner: string, listId: number, member: string, role: string) =>
  call(`/api/${owner}/lists/${listId}/members/${encodeURIComponent(member)}`, { method: "PATCH", body: { role } });

export const removeMember = (user: string, listId: number, member: string) =>
  call(`/api/${user}/lists/${listId}/members/${encodeURIComponent(member)}`, { method: "DELETE" });

export interface Membership {
  id: number;
  list_id: number;
  user_id: string;
  role: "editor" | "viewer";
  joined_at: string;
}

export interface ChangesPage {
  changes: Array<{ op: "upsert" | "delete"; task?: Task; id?: number }>;
  lists: Array<{ op: "upsert" | "delete"; list?: List; id?: number }>;
  members: Array<{ op: "upsert" | "delete"; member?: Membership; id?: number }>;
  cursor: string;
  has_more: boolean;
}

/** A sync client of one user: pulls /changes until has_more is false, keeping tasks and lists by id. */
export function feedOf(user: string, limit = 1000) {
  const tasks = new Map<number, Task>();
  const lists = new Map<number, List>();
  const memberships = new Map<number, Membership>();
  let cursor: string | undefined;
  return {
    tasks,
    lists,
    memberships,
    /** Pulls to the end; answers every task id and list id the pull carried, to check none came twice. */
    async pull(): Promise<{ taskIds: number[]; listIds: number[] }> {
      const taskIds: number[] = [];
      const listIds: number[] = [];
      for (;;) {
        const query = new URLSearchParams({ limit: String(limit), ...(cursor === undefined ? {} : { since: cursor }) });
        const page = await expectJson<ChangesPage>(await call(`/api/${user}/changes?${query}`));
        for (const change of page.changes) {
          const id = change.task?.id ?? change.id ?? 0;
          taskIds.push(id);
          if (change.op === "upsert" && change.task !== undefined) tasks.set(id, change.task);
          else tasks.delete(id);
        }
        for (const change of page.lists) {
          const id = change.list?.id ?? change.id ?? 0;
          listIds.push(id);
          if (change.op === "upsert" && change.list !== undefined) lists.set(id, change.list);
          else lists.delete(id);
        }
        for (const change of page.members) {
          const id = change.member?.id ?? change.id ?? 0;
          if (change.op === "upsert" && change.member !== undefined) memberships.set(id, change.member);
          else memberships.delete(id);
        }
        cursor = page.cursor;
        if (!page.has_more) return { taskIds, listIds };
      }
    },
  };
}

/** Every task GET /tasks shows the user, by id. */
export async function visibleTasks(user: string): Promise<Map<number, Task>> {
  const found = new Map<number, Task>();
  let path: string | undefined = `/api/${user}/tasks?limit=1000&sort=created_at`;
  while (path !== undefined) {
    const response = await call(path);
    for (const task of await expectJson<Task[]>(response)) found.set(task.id, task);
    path = nextPath(response);
  }
  return found;
}

export function expectSameTasks(feed: Map<number, Task>, listed: Map<number, Task>): void {
  expect([...feed.keys()].sort((a, b) => a - b)).toEqual([...listed.keys()].sort((a, b) => a - b));
  for (const [id, task] of listed) expect(feed.get(id), `task ${id}`).toEqual(task);
}
