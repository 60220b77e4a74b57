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
import { ClusterNode, type ClusterNodeOptions } from "./cluster-node.js";
import { EventualWorkload, itemKeyOf } from "./eventual-workload.js";
import { planFaults, type FaultKind } from "./fault-plan.js";
import { FaultSchedule } from "./fault-schedule.js";
import type { ScenarioResult } from "./scenario.js";
import { Simulation } from "./simulation.js";

/**
 * The eventual path end to end under a seed's faults (TESTING.md, "The simulator"; issue 3):
 * 3-5 ClusterNodes, n=3 r=2 w=2, concurrent clients on 50-200 keys during the safety phase
 * (crash and restart included), then heal; the liveness phase keeps one client going, waits
 * until every node sees every other up and every hint is handed back, runs one quorum read of
 * every key at r=n (read repair; anti-entropy does not exist yet), and requires within a bound
 * of virtual time that all primary replicas of every key hold equal sets. Then the history
 * checker: no acknowledged write lost, no deleted value back.
 */
export interface EventualScenarioOptions {
  safetyPhaseMs?: number;
  livenessPhaseMs?: number;
  /** Virtual time allowed after the liveness phase for hints, repair and equal replicas. */
  convergenceMs?: number;
  kinds?: readonly FaultKind[];
  /** Test only: run a coordinator that keeps only the newest sibling (the checker must object). */
  unsafeKeepNewestOnly?: boolean;
  inspect?: (sim: Simulation) => void;
}

export const eventualScenarioDefaults = Object.freeze({ safetyPhaseMs: 8_000, livenessPhaseMs: 2_000, convergenceMs: 30_000 });

const quorum: Quorum = { n: 3, r: 2, w: 2, dw: 0, pr: 0, pw: 0 };
const fullRead: Quorum = { ...quorum, r: 3 };
const requestTimeoutMs = 400;
const fullReadAttemptsMax = 5;

const nodeOptions = (nodeIds: readonly NodeId[], initialRing: RingState, stats: EventualCoordinatorStats, unsafe: boolean): ClusterNodeOptions => ({
  seeds: nodeIds.slice(0, 2),
  initialRing,
  requestTimeoutMs,
  membershipIntervals: { probeIntervalMs: 200, probeTimeoutMs: 80, indirectProbeTimeoutMs: 160, suspicionTimeoutMs: 1_000, gossipIntervalMs: 200, gossipTimeoutMs: 150 },
  hintDelivery: { intervalMs: 100, deliverTimeoutMs: 1_000, backoffBaseMs: 100, backoffMaxMs: 1_000 },
  stats,
  ...(unsafe ? { unsafeKeepNewestOnly: true } : {}),
});

