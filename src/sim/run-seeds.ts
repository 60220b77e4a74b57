import { readFileSync, existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { assert } from "../assert.js";
import type { Scenario, ScenarioResult } from "./scenario.js";

/**
 * The seed harness behind `npm run sim` (TESTING.md: "On failure the test prints the seed and
 * the command that replays it. A failing seed, once fixed, joins a committed regression
 * corpus."). It runs a scenario once per seed: first every regression seed of that scenario
 * from regression-seeds.json, then the requested ones. Each failure is printed as
 * `seed S failed: <reason>` with the exact command that replays it.
 */
export interface RegressionSeed {
  scenario: string;
  seed: number;
  /** What the seed once caught (the issue or commit that fixed it). */
  note?: string;
}

export interface RunSeedsOptions {
  scenarioName: string;
  scenario: Scenario;
  /** Seeds to run after the regressions, in order. */
  seeds: readonly number[];
  regressions?: readonly RegressionSeed[];
  /** Whether the scenario is the default one (the replay command then omits --scenario). */
  isDefaultScenario?: boolean;
  /** Stop at the first failure. */
  failFast?: boolean;
  log?: (line: string) => void;
}

export interface SeedFailure {
  seed: number;
  reason: string;
  replay: string;
}

export interface RunSeedsReport {
  ran: number;
  passed: number;
  failures: SeedFailure[];
  /** Trace hash per seed, in run order (regressions first). */
  traceHashes: Array<[number, string]>;
}

export function replayCommand(scenarioName: string, seed: number, isDefaultScenario = true): string {
  return `npm run sim -- --seed ${seed}${isDefaultScenario ? "" : ` --scenario ${scenarioName}`}`;
}

export async function runSeeds(options: RunSeedsOptions): Promise<RunSeedsReport> {
  const log = options.log ?? (() => undefined);
  const regressionSeeds = (options.regressions ?? []).filter((r) => r.scenario === options.scenarioName).map((r) => r.seed);
  const report: RunSeedsReport = { ran: 0, passed: 0, failures: [], traceHashes: [] };
  for (const seed of [...regressionSeeds, ...options.seeds]) {
    assert(Number.isSafeInteger(seed) && seed >= 0, `a seed must be a non-negative safe integer, got ${seed}`);
    const result = await runOne(options.scenario, seed);
    report.ran++;
    report.traceHashes.push([seed, result.traceHash]);
    if (result.ok) {
      report.passed++;
      continue;
    }
    const failure = { seed, reason: result.reason, replay: replayCommand(options.scenarioName, seed, options.isDefaultScenario ?? true) };
    report.failures.push(failure);
    log(`seed ${seed} failed: ${result.reason}`);
    log(`  (${result.summary}; trace ${result.traceHash})`);
    log(`  replay: ${failure.replay}`);
    if (options.failFast) break;
  }
  return report;
}

/** A scenario that throws has failed too; its error becomes the reason. */
async function runOne(scenario: Scenario, seed: number): Promise<ScenarioResult> {
  try {
    return await scenario(seed);
  } catch (error) {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : `thrown: ${String(error)}`;
    return { ok: false, reason, traceHash: "-", summary: "the scenario threw" };
  }
}

/** regression-seeds.json beside this module in src/, whether running from src/ or dist/. */
export function defaultRegressionFile(): string {
  const candidates = ["./regression-seeds.json", "../../../src/sim/regression-seeds.json"].map((p) => fileURLToPath(new URL(p, import.meta.url)));
  return candidates.find((p) => existsSync(p)) ?? candidates[0]!;
}

export function loadRegressionSeeds(path = defaultRegressionFile()): RegressionSeed[] {
  const parsed: unknown = JSON.parse(readFileSync(path, "utf8"));
  assert(Array.isArray(parsed), `${path} must hold a JSON array of { scenario, seed, note? }`);
  for (const entry of parsed as RegressionSeed[]) {
    assert(typeof entry?.scenario === "string" && Number.isSafeInteger(entry.seed), `${path}: bad regression entry ${JSON.stringify(entry)}`);
  }
  return parsed as RegressionSeed[];
}
