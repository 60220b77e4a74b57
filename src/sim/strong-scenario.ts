import { checkLinearizability } from "../checker/linearizability-checker.js";
import { formatCounterexample } from "../checker/counterexample.js";
import { registerModel } from "../checker/register-model.js";
import { claimInitial } from "../ring/claim.js";
import type { RingState } from "../ring/ring-state.js";
import type { NodeId } from "../runtime/network.js";
import type { OwnershipTable } from "../handoff/ownership-transfer.js";
import type { ClusterNodeOptions } from "./cluster-node.js";
import { planFaults, type FaultKind } from "./fault-plan.js";
import { FaultSchedule } from "./fault-schedule.js";
import { describeRingChange, planRingChange, type RingChangeKind } from "./ring-changes.js";
import type { ScenarioResult } from "./scenario.js";
import { SimCluster } from "./sim-cluster.js";
import { Simulation } from "./simulation.js";
import { SingleCopyRegister } from "./single-copy-register.js";
import type { StrongRegister, StrongRegisterOf } from "./strong-register.js";
import { STRONG_TABLE_ID, StrongWorkload } from "./strong-workload.js";

/**
 * The strong path end to end under a seed's faults (TESTING.md, "The simulator" and "The
 * linearizability checker"; issue 4): 3-5 ClusterNodes each hosting an acceptor and a
 * StrongCoordinator, n=3, 5-8 clients on 3-5 live keys (one seed in five: all on one hot key)
 * doing get, put, compare-and-set, increment and delete during the safety phase (every fault
 * the plan supports: loss, duplication, reordering, partitions, clogging, crash and restart,
 * clock jumps and drift). Some seeds also change the ring during it (ring-changes.ts: a join,
 * a leave or a replace), so CASPaxos runs on joint majorities while the transfer re-reads the
 * moved keys; their membership gossips faster, so the transition overlaps the workload.
 * Then heal; a seed that changed the ring must settle it (no `previous`, the live nodes as
 * members) within a bound of virtual time; the liveness phase keeps one client going and then requires that every key the
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
  /** Test only: CASPaxos whose one-round-trip reads do not require agreement (the checker must catch it). */
  | "paxos-unsafe-fast-reads"
  /** Test only: CASPaxos whose local one-write rounds (paxos/local-change.ts, n = 1) ignore promises (the checker must catch it). */
  | "paxos-unsafe-local-changes"
  /** Test only: one atomic copy outside the cluster (linearizable by construction). */
  | "single-copy"
  /** Test only: the single copy answering reads with the value before the latest change. */
  | "single-copy-stale-reads";

export interface StrongScenarioOptions {
  /** Acceptors per key (the table's n); 3 by default. n = 1 exercises the local one-write round (paxos/local-change.ts). */
  n?: number;
  safetyPhaseMs?: number;
  livenessPhaseMs?: number;
  kinds?: readonly FaultKind[];
  register?: StrongRegisterKind;
  /** Search steps the checker may spend on the whole history. */
  checkStepsMax?: number;
  /** Share of seeds that change the ring during the faulty phase; which changes. */
  ringChangeProbability?: number;
  ringChangeKinds?: readonly RingChangeKind[];
  /** Virtual time a changed ring may take to settle after the liveness phase. */
  settleMs?: number;
  /** Test only: the leader settles a ring in transition at once, before any transfer (the checker must object). */
  unsafeSettleAtOnce?: boolean;
  inspect?: (sim: Simulation) => void;
}

export const strongScenarioDefaults = Object.freeze({ safetyPhaseMs: 2_000, livenessPhaseMs: 300, checkStepsMax: 2_000_000, ringChangeProbability: 1 / 3, settleMs: 20_000 });

const defaultN = 3;
const requestTimeoutMs = 200;
const clientTimeoutMs = 3 * requestTimeoutMs;
const keyGenerationMs = 700;
const livenessAttemptsMax = 5;
const operationsMax = 20_000;
const hotKeyProbability = 0.2;
const transferIntervalMs = 100;

