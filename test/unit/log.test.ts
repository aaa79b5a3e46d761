// describeError (src/log.ts): what a log line's `cause` field says about a caught error.
import { describe, expect, it } from "vitest";
import { describeError } from "../../src/log.ts";

describe("describeError", () => {
  it("gives an Error's name, message, SQLSTATE and stack", () => {
    const error = Object.assign(new Error("canceling statement due to statement timeout"), { code: "57014" });
    expect(describeError(error)).toMatchObject({ name: "Error", message: error.message, code: "57014", stack: error.stack });
  });

  it("follows the cause chain two levels down, and no further", () => {
    const root = new TypeError("root");
    const middle = new Error("middle", { cause: root });
    const top = new RangeError("top", { cause: new Error("upper", { cause: middle }) });
    const described = describeError(top) as { cause: { cause: { cause?: unknown; message: string } } };
    expect(described).toMatchObject({ name: "RangeError", cause: { message: "upper", cause: { message: "middle" } } });
    expect(described.cause.cause.cause).toBeUndefined();
  });

  it("gives a WebSocket ErrorEvent's class and message, which String() would hide", () => {
    class ErrorEvent extends Event {
      readonly message: string;
      constructor(message: string) {
        super("error");
        this.message = message;
      }
    }
    expect(describeError(new ErrorEvent("WebSocket connection failed"))).toEqual({
      name: "ErrorEvent",
      message: "WebSocket connection failed",
    });
  });

  it("gives anything else as a string", () => {
    expect(describeError("boom")).toEqual({ value: "boom" });
    expect(describeError(undefined)).toEqual({ value: "undefined" });
    expect(describeError(null)).toEqual({ value: "null" });
  });
});
