import { checkEventualHistory, formatEventualViolations, type EventualFinalState } from "../checker/eventual-checker.js";
import type { EventualCoordinatorStats } from "../coordinator/eventual-coordinator.js";
import type { Quorum } from "../coordinator/quorum-options.js";
import { claimInitial } from "../ring/claim.js";
import { partitionOf } from "../ring/partition-hash.js";
import { preferenceList } from "../ring/preference-list.js";
import type { RingState } from "../ring/ring-state.js";
import type { NodeId } from "../runtime/network.js";
import * as dvvset from "../versioning/dotted-version-vector-set.js";
import type { DottedVersionVectorSet } from "../versioning/dotted-version-vector-set.js";
import type { Sibling } from "../versioning/sibling.js";
import { coversDot, type Dot, type VersionVector } from "../versioning/version-vector.js";
import type { OwnershipTable } from "../handoff/ownership-transfer.js";
import type { ClusterNode, ClusterNodeOptions } from "./cluster-node.js";
import { EVENTUAL_TABLE_ID, EventualWorkload, itemKeyOf } from "./eventual-workload.js";
import { planFaults, type FaultKind } from "./fault-plan.js";
import { FaultSchedule } from "./fault-schedule.js";
import { describeRingChange, planRingChange, type RingChangeKind } from "./ring-changes.js";
import type { ScenarioResult } from "./scenario.js";
import { SimCluster } from "./sim-cluster.js";
import { Simulation } from "./simulation.js";

/**
 * The eventual path end to end under a seed's faults (TESTING.md, "The simulator"; issues 3
 * and 6): 3-5 ClusterNodes running ownership transfer and Merkle anti-entropy, n=3 r=2 w=2,
 * concurrent clients on 50-200 keys during the faulty phase (crash and restart included). Some
 * seeds also change the ring during it (a join, a leave or a replace: ring-changes.ts), and
 * some end it with a long partition (20-30 s, two clients writing through the majority side). Then heal; the liveness phase keeps one client going, and within a bound of virtual
 * time the run requires: the ring settled (no `previous`) with the live nodes as members, every
 * node seeing every other up with every hint handed back (hints for a node that left or was
 * replaced included: re-targeted to the keys' current primaries; a leaver must have handed all
 * of its hints on before it stopped), equal Merkle roots on every partition's replicas of the
 * settled ring (anti-entropy alone repairs: no read touches the keys first), and equal sets per
 * key. Then the history checker: no acknowledged write lost, no deleted value back.
 */
export interface EventualScenarioOptions {
  safetyPhaseMs?: number;
  livenessPhaseMs?: number;
  /** Virtual time allowed after the liveness phase for the ring, hints and equal replicas. */
  convergenceMs?: number;
  kinds?: readonly FaultKind[];
  /** Share of seeds that change the ring during the faulty phase; which changes. */
  ringChangeProbability?: number;
  ringChangeKinds?: readonly RingChangeKind[];
  /** Share of seeds that end the faulty phase with a long partition, and its length range. */
  longPartitions?: { probability: number; minMs: number; maxMs: number };
  /** Anti-entropy's round interval (virtual ms). */
  antiEntropyIntervalMs?: number;
  /** Test only: run a coordinator that keeps only the newest sibling (the checker must object). */
  unsafeKeepNewestOnly?: boolean;
  /** Test only: the leader settles a ring in transition at once, before any transfer (see ClusterNode). */
  unsafeSettleAtOnce?: boolean;
  /** Test only: nodes do not re-target hints for departed nodes (ClusterNodeOptions.unsafeNoHintRetargeting; the check must object). */
  unsafeNoHintRetargeting?: boolean;
  inspect?: (sim: Simulation) => void;
}

export const eventualScenarioDefaults = Object.freeze({
  safetyPhaseMs: 8_000,
  livenessPhaseMs: 2_000,
  convergenceMs: 30_000,
  ringChangeProbability: 1 / 3,
  longPartitions: Object.freeze({ probability: 1 / 8, minMs: 20_000, maxMs: 30_000 }),
  antiEntropyIntervalMs: 1_000,
});

const quorum: Quorum = { n: 3, r: 2, w: 2, dw: 0, pr: 0, pw: 0 };
const requestTimeoutMs = 400;
const transferIntervalMs = 250;
const tables: OwnershipTable[] = [{ id: EVENTUAL_TABLE_ID, strong: false, n: quorum.n, lww: false }];

