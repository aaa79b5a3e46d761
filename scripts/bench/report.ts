// Prints the benchmark table and writes the figures as JSON and an SVG latency chart.
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { ScenarioResult } from "./scenarios.ts";

const fixed = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : "-");

export function table(results: ScenarioResult[]): string {
  const header = ["scenario", "req/s", "p50 ms", "p95 ms", "p99 ms", "non-2xx", "errors", "SQL/req", "SQL ms"];
  const rows = results.map((r) => [
    r.name,
    fixed(r.rps, 0),
    fixed(r.p50),
    fixed(r.p95),
    fixed(r.p99),
    String(r.non2xx),
    String(r.errors),
    fixed(r.sqlPerRequest, 2),
    fixed(r.sqlMs, 2),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/** Grouped bars: p50, p95 and p99 per scenario, with the 50 ms target drawn across. */
export function svgChart(results: ScenarioResult[], targetMs: number): string {
  const width = 960;
  const height = 420;
  const margin = { top: 40, right: 20, bottom: 120, left: 60 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const max = Math.max(targetMs * 1.2, ...results.map((r) => r.p99).filter(Number.isFinite));
  const y = (ms: number) => margin.top + plotH - (ms / max) * plotH;
  const group = plotW / Math.max(results.length, 1);
  const bar = (group * 0.8) / 3;
  const colors = { p50: "#4e79a7", p95: "#f28e2b", p99: "#e15759" };
  const esc = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;");
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14">Latency per scenario (ms), 100 connections</text>`,
  ];
  for (let t = 0; t <= max; t += max > 200 ? 50 : 10) {
    parts.push(`<line x1="${margin.left}" x2="${width - margin.right}" y1="${y(t)}" y2="${y(t)}" stroke="#eee"/>`);
    parts.push(`<text x="${margin.left - 6}" y="${y(t) + 4}" text-anchor="end">${t}</text>`);
  }
  results.forEach((r, i) => {
    const x0 = margin.left + i * group + group * 0.1;
    (["p50", "p95", "p99"] as const).forEach((key, k) => {
      const value = r[key];
      if (!Number.isFinite(value)) return;
      parts.push(
        `<rect x="${x0 + k * bar}" y="${y(value)}" width="${bar - 1}" height="${margin.top + plotH - y(value)}" fill="${colors[key]}"><title>${esc(r.name)} ${key}: ${value.toFixed(1)} ms</title></rect>`,
      );
    });
    const cx = x0 + bar * 1.5;
    parts.push(`<text transform="translate(${cx},${margin.top + plotH + 10}) rotate(35)" text-anchor="start">${esc(r.name)}</text>`);
  });
  parts.push(
    `<line x1="${margin.left}" x2="${width - margin.right}" y1="${y(targetMs)}" y2="${y(targetMs)}" stroke="#333" stroke-dasharray="4 3"/>`,
    `<text x="${width - margin.right}" y="${y(targetMs) - 4}" text-anchor="end">p95 target ${targetMs} ms</text>`,
  );
  (["p50", "p95", "p99"] as const).forEach((key, k) => {
    parts.push(`<rect x="${margin.left + k * 70}" y="${height - 24}" width="12" height="12" fill="${colors[key]}"/>`);
    parts.push(`<text x="${margin.left + k * 70 + 16}" y="${height - 14}">${key}</text>`);
  });
  parts.push("</svg>");
  return parts.join("\n");
}

export async function writeResults(dir: string, figures: object, svg: string): Promise<{ json: string; svg: string }> {
  await mkdir(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const json = JSON.stringify(figures, null, 2);
  await writeFile(path.join(dir, `results-${stamp}.json`), json);
  await writeFile(path.join(dir, "results.json"), json);
  await writeFile(path.join(dir, "latency.svg"), svg);
  return { json: path.join(dir, "results.json"), svg: path.join(dir, "latency.svg") };
}
