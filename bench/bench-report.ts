import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { MachineInfo } from "./machine-info.js";
import type { RatioRow, SummaryRow, TargetCheck } from "./bench-summary.js";
import type { SystemInfo } from "./single-node-benchmark.js";

/** Renders the summary as a markdown table (stdout and docs/benchmarks.md share it). */
export function formatTable(rows: readonly SummaryRow[], systems: readonly SystemInfo[]): string {
  const label = (name: string) => systems.find((system) => system.name === name)?.label ?? name;
  const lines = [
    "| system | op | value | conc. | ops/s (median) | spread | p50 | p99 | p99.9 | max | server CPU | load CPU |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const row of rows) {
    const m = row.median;
    lines.push(
      `| ${label(row.system)} | ${row.op.toUpperCase()} | ${formatBytes(row.valueBytes)} | ${row.concurrency} | ${formatOps(m.opsPerSec)} | ` +
        `${formatSpread(row)} | ${formatUs(m.latency.p50Us)} | ${formatUs(m.latency.p99Us)} | ${formatUs(m.latency.p999Us)} | ${formatUs(m.latency.maxUs)} | ` +
        `${m.serverCpuPct === null ? "n/a" : `${Math.round(m.serverCpuPct)}%`} | ${Math.round(m.loadCpuPct)}% |${m.errors > 0 ? ` ${m.errors} errors` : ""}`,
    );
  }
  return lines.join("\n");
}

export function formatRatios(rows: readonly RatioRow[]): string {
  const lines = ["| op | value | conc. | Shoal/ceiling ops/s | Shoal/ceiling p99.9 | Shoal/Redis ops/s |", "|---|---|---|---|---|---|"];
  const fmt = (value: number | null) => (value === null ? "n/a" : value.toFixed(2));
  for (const row of rows) {
    lines.push(`| ${row.op.toUpperCase()} | ${formatBytes(row.valueBytes)} | ${row.concurrency} | ${fmt(row.opsVsCeiling)} | ${fmt(row.p999VsCeiling)} | ${fmt(row.opsVsRedis)} |`);
  }
  return lines.join("\n");
}

export function formatTargets(checks: readonly TargetCheck[]): string {
  return checks.map((check) => `- ${check.met === null ? "?" : check.met ? "met" : "MISSED"}: ${check.name} (${check.value})`).join("\n");
}

export function formatSystems(systems: readonly SystemInfo[]): string {
  return systems.map((system) => `- ${system.label}: durability ${system.durability}${system.skipped ? ` (skipped: ${system.skipped})` : ""}`).join("\n");
}

export function formatMachine(machine: MachineInfo): string {
  return [
    `- date: ${machine.date}`,
    `- machine: ${machine.cpus} CPUs (${machine.cpuModel}), Node ${machine.nodeVersion}, ${machine.platform}`,
    `- pinning: ${machine.pinning}`,
    `- load average at start: ${machine.loadAverage.map((value) => value.toFixed(2)).join(" / ")} (1/5/15 min)`,
    `- also running at start (by CPU share): ${machine.busyProcesses.length > 0 ? machine.busyProcesses.join(", ") : "unknown"}`,
  ].join("\n");
}

function formatSpread(row: SummaryRow): string {
  if (row.runs < 2) return "1 run";
  const low = (100 * (row.opsPerSecMin - row.median.opsPerSec)) / row.median.opsPerSec;
  const high = (100 * (row.opsPerSecMax - row.median.opsPerSec)) / row.median.opsPerSec;
  return `${low.toFixed(0)}%/+${high.toFixed(0)}%`;
}

export function formatOps(opsPerSec: number): string {
  return opsPerSec >= 10_000 ? `${(opsPerSec / 1000).toFixed(1)}k` : `${Math.round(opsPerSec)}`;
}

export function formatUs(us: number): string {
  if (us < 1000) return `${Math.round(us)} µs`;
  return `${(us / 1000).toFixed(us < 10_000 ? 2 : 1)} ms`;
}

function formatBytes(bytes: number): string {
  return bytes >= 1024 && bytes % 1024 === 0 ? `${bytes / 1024} KiB` : `${bytes} B`;
}

/** Writes `<dir>/<date>-<name>.json` and returns its path. */
export function writeResultsFile(dir: string, date: string, content: unknown, name = "single-node"): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${date}-${name}.json`);
  writeFileSync(path, `${JSON.stringify(content, null, 2)}\n`);
  return path;
}

/**
 * Replaces a generated section of docs/benchmarks.md (between the markers of `name`) and keeps
 * the hand-written text around it. A file without the markers gets the section appended.
 */
export function rewriteDocsSection(path: string, section: string, name = "single-node"): void {
  const startMarker = `<!-- bench:${name}:start -->`;
  const endMarker = `<!-- bench:${name}:end -->`;
  const generated = `${startMarker}\n${section.trim()}\n${endMarker}`;
  const current = existsSync(path) ? readFileSync(path, "utf8") : "# Benchmarks\n";
  const start = current.indexOf(startMarker);
  const end = current.indexOf(endMarker);
  const next = start >= 0 && end > start
    ? current.slice(0, start) + generated + current.slice(end + endMarker.length)
    : `${current.trimEnd()}\n\n${generated}\n`;
  writeFileSync(path, next);
}