interface NodeSettings {
  seeds: NodeId[];
  initialRing: RingState;
  stats: EventualCoordinatorStats;
  unsafe: boolean;
  unsafeSettleAtOnce: boolean;
  unsafeNoHintRetargeting: boolean;
  antiEntropyIntervalMs: number;
}

const nodeOptions = (settings: NodeSettings, joining: boolean): Omit<ClusterNodeOptions, "leaving"> => ({
  seeds: settings.seeds,
  ...(joining ? {} : { initialRing: settings.initialRing }),
  tables,
  requestTimeoutMs,
  membershipIntervals: { probeIntervalMs: 200, probeTimeoutMs: 80, indirectProbeTimeoutMs: 160, suspicionTimeoutMs: 1_000, gossipIntervalMs: 200, gossipTimeoutMs: 150 },
  hintDelivery: { intervalMs: 100, deliverTimeoutMs: 1_000, backoffBaseMs: 100, backoffMaxMs: 1_000 },
  stats: settings.stats,
  antiEntropy: { intervalMs: settings.antiEntropyIntervalMs },
  transferIntervalMs,
  ...(settings.unsafe ? { unsafeKeepNewestOnly: true } : {}),
  ...(settings.unsafeSettleAtOnce ? { unsafeSettleAtOnce: true } : {}),
  ...(settings.unsafeNoHintRetargeting ? { unsafeNoHintRetargeting: true } : {}),
});

