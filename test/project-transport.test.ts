// Each vitest project runs the suite on its own database transport (vitest.config.ts): this
// guards that the project's Worker really is bound the project's way, not both the same. It runs
// on both projects, unlike test/transports.test.ts, which binds both transports itself.
import { describe, expect, inject, it } from "vitest";
import { call, newUser } from "./support/api.ts";

describe("the suite's own Worker", () => {
  // The rest of the suite runs once per vitest project; this guards that each project's Worker
  // really is bound the project's way, not both the same.
  it("is bound to this vitest project's transport", async ({ task }) => {
    expect(inject("transport")).toBe(task.file.projectName);
    const user = newUser();
    if (inject("transport") === "hyperdrive") {
      expect(inject("neonProxy")).toBe("");
      expect((await call(`/api/${user}/tasks`)).status).toBe(200);
      return;
    }
    const piped = async () => Number(await (await fetch(`http://${inject("neonProxy")}/connections`)).text());
    const before = await piped();
    expect((await call(`/api/${user}/tasks`)).status).toBe(200);
    // Other files' requests go through it too, in parallel: at least this one did.
    expect(await piped()).toBeGreaterThan(before);
  });
});