export async function strongScenario(seed: number, options: StrongScenarioOptions = {}): Promise<ScenarioResult> {
  const settings = { ...strongScenarioDefaults, ...options };
  const n = options.n ?? defaultN;
  const tables: OwnershipTable[] = [{ id: STRONG_TABLE_ID, strong: true, n, lww: false }];
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
  const change = kind.startsWith("paxos")
    ? planRingChange(seed, {
        nodeIds,
        newNodeId: `n${nodeIds.length + 1}`,
        phaseMs: settings.safetyPhaseMs,
        probability: settings.ringChangeProbability,
        ...(options.ringChangeKinds ? { kinds: options.ringChangeKinds } : {}),
      })
    : undefined;
  const nodeSettings = { initialRing: claimed.ring, kind, tables, fastGossip: change !== undefined, unsafeSettleAtOnce: options.unsafeSettleAtOnce === true };
  const cluster: SimCluster = new SimCluster({ sim, nodeOptions: (_id, joining) => nodeOptions(joining ? cluster.live.slice(0, 2) : nodeIds.slice(0, 2), joining, nodeSettings) });
  for (const id of nodeIds) cluster.add(id, false);
  await sim.bootAll();
  const registerOf = registersFor(sim, cluster, kind);
  const workload = new StrongWorkload({ sim, registerOf, nodeIds: cluster.live, keySlots, keyGenerationMs, n, thinkMsMax: 60, clientTimeoutMs, operationsMax });

  // No long partitions here (not asked for): a strong history that long would outgrow the checker.
  const plan = planFaults(seed, { nodeIds, safetyPhaseMs: settings.safetyPhaseMs, ...(options.kinds ? { kinds: options.kinds } : {}) });
  const faults = FaultSchedule.start(plan, cluster.faultTarget());
  const startMs = sim.now();
  const safetyEndMs = startMs + settings.safetyPhaseMs;
  const livenessEndMs = safetyEndMs + settings.livenessPhaseMs;
  let changeProblem: string | undefined;
  if (change !== undefined) {
    const deadlineMs = livenessEndMs + settings.settleMs;
    sim.scheduler.at(startMs + change.atMs, () => sim.guard("ring change", cluster.applyRingChange(change, deadlineMs).then((problem) => void (changeProblem = problem))), "ring change");
  }
  for (let c = 0; c < clients; c++) {
    sim.guard(`strong client c${c}`, workload.client(c, sim.fork(`strong client c${c}`), c === 0 ? livenessEndMs : safetyEndMs));
  }
  await sim.runUntil(safetyEndMs);
  await faults.heal();
  await sim.runUntil(livenessEndMs + clientTimeoutMs);

  let steps = 0;
  const summary = (): string =>
    `${nodeIds.length} nodes, ${keySlots} key slots, ${workload.keysUsed().length} keys, ${clients} clients, ${kind}, faults [${plan.enabled.join(", ")}], ` +
    `${plan.events.length} fault events, ${describeRingChange(change)} (${cluster.ringChangeStatus}), ${workload.recorder.size} operations (${workload.counts.ok} ok, ${workload.counts.failed} failed, ` +
    `${workload.counts.unknown} unknown, ${workload.counts.silent} of them unanswered), ${steps} check steps, ${sim.scheduler.steps} events`;
  const fail = (reason: string): ScenarioResult => ({ ok: false, reason, traceHash: sim.traceHash(), summary: summary() });

  if (change !== undefined) {
    const settled = await sim.runUntil(() => changeProblem !== undefined || cluster.ringProblem() === undefined, { deadlineMs: sim.now() + settings.settleMs });
    if (changeProblem !== undefined) return fail(`the ring change failed: ${changeProblem}`);
    if (settled.reason !== "predicate") return fail(`the ring did not settle within ${settings.settleMs} ms after the liveness phase: ${cluster.ringProblem()}`);
  }
  const stuck = await requireLiveness(sim, workload, cluster.live, registerOf);
  if (stuck !== undefined) return fail(stuck);
  if (sim.errors.length > 0) return fail(`simulated code failed: ${sim.errors[0]}`);
  const checked = checkLinearizability(workload.recorder.history(), registerModel, { stepsMax: settings.checkStepsMax });
  steps = checked.stats.steps;
  if (checked.ok === false) return fail(formatCounterexample(checked.counterexample));
  if (checked.ok === "unknown") {
    const more = checked.keys.length > 1 ? ` (and on ${checked.keys.length - 1} more keys; the budget is per key)` : "";
    return fail(`the checker ran out of its ${settings.checkStepsMax} steps on key ${checked.key}: the history is unchecked${more}`);
  }
  return { ok: true, traceHash: sim.traceHash(), summary: summary() };
}

interface NodeSettings {
  initialRing: RingState;
  tables: OwnershipTable[];
  kind: StrongRegisterKind;
  fastGossip: boolean;
  unsafeSettleAtOnce: boolean;
}

function nodeOptions(seeds: NodeId[], joining: boolean, settings: NodeSettings): Omit<ClusterNodeOptions, "leaving"> {
  const { kind } = settings;
  return {
    seeds,
    ...(joining ? {} : { initialRing: settings.initialRing }),
    tables: settings.tables,
    requestTimeoutMs,
    transferIntervalMs,
    // The strong path places keys on the ring's primaries and never asks who is up, so
    // membership only needs to keep the ring; slow probes keep each seed cheap. A seed that
    // changes the ring gossips faster, so the transition happens while the clients run.
    membershipIntervals: settings.fastGossip
      ? { probeIntervalMs: 200, probeTimeoutMs: 80, indirectProbeTimeoutMs: 160, suspicionTimeoutMs: 1_000, gossipIntervalMs: 100, gossipTimeoutMs: 80 }
      : { probeIntervalMs: 1_000, probeTimeoutMs: 200, indirectProbeTimeoutMs: 400, suspicionTimeoutMs: 3_000, gossipIntervalMs: 1_000, gossipTimeoutMs: 300 },
    ...(kind.startsWith("paxos") ? { strong: { unsafeReadWithoutAccept: kind === "paxos-unsafe-reads", unsafeFastReadWithoutAgreement: kind === "paxos-unsafe-fast-reads", unsafeLocalChangeIgnoresPromises: kind === "paxos-unsafe-local-changes" } } : {}),
    ...(settings.unsafeSettleAtOnce ? { unsafeSettleAtOnce: true } : {}),
  };
}

function registersFor(sim: Simulation, cluster: SimCluster, kind: StrongRegisterKind): StrongRegisterOf {
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
  return (id) => cluster.nodeOf(id)?.strong;
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
