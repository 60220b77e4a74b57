import { test } from "node:test";
import assert from "node:assert/strict";
import type { ClusterNode } from "../sim/cluster-node.js";
import type { Simulation } from "../sim/simulation.js";
import { strongScenario, type StrongScenarioOptions } from "../sim/strong-scenario.js";

// The local one-write round (local-change.ts; README, "One local write") in the full-cluster
// strong scenario with n = 1: every key has one acceptor, so the clients on that node change it
// locally while the clients on every other node run ordinary rounds against the same acceptor,
// under the seed's faults; with a ring change (a join or a leave) keys move, so the set stops
// (or starts) being {this node} mid-run. The checker judges every history. The deliberately
// broken variant (a ballot bump that skips the promises) must be caught.

interface Outcome {
  ok: boolean;
  reason: string;
  summary: string;
  /** Batches the nodes running at the end did in one local write. */
  local: number;
}

async function run(seed: number, options: StrongScenarioOptions): Promise<Outcome> {
  let sim: Simulation | undefined;
  const result = await strongScenario(seed, { n: 1, ...options, inspect: (s) => (sim = s) });
  let local = 0;
  for (const id of sim?.nodeIds() ?? []) {
    const node = sim!.isUp(id) ? sim!.node<ClusterNode>(id).instance : undefined;
    local += node?.strong?.localCounts.local ?? 0;
  }
  return { ok: result.ok, reason: result.ok ? "" : result.reason, summary: result.summary, local };
}

test("n = 1 under every fault, with a join or a leave on every seed: the histories are linearizable and the local path ran", async () => {
  const failures: string[] = [];
  let local = 0;
  for (let seed = 0; seed < 12; seed++) {
    const result = await run(seed, { ringChangeProbability: 1, ringChangeKinds: ["join", "leave"] });
    if (!result.ok) failures.push(`seed ${seed}: ${result.reason}\n(${result.summary})`);
    local += result.local;
  }
  assert.deepEqual(failures, []);
  assert.ok(local > 100, `only ${local} local rounds across the seeds: the local path barely ran`);
});

test("n = 1 without ring changes under every fault: linearizable", async () => {
  const failures: string[] = [];
  for (let seed = 100; seed < 108; seed++) {
    const result = await run(seed, { ringChangeProbability: 0 });
    if (!result.ok) failures.push(`seed ${seed}: ${result.reason}\n(${result.summary})`);
  }
  assert.deepEqual(failures, []);
});

test("a local round whose ballot skips the promises is caught with a counterexample", async () => {
  const seen: string[] = [];
  for (let seed = 0; seed < 20; seed++) {
    const result = await run(seed, { register: "paxos-unsafe-local-changes", ringChangeProbability: 0, kinds: [] });
    if (!result.ok && /^not linearizable \(register\)/.test(result.reason)) return;
    seen.push(`seed ${seed}: ${result.ok ? "passed" : result.reason} (${result.local} local rounds)`);
  }
  assert.fail(`the checker let local rounds that ignore promises pass on every seed:\n${seen.join("\n")}`);
});
