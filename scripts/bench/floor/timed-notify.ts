// npm run bench:fanout's second Worker: this project's Worker unchanged (src/index.ts and its
// LiveUpdates class), with only its LIVE binding wrapped, to time from inside the Worker the
// notify fan-out of each write: from the first notify RPC announce() makes (src/live/notify.ts,
// in ctx.waitUntil) to the answer of the last one, that is until every member's Durable Object
// has sent `changed` to its sockets. GET /__bench/notify-timings answers the timings recorded
// since the last call (and forgets them). It lives beside the floor because tsconfig.json checks
// this directory with the Workers' types (scripts/ are checked with Node's).
import type { Env, LiveNamespace } from "../../../src/env.ts";
import worker from "../../../src/index.ts";

export { LiveUpdates } from "../../../src/live/object.ts";

/** The notify RPCs of one write: announce() makes them all in one synchronous loop. */
interface NotifyTiming {
  calls: number;
  failed: number;
  /** From the first call to the last answer, ms, on the runtime's clock (which moves with I/O). */
  ms: number;
}

interface Batch {
  started: number;
  calls: number;
  settled: number;
  failed: number;
}

/** scripts/bench/fanout.ts reads it (a Worker's module exports only its handlers and classes). */
const TIMINGS_PATH = "/__bench/notify-timings";

const timings: NotifyTiming[] = [];
let open: Batch | undefined;

function settle(batch: Batch, failed: boolean): void {
  batch.settled++;
  if (failed) batch.failed++;
  if (batch.settled === batch.calls) timings.push({ calls: batch.calls, failed: batch.failed, ms: performance.now() - batch.started });
}

function timed(live: LiveNamespace): LiveNamespace {
  return {
    idFromName: (name) => live.idFromName(name),
    get: (id) => {
      const stub = live.get(id);
      return {
        fetch: (request) => stub.fetch(request),
        notify: (position) => {
          let batch = open;
          if (batch === undefined) {
            const started: Batch = { started: performance.now(), calls: 0, settled: 0, failed: 0 };
            batch = open = started;
            // The calls of one announce() come in one turn; the next write's start a new batch.
            queueMicrotask(() => {
              if (open === started) open = undefined;
            });
          }
          const current = batch;
          current.calls++;
          return stub.notify(position).then(
            () => settle(current, false),
            (error: unknown) => {
              settle(current, true);
              throw error;
            },
          );
        },
      };
    },
  };
}

/** One wrapped env per env the runtime passes (the Worker's config is cached by env). */
const wrapped = new WeakMap<Env, Env>();

export default {
  fetch: (request, env, ctx) => {
    if (new URL(request.url).pathname === TIMINGS_PATH) return Response.json(timings.splice(0));
    let own = wrapped.get(env);
    if (own === undefined) {
      own = env.LIVE === undefined ? env : { ...env, LIVE: timed(env.LIVE) };
      wrapped.set(env, own);
    }
    return worker.fetch(request, own, ctx);
  },
} satisfies ExportedHandler<Env>;