export async function eventualScenario(seed: number, options: EventualScenarioOptions = {}): Promise<ScenarioResult> {
  const settings = { ...eventualScenarioDefaults, ...options };
  const sim = new Simulation({ seed });
  options.inspect?.(sim);
  const shape = sim.fork("eventual shape");
  const nodeIds = Array.from({ length: 3 + shape.int(3) }, (_, i) => `n${i + 1}`);
  const keys = Array.from({ length: 50 + shape.int(151) }, (_, i) => `k${i}`);
  const clients = 3 + shape.int(4);
  const claimed = claimInitial(nodeIds.map((id) => ({ id })), { partitionCount: 64 });
  if (!claimed.ok) return { ok: false, reason: `claim failed: ${claimed.error}`, traceHash: sim.traceHash(), summary: "" };
  const ring = claimed.ring;
  const stats: EventualCoordinatorStats = { forwarded: 0, hinted: 0, repaired: 0 };
  const unsafe = options.unsafeKeepNewestOnly === true;
  for (const id of nodeIds) sim.addNode(id, (runtime) => ClusterNode.open(runtime, nodeOptions(nodeIds, ring, stats, unsafe)));
  await sim.bootAll();
  const nodeOf = (id: NodeId): ClusterNode | undefined => (sim.isUp(id) ? sim.node<ClusterNode>(id).instance : undefined);
  const workload = new EventualWorkload({ sim, coordinatorOf: (id) => nodeOf(id)?.coordinator, nodeIds, keys, quorum, thinkMsMax: 60, clientTimeoutMs: 3 * requestTimeoutMs });

  const plan = planFaults(seed, { nodeIds, safetyPhaseMs: settings.safetyPhaseMs, ...(options.kinds ? { kinds: options.kinds } : {}) });
  const faults = FaultSchedule.start(plan, sim);
  const safetyEndMs = sim.now() + settings.safetyPhaseMs;
  const livenessEndMs = safetyEndMs + settings.livenessPhaseMs;
  for (let c = 0; c < clients; c++) {
    sim.guard(`client c${c}`, workload.client(`c${c}`, sim.fork(`client c${c}`), c === 0 ? livenessEndMs : safetyEndMs));
  }
  await sim.runUntil(safetyEndMs);
  await faults.heal();
  await sim.runUntil(livenessEndMs);

  const summary = (): string =>
    `${nodeIds.length} nodes, ${keys.length} keys, ${clients} clients, faults [${plan.enabled.join(", ")}], ${plan.events.length} fault events, ` +
    `${workload.writes.length} writes (${workload.writes.filter((w) => w.acknowledged).length} acknowledged), ${workload.readsOk}/${workload.reads} reads ok, ` +
    `${stats.forwarded} forwarded, ${stats.hinted} hinted, ${stats.repaired} repaired, ${sim.scheduler.steps} events`;
  const fail = (reason: string): ScenarioResult => ({ ok: false, reason, traceHash: sim.traceHash(), summary: summary() });

  const deadlineMs = sim.now() + settings.convergenceMs;
  const healthy = await sim.runUntil(() => allUpAndHandedBack(nodeIds, nodeOf), { deadlineMs });
  if (healthy.reason !== "predicate") return fail(`after healing, members did not all see each other up with every hint handed back within ${settings.convergenceMs} ms`);
  const unread = await readEveryKey(sim, nodeOf(nodeIds[0]!)!, keys);
  if (unread !== undefined) return fail(unread);
  const equal = await sim.runUntil(() => replicasEqual(ring, nodeIds, nodeOf, keys) === undefined, { deadlineMs });
  if (equal.reason !== "predicate") return fail(`replicas still differ after repair: ${replicasEqual(ring, nodeIds, nodeOf, keys)}`);
  if (sim.errors.length > 0) return fail(`simulated code failed: ${sim.errors[0]}`);

  const finals = finalStates(ring, nodeOf, keys);
  const checked = checkEventualHistory(workload.writes, finals, { covers: coversDot, dotKey });
  if (!checked.ok) return fail(formatEventualViolations(checked, dotKey));
  return { ok: true, traceHash: sim.traceHash(), summary: summary() };
}

function dotKey(dot: Dot): string {
  return `${dot[0]}:${dot[1]}`;
}

function allUpAndHandedBack(nodeIds: readonly NodeId[], nodeOf: (id: NodeId) => ClusterNode | undefined): boolean {
  return nodeIds.every((id) => {
    const node = nodeOf(id);
    if (node === undefined) return false;
    if (!nodeIds.every((other) => other === id || node.membership.isUp(other))) return false;
    return [...node.hints.countByTarget().values()].every((count) => count === 0);
  });
}

/** One quorum read at r=n of every key from one node: read repair brings every primary up to date. */
async function readEveryKey(sim: Simulation, node: ClusterNode, keys: readonly string[]): Promise<string | undefined> {
  for (const key of keys) {
    let attempt = 0;
    for (;;) {
      const result = await sim.settle(node.coordinator.get(itemKeyOf(key), fullRead, false));
      if (result.ok) break;
      if (++attempt >= fullReadAttemptsMax) return `the final read of ${key} at r=3 failed ${attempt} times: ${JSON.stringify(result)}`;
    }
  }
  return undefined;
}

function primariesOf(ring: RingState, key: string): NodeId[] {
  return preferenceList(ring, partitionOf(new TextEncoder().encode(key), ring.partitionCount), quorum.n);
}

/** Undefined when every key's primaries hold equal sets; else the first key that differs. */
function replicasEqual(ring: RingState, nodeIds: readonly NodeId[], nodeOf: (id: NodeId) => ClusterNode | undefined, keys: readonly string[]): string | undefined {
  if (!nodeIds.every((id) => nodeOf(id) !== undefined)) return "a node is down";
  for (const key of keys) {
    const sets = primariesOf(ring, key).map((id) => nodeOf(id)!.replicas.fetch(itemKeyOf(key)) ?? dvvset.empty<Sibling>());
    if (!sets.every((set) => dvvset.equal(set, sets[0]!))) return `${key} differs on ${primariesOf(ring, key).join(", ")}`;
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
