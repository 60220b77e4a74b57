import { checkLinearizability } from "../checker/linearizability-checker.js";
import { formatCounterexample } from "../checker/counterexample.js";
import { registerModel } from "../checker/register-model.js";
import { claimInitial } from "../ring/claim.js";
import type { RingState } from "../ring/ring-state.js";
import type { NodeId } from "../runtime/network.js";
import { ClusterNode, type ClusterNodeOptions } from "./cluster-node.js";
import { planFaults, type FaultKind } from "./fault-plan.js";
import { FaultSchedule } from "./fault-schedule.js";
import type { ScenarioResult } from "./scenario.js";
import { Simulation } from "./simulation.js";
import { SingleCopyRegister } from "./single-copy-register.js";
import type { StrongRegister, StrongRegisterOf } from "./strong-register.js";
import { StrongWorkload } from "./strong-workload.js";

/**
 * The strong path end to end under a seed's faults (TESTING.md, "The simulator" and "The
 * linearizability checker"; issue 4): 3-5 ClusterNodes each hosting an acceptor and a
 * StrongCoordinator, n=3, 5-8 clients on 3-5 live keys (one seed in five: all on one hot key)
 * doing get, put, compare-and-set, increment and delete during the safety phase (every fault
 * the plan supports: loss, duplication, reordering, partitions, clogging, crash and restart,
 * clock jumps and drift).
 * Then heal; the liveness phase keeps one client going and then requires that every key the
 * run touched reads successfully, and an increment through every node succeeds, within a few
 * attempts each. Last, the whole history (liveness operations included) goes to the
 * linearizability checker, key by key, within a step budget: a counterexample fails the seed,
 * and so does an exhausted budget (an unchecked history is not a pass).
 */
export type StrongRegisterKind =
  /** CASPaxos (src/paxos) on every node. */
  | "paxos"
  /** Test only: CASPaxos whose reads skip the accept phase (the checker must catch it). */
  | "paxos-unsafe-reads"
  /** Test only: one atomic copy outside the cluster (linearizable by construction). */
  | "single-copy"
  /** Test only: the single copy answering reads with the value before the latest change. */
  | "single-copy-stale-reads";

export interface StrongScenarioOptions {
  safetyPhaseMs?: number;
  livenessPhaseMs?: number;
  kinds?: readonly FaultKind[];
  register?: StrongRegisterKind;
  /** Search steps the checker may spend on the whole history. */
  checkStepsMax?: number;
  inspect?: (sim: Simulation) => void;
}

export const strongScenarioDefaults = Object.freeze({ safetyPhaseMs: 2_000, livenessPhaseMs: 300, checkStepsMax: 2_000_000 });

const n = 3;
const requestTimeoutMs = 200;
const clientTimeoutMs = 3 * requestTimeoutMs;
const keyGenerationMs = 700;
const livenessAttemptsMax = 5;
const operationsMax = 20_000;
const hotKeyProbability = 0.2;