export async function eventualScenario(seed: number, options: EventualScenarioOptions = {}): Promise<ScenarioResult> {
  const settings = { ...eventualScenarioDefaults, ...options };
  // A crash loses a durable write whose fsync had not returned yet (sim-storage.ts lateDurability),
  // though other nodes may hold what it wrote: the window in which a coordinator could reuse a dot.
  // Fsyncs of uneven length (syncJitterMs): a coordinator's own may end after the replicas' did.
  const sim = new Simulation({ seed, storage: { lateDurability: true, syncJitterMs: 8 } });
  options.inspect?.(sim);
  const shape = sim.fork("eventual shape");
  const nodeIds = Array.from({ length: 3 + shape.int(3) }, (_, i) => `n${i + 1}`);
  const keys = Array.from({ length: 50 + shape.int(151) }, (_, i) => `k${i}`);
  const clients = 3 + shape.int(4);
  const claimed = claimInitial(nodeIds.map((id) => ({ id })), { partitionCount: 64 });
  if (!claimed.ok) return { ok: false, reason: `claim failed: ${claimed.error}`, traceHash: sim.traceHash(), summary: "" };
  const stats: EventualCoordinatorStats = { forwarded: 0, hinted: 0, repaired: 0 };
  const nodeSettings: NodeSettings = {
    seeds: nodeIds.slice(0, 2),
    initialRing: claimed.ring,
    stats,
    unsafe: options.unsafeKeepNewestOnly === true,
    unsafeSettleAtOnce: options.unsafeSettleAtOnce === true,
    unsafeNoHintRetargeting: options.unsafeNoHintRetargeting === true,
    antiEntropyIntervalMs: settings.antiEntropyIntervalMs,
  };
  const cluster: SimCluster = new SimCluster({ sim, nodeOptions: (_id, joining): Omit<ClusterNodeOptions, "leaving"> => nodeOptions(joining ? { ...nodeSettings, seeds: cluster.live.slice(0, 2) } : nodeSettings, joining) });
  for (const id of nodeIds) cluster.add(id, false);
  await sim.bootAll();
  const nodeOf = (id: NodeId): ClusterNode | undefined => cluster.nodeOf(id);

  const plan = planFaults(seed, { nodeIds, safetyPhaseMs: settings.safetyPhaseMs, longPartitions: settings.longPartitions, ...(options.kinds ? { kinds: options.kinds } : {}) });
  const change = planRingChange(seed, {
    nodeIds,
    newNodeId: `n${nodeIds.length + 1}`,
    phaseMs: settings.safetyPhaseMs,
    probability: settings.ringChangeProbability,
    ...(options.ringChangeKinds ? { kinds: options.ringChangeKinds } : {}),
  });
  const startMs = sim.now();
  const long = plan.longPartition;
  // During a long partition the workload writes through the majority side only.
  const eligible = (id: NodeId): boolean => long === undefined || sim.now() < startMs + long.startMs || sim.now() >= startMs + long.endMs || long.writers.includes(id);
  const workload = new EventualWorkload({ sim, coordinatorOf: (id) => nodeOf(id)?.coordinator, nodeIds: cluster.live, eligible, keys, quorum, thinkMsMax: 60, clientTimeoutMs: 3 * requestTimeoutMs });
  const faults = FaultSchedule.start(plan, cluster.faultTarget());
  const safetyEndMs = startMs + plan.phaseMs;
  const livenessEndMs = safetyEndMs + settings.livenessPhaseMs;
  const deadlineMs = livenessEndMs + settings.convergenceMs;
  let changeProblem: string | undefined;
  if (change !== undefined) {
    sim.scheduler.at(startMs + change.atMs, () => sim.guard("ring change", cluster.applyRingChange(change, deadlineMs).then((problem) => void (changeProblem = problem))), "ring change");
  }
  // A long partition keeps two clients writing (on the majority side), the others stop before it.
  const mixedEndMs = startMs + settings.safetyPhaseMs;
  for (let c = 0; c < clients; c++) {
    sim.guard(`client c${c}`, workload.client(`c${c}`, sim.fork(`client c${c}`), c === 0 ? livenessEndMs : c === 1 ? safetyEndMs : mixedEndMs));
  }
  await sim.runUntil(safetyEndMs);
  await faults.heal();
  await sim.runUntil(livenessEndMs);

  let stranded = 0;
  const summary = (): string =>
    `${nodeIds.length} nodes, ${keys.length} keys, ${clients} clients, faults [${plan.enabled.join(", ")}], ${plan.events.length} fault events, ` +
    `${describeRingChange(change)} (${cluster.ringChangeStatus}), ` +
    `${workload.writes.length} writes (${workload.writes.filter((w) => w.acknowledged).length} acknowledged), ${workload.readsOk}/${workload.reads} reads ok, ` +
    `${stats.forwarded} forwarded, ${stats.hinted} hinted, ${stats.repaired} repaired, ${antiEntropyRepaired(cluster)} repaired by anti-entropy, ` +
    `${stranded} hints for departed nodes, ${sim.scheduler.steps} events`;
  const fail = (reason: string): ScenarioResult => ({ ok: false, reason, traceHash: sim.traceHash(), summary: summary() });

  const settled = await sim.runUntil(every(sim, () => changeProblem !== undefined || cluster.ringProblem() === undefined), { deadlineMs });
  if (changeProblem !== undefined) return fail(`the ring change failed: ${changeProblem}`);
  if (settled.reason !== "predicate") return fail(`the ring did not settle within ${settings.convergenceMs} ms after the liveness phase: ${cluster.ringProblem()}`);
  if (cluster.abandonedHints !== undefined) return fail(`the leaver stopped holding hints it could not hand on: ${cluster.abandonedHints}`);
  const healthy = await sim.runUntil(every(sim, () => allUpAndHandedBack(cluster)), { deadlineMs });
  stranded = strandedHints(cluster);
  if (healthy.reason !== "predicate" && stranded > 0) return fail(`${stranded} hints for nodes that left or were replaced are still held ${settings.convergenceMs} ms after the liveness phase`);
  if (healthy.reason !== "predicate") return fail(`after healing, members did not all see each other up with every hint handed back within ${settings.convergenceMs} ms`);
  const ring = cluster.settledRing();
  // Both at one instant: a write still committing shows in a fetch before it reaches its tree.
  // And no write in flight: one stored on every replica but not yet acknowledged would end the
  // run unacknowledged (the history allows it, but the summary would count it as failed).
  const converged = (): boolean =>
    workload.writesInFlight === 0 && cluster.ringProblem() === undefined && cluster.rootsProblem(ring, quorum.n) === undefined && replicasEqual(ring, nodeOf, keys) === undefined;
  const roots = await sim.runUntil(every(sim, converged), { deadlineMs });
  if (roots.reason !== "predicate") {
    const problem = cluster.ringProblem() ?? cluster.rootsProblem(ring, quorum.n);
    if (problem !== undefined) return fail(`Merkle roots still differ ${settings.convergenceMs} ms after the liveness phase: ${problem}`);
    return fail(`Merkle roots agree but replicas differ: ${replicasEqual(ring, nodeOf, keys)}`);
  }
  if (sim.errors.length > 0) return fail(`simulated code failed: ${sim.errors[0]}`);

  const finals = finalStates(ring, nodeOf, keys);
  const checked = checkEventualHistory(workload.writes, finals, { covers: coversDot, dotKey });
  if (!checked.ok) return fail(formatEventualViolations(checked, dotKey));
  const reused = reusedDot(workload.writes);
  if (reused !== undefined) return fail(reused);
  return { ok: true, traceHash: sim.traceHash(), summary: summary() };
}

