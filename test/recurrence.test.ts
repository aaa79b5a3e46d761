// Recurring tasks through the API (API.md "Recurring tasks"): the fields, the next occurrence a
// completion creates on every path, exactly once under concurrency, in the rule's time zone across
// daylight saving, series that end, edits that apply from then on, and GET …/occurrences. The
// occurrence math itself is checked against Python's dateutil in test/unit/recurrence.test.ts.
import { describe, expect, it } from "vitest";
import { call, createTask, expectProblem, newUser, type Task, untilAvailable } from "./support/api.ts";

const BERLIN_WEEKLY = { rule: "FREQ=WEEKLY", time_zone: "Europe/Berlin", anchor: "due" } as const;

const tasksOf = async (user: string): Promise<Task[]> =>
  (await (await call(`/api/${user}/tasks?sort=created_at&limit=1000`)).json()) as Task[];
const complete = async (user: string, id: number): Promise<Task> => {
  const response = await call(`/api/${user}/tasks/${id}/complete`, { method: "PATCH", body: { completed: true } });
  if (response.status !== 200) throw new Error(`complete: ${response.status} ${await response.text()}`);
  return (await response.json()) as Task;
};
const next = async (user: string, completed: Task): Promise<Task> => {
  if (completed.next_id === null) throw new Error("no next occurrence");
  return (await (await call(`/api/${user}/tasks/${completed.next_id}`)).json()) as Task;
};

