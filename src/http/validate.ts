// Runs a valibot schema over client input; any issue becomes one 422 validation_failed listing them.
import * as v from "valibot";
import { type FieldError, validationFailed } from "../problems.ts";

function toFieldError(issue: v.BaseIssue<unknown>): FieldError {
  const path = v.getDotPath(issue) ?? "";
  // valibot reports a missing required key with the key's expected type; say it plainly.
  const message = issue.received === "undefined" ? "is required" : issue.message;
  return { path, message };
}

export function validate<S extends v.GenericSchema>(schema: S, input: unknown): v.InferOutput<S> {
  const result = v.safeParse(schema, input);
  if (result.success) return result.output;
  throw validationFailed(result.issues.map(toFieldError));
}
