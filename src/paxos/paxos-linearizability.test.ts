import { test } from "node:test";
import assert from "node:assert/strict";
import { formatCounterexample } from "../checker/counterexample.js";
import { checkLinearizability } from "../checker/linearizability-checker.js";
import { registerModel } from "../checker/register-model.js";
import { claimInitial } from "../ring/claim.js";
import type { NodeId } from "../runtime/network.js";
import { planFaults } from "../sim/fault-plan.js";
import { FaultSchedule } from "../sim/fault-schedule.js";
import { ringStrongPlacement } from "../sim/ring-strong-placement.js";
import { Simulation } from "../sim/simulation.js";
import { StrongWorkload } from "../sim/strong-workload.js";
import { AcceptorService } from "./acceptor-service.js";
import { StrongCoordinator } from "./strong-coordinator.js";

// CASPaxos alone (no membership, no replicas of the eventual path) under a seed's faults, with
// the simulator's strong workload and the project's linearizability checker: the paxos folder's
// own proof, beside the full-cluster scenario the simulator runs. The deliberately broken
// variant (reads that skip the accept phase) must be caught on some of the same seeds.

const requestTimeoutMs = 200;

interface Run {
  ok: boolean;
  reason: string;
  summary: string;
}

async function run(seed: number, unsafeReadWithoutAccept: boolean, unsafeKeepPiggybackedPromises = false): Promise<Run> {
  const sim = new Simulation({ seed });
  const shape = sim.fork("paxos shape");
  const nodeIds: NodeId[] = Array.from({ length: 3 + shape.int(3) }, (_, i) => `n${i + 1}`);
  const claimed = claimInitial(nodeIds.map((id) => ({ id })), { partitionCount: 16 });
  assert.ok(claimed.ok);
  const placement = ringStrongPlacement(() => claimed.ring);
  for (const id of nodeIds) {
    sim.addNode(id, (runtime) => {
      const acceptors = new AcceptorService({ runtime, unsafeKeepPiggybackedPromises });
      const strong = new StrongCoordinator({ runtime, acceptors, placement, requestTimeoutMs, unsafeReadWithoutAccept, heldPromisesMax: 10_000 });
      runtime.network.serve((from, message) => strong.handle(from, message));
      return strong;
    });
  }
  await sim.bootAll();
  const workload = new StrongWorkload({
    sim,
    registerOf: (id) => sim.node<StrongCoordinator>(id).instance,
    nodeIds,
    keySlots: 3,
    keyGenerationMs: 600,
    n: 3,
    thinkMsMax: 30,
    clientTimeoutMs: 3 * requestTimeoutMs,
    operationsMax: 10_000,
  });
  const safetyPhaseMs = 1_500;
  const plan = planFaults(seed, { nodeIds, safetyPhaseMs });
  const faults = FaultSchedule.start(plan, sim);
  const endMs = sim.now() + safetyPhaseMs;
  for (let c = 0; c < 6; c++) sim.guard(`client c${c}`, workload.client(c, sim.fork(`client c${c}`), endMs));
  await sim.runUntil(endMs);
  await faults.heal();
  await sim.runUntil(endMs + 1_000);
  const summary = `seed ${seed}: ${nodeIds.length} nodes, faults [${plan.enabled.join(", ")}], ${workload.counts.ok} ok, ${workload.counts.failed} failed, ${workload.counts.unknown} unknown`;
  if (sim.errors.length > 0) return { ok: false, reason: `simulated code failed: ${sim.errors[0]}`, summary };
  const checked = checkLinearizability(workload.recorder.history(), registerModel, { stepsMax: 2_000_000 });
  if (checked.ok === "unknown") return { ok: false, reason: `checker budget exhausted on key ${checked.key}`, summary };
  return checked.ok ? { ok: true, reason: "", summary } : { ok: false, reason: formatCounterexample(checked.counterexample), summary };
}

const seeds = [...Array.from({ length: 8 }, (_, i) => 9_000 + i), 9_015, 9_100];

test("CASPaxos histories are linearizable under every fault of the plan, seed by seed", async () => {
  let definite = 0;
  for (const seed of seeds) {
    const result = await run(seed, false);
    assert.ok(result.ok, `${result.summary}\n${result.reason}\nreplay: the seed is ${seed}`);
    definite += Number(/(\d+) ok/.exec(result.summary)![1]);
  }
  assert.ok(definite > seeds.length * 50, `only ${definite} operations succeeded across ${seeds.length} seeds: the workload barely ran`);
});

test("reads that skip the accept phase are caught by the checker on some seed", async () => {
  for (const seed of seeds) {
    const result = await run(seed, true);
    if (!result.ok) {
      assert.match(result.reason, /get|read/i);
      return;
    }
  }
  assert.fail(`the unsafe variant passed all ${seeds.length} seeds: the checker or the workload has no teeth here`);
});

test("an acceptor that keeps a piggybacked promise after another proposer's prepare is caught by the checker on some seed", async () => {
  // The one-round-trip change is safe only because a higher prepare voids the promise an accept
  // piggybacked (README, "One round trip for a proposer's next change"); honouring it anyway
  // lets a proposer write over a value another round already built on: lost updates.
  const tried: string[] = [];
  // 9015 loses an update here (9100 did too while a duplicated accept could be refused by its own
  // piggybacked promise, acceptor-service.ts); the safe acceptor passes both (first test).
  for (const seed of [9_015, ...seeds.filter((s) => s !== 9_015)]) {
    const result = await run(seed, false, true);
    if (!result.ok) {
      assert.match(result.reason, /linearizab|order/i, result.reason);
      return;
    }
    tried.push(result.summary);
  }
  assert.fail(`the unsafe variant passed all ${tried.length} seeds: the checker or the workload has no teeth here\n${tried.join("\n")}`);
});
