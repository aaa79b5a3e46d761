// A CPU profile of the Worker under load, through the V8 inspector workerd opens, attributed to
// the parts of a request: routing, auth, validation, the pg driver, our own code, the runtime's
// sockets, and the rest. The bundle's esbuild module markers ("// node_modules/pg/lib/…") map
// profiled lines back to packages.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { openInspector } from "../lib/inspector.ts";

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

export interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
}

export interface ProfileShare {
  part: string;
  /** Share of the isolate's busy (non-idle) time, in percent. */
  percent: number;
}

export interface CpuProfile {
  /** Wall time profiled, in seconds. */
  seconds: number;
  /** Fraction of that time the isolate was busy. */
  busy: number;
  parts: ProfileShare[];
}

/** Which part of a request a bundled module belongs to. */
function partOfModule(module: string): string {
  if (module.startsWith("src/")) return "our code (src/)";
  if (module.startsWith("scripts/bench/floor/")) return "the floor's own code";
  if (module.includes("itty-router")) return "routing (itty-router)";
  if (module.includes("/jose/")) return "auth (jose)";
  if (module.includes("/valibot/")) return "validation (valibot)";
  if (/node_modules\/(pg|pg-[a-z-]+|postgres-[a-z]+|pgpass|split2|xtend)\//.test(module)) return "pg driver";
  return `other JS (${module})`;
}

/** Which part a runtime (non-bundle) frame belongs to. */
function partOfNative(functionName: string, url: string): string {
  if (["connect", "read", "write", "close"].includes(functionName) || url.startsWith("cloudflare:sockets")) return "runtime: TCP sockets";
  if (url.startsWith("node-internal:")) return "pg driver (Node compat: Buffer, events)";
  if (["verify", "sign", "importKey", "digest"].includes(functionName)) return "auth (WebCrypto)";
  if (functionName === "(garbage collector)") return "runtime: garbage collection";
  return "runtime: other (HTTP, timers, program)";
}

function bundleModules(bundlePath: string): { line: number; module: string }[] {
  const starts: { line: number; module: string }[] = [];
  readFileSync(bundlePath, "utf8")
    .split("\n")
    .forEach((text, index) => {
      // Relative to where wrangler ran: "../../elsewhere/node_modules/pg/…" for a bundle built
      // from another directory (the floor's, or a checkout whose node_modules is a symlink).
      const match = /^\/\/ (?:\S*?\/)?((?:src|node_modules|scripts)\/\S+)$/.exec(text);
      if (match?.[1]) starts.push({ line: index, module: match[1] });
    });
  return starts;
}

/**
 * Runs `load` while sampling the Worker's CPU, and attributes the samples. `saveAs`: also write the
 * raw profile there (a .cpuprofile opens in Chrome DevTools' Performance panel).
 */
export async function profileWhile(
  inspectorPort: number,
  bundlePath: string,
  load: () => Promise<unknown>,
  saveAs?: string,
): Promise<CpuProfile> {
  const session = await openInspector(inspectorPort);
  let profile: Profile;
  try {
    await session.send("Profiler.enable");
    await session.send("Profiler.setSamplingInterval", { interval: 200 });
    await session.send("Profiler.start");
    await load();
    ({ profile } = await session.send<{ profile: Profile }>("Profiler.stop"));
  } finally {
    session.close();
  }
  if (saveAs !== undefined) {
    mkdirSync(path.dirname(saveAs), { recursive: true });
    writeFileSync(saveAs, JSON.stringify(profile));
  }
  return attribute(profile, bundlePath);
}

/** Attributes a profile's samples to the parts of a request. */
export function attribute(profile: Profile, bundlePath: string): CpuProfile {
  const modules = bundleModules(bundlePath);
  const moduleAt = (line: number) => {
    let lo = 0;
    let hi = modules.length - 1;
    let found = "unknown";
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const entry = modules[mid] as { line: number; module: string };
      if (entry.line <= line) {
        found = entry.module;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  };
  const hits = new Map<string, number>();
  let idle = 0;
  let total = 0;
  for (const node of profile.nodes) {
    const count = node.hitCount ?? 0;
    if (count === 0) continue;
    total += count;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === "(idle)") {
      idle += count;
      continue;
    }
    const part =
      url.endsWith(".js") && !url.startsWith("node-internal:") ? partOfModule(moduleAt(lineNumber)) : partOfNative(functionName, url);
    hits.set(part, (hits.get(part) ?? 0) + count);
  }
  const busy = Math.max(total - idle, 1);
  return {
    seconds: (profile.endTime - profile.startTime) / 1e6,
    busy: busy / Math.max(total, 1),
    parts: [...hits].map(([part, count]) => ({ part, percent: (count / busy) * 100 })).sort((a, b) => b.percent - a.percent),
  };
}