describe("a recurring task", () => {
  it("is created with its recurrence (anchor defaults to due) and series_id its own id", async () => {
    const user = newUser();
    const task = await createTask(user, {
      title: "water plants",
      due_date: "2027-03-22T08:00:00Z",
      recurrence: { rule: "FREQ=WEEKLY;BYDAY=MO,TH", time_zone: "Europe/Berlin" },
    });
    expect(task).toMatchObject({
      recurrence: { rule: "FREQ=WEEKLY;BYDAY=MO,TH", time_zone: "Europe/Berlin", anchor: "due" },
      series_id: task.id,
      next_id: null,
    });
  });

  it("creates the next occurrence when completed: same title, description, priority, tags and recurrence, same series, not completed", async () => {
    const user = newUser();
    const first = await createTask(user, {
      title: "team meeting",
      description: "room 4",
      priority: "high",
      tags: ["work"],
      due_date: "2027-03-22T08:00:00Z", // Monday 09:00 in Berlin (CET)
      recurrence: BERLIN_WEEKLY,
    });
    const done = await complete(user, first.id);
    expect(done).toMatchObject({ completed: true, next_id: expect.any(Number) });
    const second = await next(user, done);
    expect(second).toMatchObject({
      title: "team meeting",
      description: "room 4",
      priority: "high",
      tags: ["work"],
      recurrence: BERLIN_WEEKLY,
      series_id: first.id,
      next_id: null,
      completed: false,
      completed_at: null,
      version: 1,
      // Still 09:00 in Berlin, after the switch to summer time on 28 March: 07:00 UTC.
      due_date: "2027-03-29T07:00:00.000Z",
    });
  });

  it("keeps 09:00 New York time across daylight saving too", async () => {
    const user = newUser();
    const first = await createTask(user, {
      title: "standup",
      due_date: "2027-11-01T13:00:00Z", // Monday 09:00 EDT
      recurrence: { rule: "FREQ=WEEKLY", time_zone: "America/New_York" },
    });
    expect((await next(user, await complete(user, first.id))).due_date).toBe("2027-11-08T14:00:00.000Z"); // 09:00 EST
  });

  it("creates the next occurrence on every completing path: /complete, PATCH, PUT and a batch", async () => {
    const user = newUser();
    const create = () => createTask(user, { title: "t", due_date: "2027-06-07T08:00:00Z", recurrence: BERLIN_WEEKLY });
    const viaPatch = await create();
    const viaPut = await create();
    const viaBatchComplete = await create();
    const viaBatchUpdate = await create();
    const patched = (await (
      await call(`/api/${user}/tasks/${viaPatch.id}`, { method: "PATCH", body: { completed: true } })
    ).json()) as Task;
    const put = (await (await call(`/api/${user}/tasks/${viaPut.id}`, { method: "PUT", body: { completed: true } })).json()) as Task;
    const batch = await call(`/api/${user}/tasks/batch`, {
      method: "POST",
      body: {
        operations: [
          { op: "complete", id: viaBatchComplete.id },
          { op: "update", id: viaBatchUpdate.id, task: { completed: true, title: "renamed and done" } },
        ],
      },
    });
    expect(batch.status).toBe(200);
    const results = ((await batch.json()) as { results: Array<{ task: Task }> }).results.map((result) => result.task);
    for (const done of [patched, put, ...results]) {
      expect(done.completed).toBe(true);
      const following = await next(user, done);
      expect(following).toMatchObject({ due_date: "2027-06-14T08:00:00.000Z", series_id: done.series_id, completed: false });
    }
    expect((await next(user, results[1] as Task)).title).toBe("renamed and done");
    expect(await tasksOf(user)).toHaveLength(8);
  });

  it("skips the occurrences an overdue completion missed: the next is after both its due date and now", async () => {
    const user = newUser();
    const due = "2026-01-05T08:00:00Z"; // a Monday long past, 09:00 Berlin
    const following = await next(
      user,
      await complete(user, (await createTask(user, { title: "late", due_date: due, recurrence: BERLIN_WEEKLY })).id),
    );
    const nextDue = Date.parse(following.due_date ?? "");
    expect(nextDue).toBeGreaterThan(Date.now());
    expect(nextDue - Date.now()).toBeLessThanOrEqual(7 * 24 * 3600 * 1000 + 3600 * 1000);
    expect(new Date(nextDue).getUTCDay()).toBe(1); // still a Monday
    expect(new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/Berlin", hour: "2-digit", minute: "2-digit" }).format(nextDue)).toBe(
      "09:00",
    );
  });

  it("with anchor completion: the date of completion in the zone plus the interval, at the task's local time", async () => {
    const user = newUser();
    const first = await createTask(user, {
      title: "refill",
      due_date: "2027-01-10T08:00:00Z", // 09:00 in Berlin
      recurrence: { rule: "FREQ=DAILY;INTERVAL=3", time_zone: "Europe/Berlin", anchor: "completion" },
    });
    const before = new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/Berlin" }).format(new Date());
    const following = await next(user, await complete(user, first.id));
    const after = new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/Berlin" }).format(new Date());
    const expected = (day: string) => {
      const date = new Date(`${day}T00:00:00Z`);
      date.setUTCDate(date.getUTCDate() + 3);
      // 09:00 Berlin in winter (CET, UTC+1); the test runs in December, and three days on it is still winter.
      return `${date.toISOString().slice(0, 10)}T08:00:00.000Z`;
    };
    expect([expected(before), expected(after)]).toContain(following.due_date);
  });

  it("ends its series when COUNT is used up (the first task counts) and when UNTIL has passed", async () => {
    const user = newUser();
    const counted = await createTask(user, {
      title: "twice",
      due_date: "2027-02-01T08:00:00Z",
      recurrence: { rule: "FREQ=DAILY;COUNT=2", time_zone: "Europe/Berlin" },
    });
    const second = await next(user, await complete(user, counted.id));
    expect(second.due_date).toBe("2027-02-02T08:00:00.000Z");
    expect((await complete(user, second.id)).next_id).toBeNull();
    const until = await createTask(user, {
      title: "until",
      due_date: "2027-02-01T08:00:00Z",
      recurrence: { rule: "FREQ=WEEKLY;UNTIL=20270209T000000Z", time_zone: "Europe/Berlin" },
    });
    const last = await next(user, await complete(user, until.id));
    expect(last.due_date).toBe("2027-02-08T08:00:00.000Z");
    expect((await complete(user, last.id)).next_id).toBeNull();
    const occurrences = await call(`/api/${user}/tasks/${last.id}/occurrences`);
    expect(await occurrences.json()).toEqual({ occurrences: [] });
  });

  it("creates nothing new when completed again after being un-completed", async () => {
    const user = newUser();
    const task = await createTask(user, { title: "once", due_date: "2027-06-07T08:00:00Z", recurrence: BERLIN_WEEKLY });
    const done = await complete(user, task.id);
    await call(`/api/${user}/tasks/${task.id}/complete`, { method: "PATCH", body: { completed: false } });
    const again = await complete(user, task.id);
    expect(again.next_id).toBe(done.next_id);
    expect(await tasksOf(user)).toHaveLength(2);
  });

  it("creates exactly one next occurrence when 20 clients complete it at the same moment", async () => {
    const user = newUser();
    const task = await createTask(user, { title: "contended", due_date: "2027-06-07T08:00:00Z", recurrence: BERLIN_WEEKLY });
    const responses = await Promise.all(
      Array.from({ length: 20 }, () =>
        untilAvailable(() => call(`/api/${user}/tasks/${task.id}/complete`, { method: "PATCH", body: { completed: true } })),
      ),
    );
    expect(responses.map((response) => response.status)).toEqual(Array(20).fill(200));
    const all = await tasksOf(user);
    expect(all).toHaveLength(2);
    const [completed, created] = all as [Task, Task];
    expect(completed.next_id).toBe(created.id);
    expect(created).toMatchObject({ series_id: task.id, due_date: "2027-06-14T08:00:00.000Z" });
  });

  it("leaves the rest of the series alone when one occurrence is deleted", async () => {
    const user = newUser();
    const first = await createTask(user, { title: "series", due_date: "2027-06-07T08:00:00Z", recurrence: BERLIN_WEEKLY });
    const done = await complete(user, first.id);
    const second = await next(user, done);
    expect((await call(`/api/${user}/tasks/${second.id}`, { method: "DELETE" })).status).toBe(204);
    expect(await tasksOf(user)).toEqual([done]);
  });

  it("applies an edited rule from the edited occurrence on", async () => {
    const user = newUser();
    const first = await createTask(user, { title: "moving", due_date: "2027-06-07T08:00:00Z", recurrence: BERLIN_WEEKLY });
    const second = await next(user, await complete(user, first.id)); // 14 June, a Monday
    const edited = await call(`/api/${user}/tasks/${second.id}`, {
      method: "PATCH",
      body: { recurrence: { rule: "FREQ=WEEKLY;BYDAY=FR", time_zone: "Europe/Berlin" } },
    });
    expect(edited.status).toBe(200);
    const third = await next(user, await complete(user, second.id));
    expect(third).toMatchObject({
      due_date: "2027-06-18T08:00:00.000Z",
      recurrence: { rule: "FREQ=WEEKLY;BYDAY=FR" },
      series_id: first.id,
    });
  });

  it("keeps its recurrence through a rename with a partial PUT", async () => {
    const user = newUser();
    const task = await createTask(user, { title: "old name", due_date: "2027-06-07T08:00:00Z", recurrence: BERLIN_WEEKLY });
    const renamed = (await (await call(`/api/${user}/tasks/${task.id}`, { method: "PUT", body: { title: "new name" } })).json()) as Task;
    expect(renamed).toMatchObject({ title: "new name", recurrence: BERLIN_WEEKLY, series_id: task.id });
  });

  it("stops recurring when recurrence is set to null", async () => {
    const user = newUser();
    const task = await createTask(user, { title: "stop", due_date: "2027-06-07T08:00:00Z", recurrence: BERLIN_WEEKLY });
    const stopped = (await (await call(`/api/${user}/tasks/${task.id}`, { method: "PATCH", body: { recurrence: null } })).json()) as Task;
    expect(stopped).toMatchObject({ recurrence: null, series_id: null });
    expect((await complete(user, task.id)).next_id).toBeNull();
  });

  it("shows its next occurrence in /changes like any create", async () => {
    const user = newUser();
    const task = await createTask(user, { title: "synced", due_date: "2027-06-07T08:00:00Z", recurrence: BERLIN_WEEKLY });
    const { cursor } = (await (await call(`/api/${user}/changes`)).json()) as { cursor: string };
    const done = await complete(user, task.id);
    const page = (await (await call(`/api/${user}/changes?since=${cursor}`)).json()) as { changes: Array<{ task: Task }> };
    expect(page.changes.map((change) => change.task.id)).toEqual([task.id, done.next_id]);
  });
});

