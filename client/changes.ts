// GET /api/{user_id}/changes as a loop: bring a local copy up to date from a cursor, page by page.
import { type Change, TaskApiError, type TaskClient } from "./api.js";

/**
 * Brings a local copy up to date: pulls /changes from `cursor` until nothing more follows, hands
 * each change to `apply`, and returns the cursor to keep for next time. Without a cursor it is a
 * full sync (clear the local copy first). A 410 `cursor_expired` means: clear the local copy and
 * call it again without a cursor.
 */
export async function pullChanges(
  client: TaskClient,
  userId: string,
  cursor: string | undefined,
  apply: (change: Change) => void,
): Promise<string> {
  let since = cursor;
  for (;;) {
    const { data, error } = await client.GET("/api/{user_id}/changes", {
      params: { path: { user_id: userId }, query: since === undefined ? {} : { since } },
    });
    if (error !== undefined) throw new TaskApiError(error);
    for (const change of data.changes) apply(change);
    since = data.cursor;
    if (!data.has_more) return since;
  }
}