export async function strongScenario(seed: number, options: StrongScenarioOptions = {}): Promise<ScenarioResult> {
  const settings = { ...strongScenarioDefaults, ...options };
  const sim = new Simulation({ seed });
  options.inspect?.(sim);
  const shape = sim.fork("strong shape");
  const nodeIds = Array.from({ length: 3 + shape.int(3) }, (_, i) => `n${i + 1}`);
  // Swarm testing on the workload's shape too: one seed in five puts every client on one hot key.
  const keySlots = shape.next() < hotKeyProbability ? 1 : 3 + shape.int(3);
  const clients = 5 + shape.int(4);
  const claimed = claimInitial(nodeIds.map((id) => ({ id })), { partitionCount: 64 });
  if (!claimed.ok) return { ok: false, reason: `claim failed: ${claimed.error}`, traceHash: sim.traceHash(), summary: "" };
  const kind = options.register ?? "paxos";
  for (const id of nodeIds) sim.addNode(id, (runtime) => ClusterNode.open(runtime, nodeOptions(nodeIds, claimed.ring, kind)));
  await sim.bootAll();
  const registerOf = registersFor(sim, kind);
  const workload = new StrongWorkload({ sim, registerOf, nodeIds, keySlots, keyGenerationMs, n, thinkMsMax: 60, clientTimeoutMs, operationsMax });

  const plan = planFaults(seed, { nodeIds, safetyPhaseMs: settings.safetyPhaseMs, ...(options.kinds ? { kinds: options.kinds } : {}) });
  const faults = FaultSchedule.start(plan, sim);
  const safetyEndMs = sim.now() + settings.safetyPhaseMs;
  const livenessEndMs = safetyEndMs + settings.livenessPhaseMs;
  for (let c = 0; c < clients; c++) {
    sim.guard(`strong client c${c}`, workload.client(c, sim.fork(`strong client c${c}`), c === 0 ? livenessEndMs : safetyEndMs));
  }
  await sim.runUntil(safetyEndMs);
  await faults.heal();
  await sim.runUntil(livenessEndMs + clientTimeoutMs);

  let steps = 0;
  const summary = (): string =>
    `${nodeIds.length} nodes, ${keySlots} key slots, ${workload.keysUsed().length} keys, ${clients} clients, ${kind}, faults [${plan.enabled.join(", ")}], ` +
    `${plan.events.length} fault events, ${workload.recorder.size} operations (${workload.counts.ok} ok, ${workload.counts.failed} failed, ` +
    `${workload.counts.unknown} unknown, ${workload.counts.silent} of them unanswered), ${steps} check steps, ${sim.scheduler.steps} events`;
  const fail = (reason: string): ScenarioResult => ({ ok: false, reason, traceHash: sim.traceHash(), summary: summary() });

  const stuck = await requireLiveness(sim, workload, nodeIds, registerOf);
  if (stuck !== undefined) return fail(stuck);
  if (sim.errors.length > 0) return fail(`simulated code failed: ${sim.errors[0]}`);
  const checked = checkLinearizability(workload.recorder.history(), registerModel, { stepsMax: settings.checkStepsMax });
  steps = checked.stats.steps;
  if (checked.ok === false) return fail(formatCounterexample(checked.counterexample));
  if (checked.ok === "unknown") return fail(`the checker ran out of its ${settings.checkStepsMax} steps on key ${checked.key}: the history is unchecked`);
  return { ok: true, traceHash: sim.traceHash(), summary: summary() };
}

function nodeOptions(nodeIds: readonly NodeId[], initialRing: RingState, kind: StrongRegisterKind): ClusterNodeOptions {
  return {
    seeds: nodeIds.slice(0, 2),
    initialRing,
    requestTimeoutMs,
    // The strong path places keys on the ring's primaries and never asks who is up, so
    // membership only needs to keep the ring; slow probes keep each seed cheap.
    membershipIntervals: { probeIntervalMs: 1_000, probeTimeoutMs: 200, indirectProbeTimeoutMs: 400, suspicionTimeoutMs: 3_000, gossipIntervalMs: 1_000, gossipTimeoutMs: 300 },
    ...(kind.startsWith("paxos") ? { strong: { unsafeReadWithoutAccept: kind === "paxos-unsafe-reads" } } : {}),
  };
}

function registersFor(sim: Simulation, kind: StrongRegisterKind): StrongRegisterOf {
  if (kind === "single-copy" || kind === "single-copy-stale-reads") {
    const register = new SingleCopyRegister({
      scheduler: sim.scheduler,
      random: sim.fork("single copy"),
      delayMsMax: 20,
      unavailableProbability: 0.05,
      indeterminateProbability: 0.05,
      staleReads: kind === "single-copy-stale-reads",
    });
    return (id) => (sim.isUp(id) ? register : undefined);
  }
  return (id) => (sim.isUp(id) ? sim.node<ClusterNode>(id).instance?.strong : undefined);
}

/**
 * After healing, the strong path must answer again: every key the run touched reads, and one
 * increment through every node succeeds, each within `livenessAttemptsMax` attempts. The
 * operations join the history, so the checker also judges what they saw.
 */
async function requireLiveness(sim: Simulation, workload: StrongWorkload, nodeIds: readonly NodeId[], registerOf: StrongRegisterOf): Promise<string | undefined> {
  const attempt = async (what: string, run: (register: StrongRegister) => Promise<boolean>, node: NodeId): Promise<string | undefined> => {
    for (let i = 0; i < livenessAttemptsMax; i++) {
      const register = registerOf(node);
      if (register === undefined) return `after healing, node ${node} is not running`;
      if (await sim.settle(run(register))) return undefined;
    }
    return `after healing, ${what} through ${node} failed ${livenessAttemptsMax} times`;
  };
  const keys = workload.keysUsed();
  for (const [i, key] of keys.entries()) {
    const node = nodeIds[i % nodeIds.length]!;
    const problem = await attempt(`the read of ${key}`, (register) => workload.read(register, "final", key), node);
    if (problem !== undefined) return problem;
  }
  for (const node of nodeIds) {
    const problem = await attempt("an increment of k.final", (register) => workload.incrementOnce(register, `final-${node}`, "k.final"), node);
    if (problem !== undefined) return problem;
  }
  return undefined;
}
