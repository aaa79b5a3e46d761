// GET /api/{user_id}/tasks/{id}/occurrences (API.md "Recurring tasks"): the series' next due
// dates after both the task's due date and now, computed here from its rule; one statement.
import { findSeries } from "../db/tasks.ts";
import type { AuthedRequest } from "../http/context.ts";
import { json } from "../http/json.ts";
import { recurrenceTooComplex, taskNotFound } from "../problems.ts";
import { BudgetExceeded } from "../recurrence/budget.ts";
import { upcoming } from "../recurrence/next.ts";
import { parseRecurrence } from "../recurrence/schema.ts";
import { parseOccurrencesQuery } from "../schemas/occurrences.ts";
import { dbFor } from "./database.ts";
import { taskId } from "./tasks.ts";

export async function listOccurrences(request: AuthedRequest, _env: unknown, ctx: ExecutionContext): Promise<Response> {
  const id = taskId(request);
  const { limit } = parseOccurrencesQuery(new URL(request.url).searchParams);
  const series = await findSeries(dbFor(request, ctx), request.userId, id);
  if (series === undefined) throw taskNotFound();
  const { recurrence, dueDate, seriesStart, seriesIndex } = series;
  if (recurrence === null || dueDate === null || seriesStart === null || seriesIndex === null) return json({ occurrences: [] });
  let dates: Date[];
  try {
    dates = upcoming(
      { ...parseRecurrence(recurrence), dtstart: new Date(seriesStart), index: seriesIndex },
      new Date(dueDate),
      new Date(),
      limit,
    );
  } catch (error) {
    // One series' dates take at most a fifth of a request's budget (budget.ts): a safeguard.
    if (error instanceof BudgetExceeded) throw recurrenceTooComplex();
    throw error;
  }
  return json({ occurrences: dates.map((date) => date.toISOString()) });
}
