// The call sequence the frontends already written for this API make (the Next.js + Better Auth
// todo apps whose lib/api.ts clients ran unchanged against `npm run dev`), replayed as they send
// it: create, list, toggle with an empty PATCH, rename with a partial PUT (which must keep
// everything else), complete with PUT {"completed": true}, delete, then the errors they show
// to users: an expired token and another user's path. Their fetch wrapper, not ours.
import { describe, expect, it } from "vitest";
import { newUser, type Task, tokenFor, workerUrl } from "./support/api.ts";

/** What those frontends' lib/api.ts does: JSON in and out, the token as a bearer, errors thrown with detail. */
function frontendApi(userId: string, getToken: () => Promise<string>) {
  const request = async <T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> => {
    const response = await fetch(`${workerUrl()}/api/${userId}${path}`, {
      method: init.method ?? "GET",
      headers: { Authorization: `Bearer ${await getToken()}`, "Content-Type": "application/json" },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
    if (response.status === 204) return undefined as T;
    const body = (await response.json()) as T & { detail?: string; code?: string };
    if (!response.ok)
      throw Object.assign(new Error(body.detail ?? `HTTP ${response.status}`), { status: response.status, code: body.code });
    return body;
  };
  return {
    getTasks: () => request<Task[]>("/tasks"),
    createTask: (title: string, description?: string) => request<Task>("/tasks", { method: "POST", body: { title, description } }),
    getTask: (id: number) => request<Task>(`/tasks/${id}`),
    // The frontends toggle with PATCH /complete and no body.
    toggleTask: (id: number) => request<Task>(`/tasks/${id}/complete`, { method: "PATCH" }),
    // They rename with a partial PUT.
    renameTask: (id: number, title: string, description?: string) =>
      request<Task>(`/tasks/${id}`, { method: "PUT", body: description === undefined ? { title } : { title, description } }),
    // One of them completes with PUT {"completed": true}.
    completeWithPut: (id: number) => request<Task>(`/tasks/${id}`, { method: "PUT", body: { completed: true } }),
    deleteTask: (id: number) => request<void>(`/tasks/${id}`, { method: "DELETE" }),
  };
}

/** The error a frontend's call threw, as it shows it. */
async function failure(call: Promise<unknown>): Promise<Error & { status: number; code: string }> {
  try {
    await call;
  } catch (error) {
    return error as Error & { status: number; code: string };
  }
  throw new Error("the call succeeded");
}

describe("a frontend written for this API, replayed", () => {
  it("creates, lists, toggles, renames, completes with PUT and deletes, as those apps do", async () => {
    const user = newUser();
    const token = await tokenFor(user);
    const api = frontendApi(user, async () => token);

    const created = await api.createTask("Buy milk", "2 litres");
    expect(created).toMatchObject({ title: "Buy milk", description: "2 litres", completed: false, user_id: user });
    expect(await api.getTasks()).toEqual([created]);

    const toggled = await api.toggleTask(created.id);
    expect(toggled.completed).toBe(true);
    expect(toggled.completed_at).not.toBeNull();

    // The rename that used to reset `completed` (and everything else not sent).
    const renamed = await api.renameTask(created.id, "Buy oat milk");
    expect(renamed).toMatchObject({
      title: "Buy oat milk",
      description: "2 litres",
      completed: true,
      completed_at: toggled.completed_at,
      priority: created.priority,
      tags: created.tags,
      due_date: created.due_date,
    });
    const renamedBoth = await api.renameTask(created.id, "Buy milk", "1 litre");
    expect(renamedBoth).toMatchObject({ title: "Buy milk", description: "1 litre", completed: true });

    const reopened = await api.toggleTask(created.id);
    expect(reopened).toMatchObject({ completed: false, completed_at: null });
    const completed = await api.completeWithPut(created.id);
    expect(completed).toMatchObject({ completed: true, title: "Buy milk", description: "1 litre" });

    await api.deleteTask(created.id);
    expect(await api.getTasks()).toEqual([]);
    const gone = await failure(api.getTask(created.id));
    expect(gone).toMatchObject({ status: 404, code: "task_not_found", message: "task not found" });
  });

  it("shows a sentence for an expired token and for another user's path, as the apps display detail", async () => {
    const user = newUser();
    const expired = frontendApi(user, () => tokenFor(user, { expiresIn: -3600 }));
    const error = await failure(expired.getTasks());
    expect(error).toMatchObject({ status: 401, code: "token_invalid" });
    expect(error.message).toMatch(/^the token is invalid: it expired at \d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);

    const stranger = frontendApi(newUser(), () => tokenFor(user));
    expect(await failure(stranger.getTasks())).toMatchObject({ status: 403, code: "forbidden" });

    const anonymous = frontendApi(user, async () => "");
    const missing = await failure(anonymous.getTasks());
    expect(missing).toMatchObject({ status: 401, code: "token_missing" });
    expect(missing.message).toContain("missing");
  });
});
