import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import type { LoadResult } from "./load-spec.js";

/**
 * The run loop and the reporting the profiling probes share (perf-probe.ts, dynamo-probe.ts,
 * dynamo-strong-probe.ts): variants (builds, modes) alternated run by run, odd runs in
 * order and even runs reversed, so none always goes first on a machine whose weather changes;
 * V8 profiles of the servers a variant starts; one row per run and scenario; medians per
 * variant and scenario.
 */
export interface ProbeRow {
  /** The variant: a build's root, with a mode when the probe alternates modes too. */
  root: string;
  scenario: string;
  opsPerSec: number;
  p50Ms: number;
  p999Ms: number;
  /** The servers' CPU per operation, in microseconds (NaN when it could not be read). */
  cpuUsPerOp: number;
  errors: number;
}

/** The row of one load run. */
export function rowOf(root: string, scenario: string, result: LoadResult): ProbeRow {
  return {
    root,
    scenario,
    opsPerSec: result.opsPerSec,
    p50Ms: result.latency.p50Us / 1000,
    p999Ms: result.latency.p999Us / 1000,
    cpuUsPerOp: result.serverCpuPct === null ? NaN : ((result.serverCpuPct / 100) * 1e6) / result.opsPerSec,
    errors: result.errors,
  };
}

/** Runs `each` for every variant, `runs` times: odd runs in order, even runs reversed. */
export async function alternateRuns<V>(runs: number, variants: readonly V[], each: (variant: V, run: number, index: number) => Promise<void>): Promise<void> {
  for (let run = 1; run <= runs; run++) {
    const order = variants.map((variant, index) => ({ variant, index }));
    for (const { variant, index } of run % 2 === 1 ? order : order.reverse()) await each(variant, run, index);
  }
}

/**
 * Starts servers with `start` so that, with `profileDir`, each writes a V8 CPU profile
 * (profile-hook.ts) under profileDir/run<run>-<index>: the servers inherit the environment
 * when they are spawned, and it is put back as it was afterwards.
 */
export async function startProfiled<T>(profileDir: string | undefined, run: number, index: number, start: () => Promise<T>): Promise<T> {
  if (profileDir === undefined) return start();
  const dir = join(resolve(profileDir), `run${run}-${index}`);
  mkdirSync(dir, { recursive: true });
  const saved = { options: process.env.NODE_OPTIONS, dir: process.env.SHOAL_PROFILE_DIR };
  process.env.NODE_OPTIONS = `--import=${new URL("./profile-hook.js", import.meta.url).href}`;
  process.env.SHOAL_PROFILE_DIR = dir;
  try {
    return await start();
  } finally {
    restore("NODE_OPTIONS", saved.options);
    restore("SHOAL_PROFILE_DIR", saved.dir);
  }
}

function restore(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

/** The median of every numeric field of `group` (errors: their sum), labelled as the first row. */
export function medianRow<R extends ProbeRow>(group: readonly R[]): R {
  const first = group[0];
  if (first === undefined) throw new Error("medianRow: no rows");
  const merged = { ...first } as Record<string, unknown>;
  for (const [name, value] of Object.entries(first)) {
    if (typeof value !== "number") continue;
    const values = group.map((row) => (row as unknown as Record<string, number>)[name]!);
    merged[name] = name === "errors" ? values.reduce((sum, v) => sum + v, 0) : median(values);
  }
  return merged as R;
}

/** Prints "medians:" and one line per variant and scenario that has rows. */
export function printMedians<R extends ProbeRow>(rows: readonly R[], roots: readonly string[], scenarios: readonly string[], format: (row: R) => string): void {
  process.stdout.write("medians:\n");
  for (const root of roots) {
    for (const scenario of scenarios) {
      const group = rows.filter((row) => row.root === root && row.scenario === scenario);
      if (group.length > 0) process.stdout.write(`  ${format(medianRow(group))} (${group.length} runs)\n`);
    }
  }
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** A numeric flag within [min, max], or an error naming the flag and the bounds. */
export function bounded(text: string, flag: string, min: number, max: number): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < min || value > max) throw new Error(`${flag} must be a number from ${min} to ${max}; got ${JSON.stringify(text)}`);
  return value;
}