describe("GET /api/{user_id}/tasks/{id}/occurrences", () => {
  it("lists the next due dates after both the due date and now; the first is the one completing now would create", async () => {
    const user = newUser();
    const task = await createTask(user, { title: "weekly", due_date: "2027-03-15T08:00:00Z", recurrence: BERLIN_WEEKLY });
    const response = await call(`/api/${user}/tasks/${task.id}/occurrences?limit=3`);
    expect(await response.json()).toEqual({
      occurrences: ["2027-03-22T08:00:00.000Z", "2027-03-29T07:00:00.000Z", "2027-04-05T07:00:00.000Z"],
    });
    const following = await next(user, await complete(user, task.id));
    expect(following.due_date).toBe("2027-03-22T08:00:00.000Z");
  });

  it("defaults to 10, and is [] for a task that does not recur", async () => {
    const user = newUser();
    const recurring = await createTask(user, {
      title: "daily",
      due_date: "2027-01-01T08:00:00Z",
      recurrence: { rule: "FREQ=DAILY", time_zone: "UTC" },
    });
    expect(
      ((await (await call(`/api/${user}/tasks/${recurring.id}/occurrences`)).json()) as { occurrences: string[] }).occurrences,
    ).toHaveLength(10);
    const plain = await createTask(user, { title: "plain" });
    expect(await (await call(`/api/${user}/tasks/${plain.id}/occurrences`)).json()).toEqual({ occurrences: [] });
  });

  it("answers 404 for another user's task and 422 for a bad limit", async () => {
    const user = newUser();
    const task = await createTask(newUser(), {
      title: "theirs",
      due_date: "2027-01-01T08:00:00Z",
      recurrence: { rule: "FREQ=DAILY", time_zone: "UTC" },
    });
    await expectProblem(await call(`/api/${user}/tasks/${task.id}/occurrences`), "task_not_found");
    for (const limit of ["0", "101", "x"])
      await expectProblem(await call(`/api/${user}/tasks/1/occurrences?limit=${limit}`), "validation_failed", "limit");
  });
});

