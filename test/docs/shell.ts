// One page's bash session: its blocks run one after another in the same shell, so variables and
// functions carry from block to block as they do for a reader pasting them into one terminal.
// The shell runs with `set -eEuo pipefail` (and inherit_errexit): the first failing command ends
// the block and the session, and a variable the page never defined is an error, so every page
// has to set up what it uses. Its own process group, killed with everything a block started.
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

export interface BlockResult {
  ok: boolean;
  /** What the block printed (stdout and stderr, as they came). */
  output: string;
  /** Why it failed: the exit status and the commands that failed, or a timeout. */
  failure?: string;
}

export class Shell {
  readonly #child: ChildProcess;
  readonly #scratch: string;
  readonly #nonce = randomUUID();
  #output = "";
  #exit: string | undefined;
  #blocks = 0;

  /** `cwd`: where the blocks run; `env`: all the environment they get. */
  constructor(cwd: string, env: Record<string, string>) {
    this.#scratch = mkdtempSync(path.join(tmpdir(), "task-api-docs-shell-"));
    this.#child = spawn("bash", ["--noprofile", "--norc"], { cwd, env, detached: true, stdio: ["pipe", "pipe", "pipe"] });
    for (const stream of [this.#child.stdout, this.#child.stderr]) {
      stream?.setEncoding("utf8");
      stream?.on("data", (chunk: string) => {
        this.#output += chunk;
      });
    }
    this.#child.once("exit", (code, signal) => {
      this.#exit = signal === null ? `exit status ${code}` : `signal ${signal}`;
    });
    // Writing to a shell that has just ended fails; run() then reports how it ended.
    this.#child.stdin?.on("error", () => {});
    // Also when the test process ends without kill() (a crash, Ctrl-C): nothing a block started stays.
    process.once("exit", this.#onExit);
    const failed = path.join(this.#scratch, "failed");
    // The ERR trap names each failing command (also inside $(…)), before set -e ends the shell.
    this.#send(`set -eEuo pipefail
shopt -s inherit_errexit
trap 'printf "%s\\t%s\\n" "$?" "$BASH_COMMAND" >> ${quote(failed)}' ERR
`);
  }

  /** Whether the session has ended (a block failed or timed out). */
  get dead(): boolean {
    return this.#exit !== undefined;
  }

  #send(text: string): void {
    this.#child.stdin?.write(text);
  }

  /** Runs `code` in the session; resolves when it has finished, failed, or run out of time. */
  async run(code: string, timeoutMs: number): Promise<BlockResult> {
    const block = ++this.#blocks;
    const file = path.join(this.#scratch, `block-${block}.sh`);
    writeFileSync(file, `${code}\n`);
    const done = `__docs_block_done_${this.#nonce}_${block}`;
    this.#output = "";
    // stdin from /dev/null: a command in the block must not read the following blocks.
    this.#send(`source ${quote(file)} </dev/null\nprintf '\\n%s\\n' ${done}\n`);

    const deadline = Date.now() + timeoutMs;
    while (!this.#output.includes(`${done}\n`) && this.#exit === undefined && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const finished = this.#output.includes(`${done}\n`);
    const output = this.#output.replace(`\n${done}\n`, "").trimEnd();
    if (finished) return { ok: true, output };
    if (this.#exit === undefined) {
      this.kill();
      return { ok: false, output, failure: `timed out after ${timeoutMs / 1000} s` };
    }
    // Give the streams a moment to deliver what the shell printed before it ended.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const failed = readText(path.join(this.#scratch, "failed"))
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => {
        const [status, ...command] = line.split("\t");
        return `  ${command.join("\t")}  (exit status ${status})`;
      });
    return {
      ok: false,
      output: this.#output.trimEnd(),
      failure: `the shell ended (${this.#exit})${failed.length > 0 ? `; failing commands, innermost first:\n${failed.join("\n")}` : ""}`,
    };
  }

  readonly #onExit = () => this.kill();

  /** Ends the shell and everything its blocks started; deletes its files. */
  kill(): void {
    process.removeListener("exit", this.#onExit);
    const pid = this.#child.pid;
    if (pid !== undefined) {
      try {
        process.kill(-pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    this.#exit ??= "killed";
    rmSync(this.#scratch, { recursive: true, force: true });
  }
}

function readText(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

/** A single-quoted shell word. */
function quote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}
