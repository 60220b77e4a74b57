import type { LoadResult } from "./load-spec.js";
import type { Op, RunResult, Scenario, SystemName } from "./single-node-benchmark.js";

/**
 * Turns runs into the figures BENCHMARKS.md asks for: per scenario the median run (by ops/s) with
 * its latencies, the spread of ops/s across runs, and Shoal's ratios to the ceiling and to Redis
 * in the same run set.
 */
export interface SummaryRow extends Scenario {
  runs: number;
  median: LoadResult;
  opsPerSecMin: number;
  opsPerSecMax: number;
}

export interface RatioRow {
  op: Op;
  valueBytes: number;
  concurrency: number;
  /** Shoal ops/s over the other system's; null when that system did not run. */
  opsVsCeiling: number | null;
  p999VsCeiling: number | null;
  opsVsRedis: number | null;
}

export interface TargetCheck {
  name: string;
  value: string;
  met: boolean | null;
}

export function summarize(results: readonly RunResult[]): SummaryRow[] {
  const groups = new Map<string, RunResult[]>();
  for (const result of results) {
    const key = scenarioKey(result);
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [result]);
    else group.push(result);
  }
  return [...groups.values()].map((group) => {
    const sorted = [...group].sort((a, b) => a.result.opsPerSec - b.result.opsPerSec);
    const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
    return {
      system: median.system,
      op: median.op,
      valueBytes: median.valueBytes,
      concurrency: median.concurrency,
      runs: group.length,
      median: median.result,
      opsPerSecMin: sorted[0]!.result.opsPerSec,
      opsPerSecMax: sorted.at(-1)!.result.opsPerSec,
    };
  });
}

export function ratios(rows: readonly SummaryRow[]): RatioRow[] {
  const find = (system: SystemName, scenario: Omit<Scenario, "system">) => rows.find((row) => scenarioKey(row) === scenarioKey({ ...scenario, system }));
  return rows
    .filter((row) => row.system === "shoal")
    .map((shoal) => {
      const ceiling = find("ceiling", shoal);
      const redis = find("redis", shoal);
      return {
        op: shoal.op,
        valueBytes: shoal.valueBytes,
        concurrency: shoal.concurrency,
        opsVsCeiling: ceiling ? shoal.median.opsPerSec / ceiling.median.opsPerSec : null,
        p999VsCeiling: ceiling ? shoal.median.latency.p999Us / ceiling.median.latency.p999Us : null,
        opsVsRedis: redis ? shoal.median.opsPerSec / redis.median.opsPerSec : null,
      };
    });
}

/** The targets: GET >= 0.7x the ceiling's ops/s with p99.9 <= 2x; durable PUT >= 20k/s at 64. */
export function targetChecks(rows: readonly SummaryRow[], ratioRows: readonly RatioRow[]): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const ratio of ratioRows.filter((row) => row.op === "get")) {
    const where = `GET ${ratio.valueBytes} B x${ratio.concurrency}`;
    if (ratio.opsVsCeiling !== null) checks.push({ name: `${where}: ops/s vs ceiling >= 0.7`, value: ratio.opsVsCeiling.toFixed(2), met: ratio.opsVsCeiling >= 0.7 });
    if (ratio.p999VsCeiling !== null) checks.push({ name: `${where}: p99.9 vs ceiling <= 2`, value: ratio.p999VsCeiling.toFixed(2), met: ratio.p999VsCeiling <= 2 });
  }
  for (const row of rows.filter((r) => r.system === "shoal" && r.op === "put" && r.concurrency === 64)) {
    checks.push({ name: `durable PUT ${row.valueBytes} B x64 >= 20k/s`, value: Math.round(row.median.opsPerSec).toString(), met: row.median.opsPerSec >= 20_000 });
  }
  return checks;
}

function scenarioKey(scenario: Scenario): string {
  return `${scenario.system}/${scenario.op}/${scenario.valueBytes}/${scenario.concurrency}`;
}
