// GET /api/{user_id}/changes as a loop: bring a local copy up to date from a cursor, page by page.
import { type Change, type ListChange, type MemberChange, TaskApiError, type TaskClient } from "./api.js";

export interface PullOptions {
  /**
   * Each list change (the `lists` array of /changes): store the list of an upsert, drop the id of a
   * delete. Within a page, the page's list changes come before its task changes; but a task may
   * name a list that arrives on a later page of the same pull (a list renamed after the task was
   * written sits later in the feed), so look a task's list up once the pull has returned. Without
   * it, list changes are skipped (the cursor still moves past them).
   */
  onList?: ((change: ListChange) => void) | undefined;
  /**
   * Each membership change of a shared list (the `members` array of /changes): who else is in a
   * list and with which role (a list's owner is its `user_id`). Without it, they are skipped.
   */
  onMember?: ((change: MemberChange) => void) | undefined;
}

/**
 * Brings a local copy up to date: pulls /changes from `cursor` until nothing more follows, hands
 * each task change to `apply` (and each list change to `options.onList`, if given), and returns
 * the cursor to keep for next time. Without a cursor it is a full sync (clear the local copy
 * first). A 410 `cursor_expired` means: clear the local copy and call it again without a cursor.
 */
export async function pullChanges(
  client: TaskClient,
  userId: string,
  cursor: string | undefined,
  apply: (change: Change) => void,
  options: PullOptions = {},
): Promise<string> {
  let since = cursor;
  for (;;) {
    const { data, error } = await client.GET("/api/{user_id}/changes", {
      params: { path: { user_id: userId }, query: since === undefined ? {} : { since } },
    });
    if (error !== undefined) throw new TaskApiError(error);
    if (options.onList !== undefined) for (const change of data.lists) options.onList(change);
    if (options.onMember !== undefined) for (const change of data.members) options.onMember(change);
    for (const change of data.changes) apply(change);
    since = data.cursor;
    if (!data.has_more) return since;
  }
}