/** How often (virtual ms) the convergence checks look: each covers every partition and key, too dear for every event. */
const checkEveryMs = 50;

/** `condition`, evaluated at most once per checkEveryMs of virtual time (false in between). */
function every(sim: Simulation, condition: () => boolean): () => boolean {
  let nextMs = sim.now();
  return () => {
    if (sim.now() < nextMs) return false;
    nextMs = sim.now() + checkEveryMs;
    return condition();
  };
}

function dotKey(dot: Dot): string {
  return `${dot[0]}:${dot[1]}`;
}

/**
 * Dot reuse (Riak's KV679): two acknowledged writes of one key given the same dot, as a
 * coordinator that lost its own copy in a crash and counted again from its older set would.
 * The checker above cannot see it (a sibling at the dot looks present whichever value it holds).
 */
function reusedDot(writes: ReadonlyArray<{ id: number | string; key: string; dot?: Dot; acknowledged: boolean }>): string | undefined {
  const seen = new Map<string, number | string>();
  for (const write of writes) {
    if (!write.acknowledged || write.dot === undefined) continue;
    const name = `${write.key}\u0000${dotKey(write.dot)}`;
    const other = seen.get(name);
    if (other !== undefined) return `dot reuse: writes ${String(other)} and ${String(write.id)} of key ${JSON.stringify(write.key)} both got dot ${dotKey(write.dot)}`;
    seen.set(name, write.id);
  }
  return undefined;
}

/**
 * Every live node runs and sees every other live node up, and holds no hint: none for a live
 * node (handed back) and none for a node that left or was replaced (re-targeted to the key's
 * current primaries, hint-delivery.ts).
 */
function allUpAndHandedBack(cluster: SimCluster): boolean {
  return cluster.live.every((id) => {
    const node = cluster.nodeOf(id);
    if (node === undefined) return false;
    if (!cluster.live.every((other) => other === id || node.membership.isUp(other))) return false;
    return node.hints.countByTarget().size === 0;
  });
}

/** Hints held for nodes that left or were replaced (the convergence check fails on any). */
function strandedHints(cluster: SimCluster): number {
  let count = 0;
  for (const id of cluster.live) for (const [target, held] of cluster.nodeOf(id)?.hints.countByTarget() ?? []) if (!cluster.live.includes(target)) count += held;
  return count;
}

function antiEntropyRepaired(cluster: SimCluster): number {
  return cluster.live.reduce((sum, id) => sum + (cluster.nodeOf(id)?.antiEntropy?.stats.keysRepaired ?? 0), 0);
}

function primariesOf(ring: RingState, key: string): NodeId[] {
  return preferenceList(ring, partitionOf(new TextEncoder().encode(key), ring.partitionCount), quorum.n);
}

/** Undefined when every key's primaries hold equal sets; else the first key that differs. */
function replicasEqual(ring: RingState, nodeOf: (id: NodeId) => ClusterNode | undefined, keys: readonly string[]): string | undefined {
  for (const key of keys) {
    const primaries = primariesOf(ring, key);
    if (!primaries.every((id) => nodeOf(id) !== undefined)) return `a primary of ${key} is down`;
    const sets = primaries.map((id) => nodeOf(id)!.replicas.fetch(itemKeyOf(key)) ?? dvvset.empty<Sibling>());
    if (!sets.every((set) => dvvset.equal(set, sets[0]!))) return `${key} differs on ${primaries.join(", ")}`;
  }
  return undefined;
}

function finalStates(ring: RingState, nodeOf: (id: NodeId) => ClusterNode | undefined, keys: readonly string[]): Map<string, EventualFinalState<Dot, VersionVector>> {
  const finals = new Map<string, EventualFinalState<Dot, VersionVector>>();
  const decoder = new TextDecoder();
  for (const key of keys) {
    const set: DottedVersionVectorSet<Sibling> | undefined = nodeOf(primariesOf(ring, key)[0]!)!.replicas.fetch(itemKeyOf(key));
    if (set === undefined) continue;
    const siblings = dvvset.dottedValues(set).map(({ dot, value }) => ({ dot, value: decoder.decode(value.value), tombstone: value.tombstone }));
    finals.set(key, { siblings, context: dvvset.join(set) });
  }
  return finals;
}