describe("bad recurrences: 422 naming the path, nothing stored", () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ["an unknown rule part", { rule: "FREQ=WEEKLY;BYSETPOS=1", time_zone: "Europe/Berlin" }, "recurrence.rule"],
    ["FREQ=HOURLY", { rule: "FREQ=HOURLY", time_zone: "Europe/Berlin" }, "recurrence.rule"],
    ["the RRULE: prefix", { rule: "RRULE:FREQ=DAILY", time_zone: "Europe/Berlin" }, "recurrence.rule"],
    ["an ordinal BYDAY on a weekly rule", { rule: "FREQ=WEEKLY;BYDAY=2MO", time_zone: "Europe/Berlin" }, "recurrence.rule"],
    ["COUNT with UNTIL", { rule: "FREQ=DAILY;COUNT=2;UNTIL=20280101", time_zone: "Europe/Berlin" }, "recurrence.rule"],
    ["an unknown zone", { rule: "FREQ=DAILY", time_zone: "Mars/Olympus_Mons" }, "recurrence.time_zone"],
    ["an offset instead of a zone", { rule: "FREQ=DAILY", time_zone: "+01:00" }, "recurrence.time_zone"],
    [
      "anchor completion with BY parts",
      { rule: "FREQ=WEEKLY;BYDAY=MO", time_zone: "Europe/Berlin", anchor: "completion" },
      "recurrence.anchor",
    ],
    ["an unknown anchor", { rule: "FREQ=DAILY", time_zone: "Europe/Berlin", anchor: "whenever" }, "recurrence.anchor"],
    ["an unknown member", { rule: "FREQ=DAILY", time_zone: "Europe/Berlin", every: "day" }, "recurrence.every"],
    ["a rule that never occurs: February 30", { rule: "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", time_zone: "UTC" }, "recurrence.rule"],
    [
      "a rule that never occurs: the 31st of short months",
      { rule: "FREQ=MONTHLY;BYMONTHDAY=31;BYMONTH=4,6,9,11", time_zone: "UTC" },
      "recurrence.rule",
    ],
    [
      "a rule that never occurs: a 5th Friday that is a 13th",
      { rule: "FREQ=MONTHLY;BYDAY=5FR;BYMONTHDAY=13", time_zone: "UTC" },
      "recurrence.rule",
    ],
  ];
  it.each(cases)("%s", async (_label, recurrence, path) => {
    const user = newUser();
    await expectProblem(
      await call(`/api/${user}/tasks`, { method: "POST", body: { title: "t", due_date: "2027-01-01T08:00:00Z", recurrence } }),
      "validation_failed",
      path,
    );
    expect(await tasksOf(user)).toEqual([]);
  });

  it("a recurrence without a due date, on create: 422 naming due_date", async () => {
    const user = newUser();
    const body = { title: "t", recurrence: { rule: "FREQ=DAILY", time_zone: "UTC" } };
    await expectProblem(await call(`/api/${user}/tasks`, { method: "POST", body }), "validation_failed", "due_date");
    expect(await tasksOf(user)).toEqual([]);
  });

  it("a recurrence on a task without a due date, or a due date removed from a recurring task: 422 naming due_date, nothing changed", async () => {
    const user = newUser();
    const plain = await createTask(user, { title: "no date" });
    const recurring = await createTask(user, { title: "dated", due_date: "2027-01-01T08:00:00Z", recurrence: BERLIN_WEEKLY });
    const recurrence = { rule: "FREQ=DAILY", time_zone: "UTC" };
    await expectProblem(
      await call(`/api/${user}/tasks/${plain.id}`, { method: "PATCH", body: { recurrence } }),
      "validation_failed",
      "due_date",
    );
    await expectProblem(
      await call(`/api/${user}/tasks/${recurring.id}`, { method: "PATCH", body: { due_date: null } }),
      "validation_failed",
      "due_date",
    );
    const batch = await call(`/api/${user}/tasks/batch`, {
      method: "POST",
      body: {
        operations: [
          { op: "create", task: { title: "x" } },
          { op: "update", id: plain.id, task: { recurrence } },
        ],
      },
    });
    const problem = await expectProblem(batch, "validation_failed", "operations/1/task.due_date");
    expect((problem as unknown as { operation: number }).operation).toBe(1);
    expect(await tasksOf(user)).toEqual([plain, recurring]);
  });
});

