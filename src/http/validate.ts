// Runs a valibot schema over client input; any issue becomes one 422 problem listing them all.
import * as v from "valibot";
import { type FieldError, HttpError } from "./problem.ts";

function toFieldError(issue: v.BaseIssue<unknown>): FieldError {
  const path = v.getDotPath(issue) ?? "";
  // valibot reports a missing required key with the key's expected type; say it plainly.
  const message = issue.received === "undefined" ? "is required" : issue.message;
  return { path, message };
}

export function validate<S extends v.GenericSchema>(schema: S, input: unknown): v.InferOutput<S> {
  const result = v.safeParse(schema, input);
  if (result.success) return result.output;
  const errors = result.issues.map(toFieldError);
  const detail = errors.map((e) => (e.path ? `${e.path} ${e.message}` : e.message)).join("; ");
  throw new HttpError(422, detail, { errors });
}
