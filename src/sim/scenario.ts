/**
 * A simulator scenario: given a seed, build a world, run a workload under that seed's faults,
 * check the invariants, and report. A scenario never throws for a failed check; it returns
 * `ok: false` with a reason (a thrown error is reported as a failure too, by run-seeds.ts).
 */
export type ScenarioResult = { ok: true; traceHash: string; summary: string } | { ok: false; reason: string; traceHash: string; summary: string };

export type Scenario = (seed: number) => Promise<ScenarioResult>;