describe("the occurrence math of one request is bounded", () => {
  // The costliest kind of series: COUNT counted from year 1, at an INTERVAL whose years cannot be
  // looked up, every day of a grid week counted one by one (scripts/bench-recurrence.ts).
  const COSTLY = { rule: "FREQ=WEEKLY;INTERVAL=147;BYDAY=MO,TU,WE,TH,FR,SA,SU;COUNT=10000000", time_zone: "Europe/Berlin" };

  it("a batch completing 100 of the costliest series: a 422 recurrence_too_complex naming the operation, nothing changed, answered well within limits; smaller batches complete them", async () => {
    const user = newUser();
    const created = await call(`/api/${user}/tasks/batch`, {
      method: "POST",
      body: {
        operations: Array.from({ length: 100 }, (_, i) => ({
          op: "create",
          task: { title: `costly ${i}`, due_date: "0001-01-01T09:00:00Z", recurrence: COSTLY },
        })),
      },
    });
    expect(created.status).toBe(200);
    const ids = ((await created.json()) as { results: Array<{ task: Task }> }).results.map((result) => result.task.id);
    const before = await tasksOf(user);

    const started = performance.now();
    const refused = await untilAvailable(() =>
      call(`/api/${user}/tasks/batch`, {
        method: "POST",
        body: { operations: ids.map((id) => ({ op: "complete", id, completed: true })) },
      }),
    );
    const elapsed = performance.now() - started;
    const problem = (await expectProblem(refused, "recurrence_too_complex")) as unknown as { operation: number; detail: string };
    // Some fit in the budget (each series alone takes at most a fifth of it); not all 100 do.
    expect(problem.operation).toBeGreaterThan(4);
    expect(problem.operation).toBeLessThan(100);
    expect(problem.detail).toMatch(/^operation \d+: .*smaller batches$/);
    // Generous: a busy machine; the budget itself is milliseconds of CPU (npm run bench:recurrence).
    expect(elapsed).toBeLessThan(10_000);
    expect(await tasksOf(user)).toEqual(before);

    // The same completions, five at a time: each batch fits, and each task gets its next occurrence.
    for (let i = 0; i < ids.length; i += 5) {
      const operations = ids.slice(i, i + 5).map((id) => ({ op: "complete", id, completed: true }));
      const batch = await untilAvailable(() => call(`/api/${user}/tasks/batch`, { method: "POST", body: { operations } }));
      expect(batch.status).toBe(200);
    }
    const after = await tasksOf(user);
    expect(after).toHaveLength(200);
    expect(after.filter((task) => task.completed).every((task) => task.next_id !== null)).toBe(true);
  });

  it("one costly series alone is always answered: its completion and its next 100 due dates", async () => {
    const user = newUser();
    const task = await createTask(user, { title: "costly", due_date: "0001-01-01T09:00:00Z", recurrence: COSTLY });
    const occurrences = await call(`/api/${user}/tasks/${task.id}/occurrences?limit=100`);
    expect(occurrences.status).toBe(200);
    const { occurrences: dates } = (await occurrences.json()) as { occurrences: string[] };
    expect(dates).toHaveLength(100);
    const done = await complete(user, task.id);
    expect((await next(user, done)).due_date).toBe(dates[0]);
  });
});
