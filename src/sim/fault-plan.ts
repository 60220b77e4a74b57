import { assert } from "../assert.js";
import type { NodeId } from "../runtime/network.js";
import type { Random } from "../runtime/runtime.js";
import { forkRandom } from "./fork-random.js";
import type { NetworkFaults } from "./sim-network.js";

/**
 * Swarm testing (Groce et al., "Swarm Testing", 2012; TigerBeetle's VOPR; FoundationDB's fault
 * workloads): each seed turns some faults on and others off and picks their parameters, then
 * lays out a schedule of fault episodes over the safety phase. A run with every fault always
 * on explores less than many runs with different subsets. The plan is pure data (easy to print
 * for a failing seed); fault-schedule.ts applies it and heals.
 *
 * Episodes of one kind never overlap (one partition shape at a time, one clogged node at a
 * time), and at most `crashedMax` nodes are down at once.
 *
 * A long partition (issue 6: "tens of seconds, with writes on one side") is opt-in through
 * `longPartitions`: when a seed draws it (its own random stream, so the other choices of a seed
 * stay as they were), the faulty phase grows by its length and it runs after the mixed
 * episodes, alone: a majority side that the workload writes through, the rest cut off.
 */
export const faultKinds = [
  "loss", "duplication", "reordering", "partition", "oneWayPartition", "bridge", "clogging", "crash", "clockJump", "clockDrift",
] as const;
export type FaultKind = (typeof faultKinds)[number] | "longPartition";

/** A long partition: `writers` (a majority) take the workload, `others` are cut off from them. */
export interface LongPartition {
  startMs: number;
  endMs: number;
  writers: NodeId[];
  others: NodeId[];
}

export type FaultEvent =
  | { atMs: number; kind: "partition"; a: NodeId[]; b: NodeId[] }
  | { atMs: number; kind: "partitionOneWay"; from: NodeId[]; to: NodeId[] }
  | { atMs: number; kind: "bridge"; left: NodeId[]; right: NodeId[]; bridgeNode: NodeId }
  | { atMs: number; kind: "healPartition" }
  | { atMs: number; kind: "clogLink"; from: NodeId; to: NodeId }
  | { atMs: number; kind: "unclogLink"; from: NodeId; to: NodeId }
  | { atMs: number; kind: "crash"; nodeId: NodeId }
  | { atMs: number; kind: "restart"; nodeId: NodeId }
  | { atMs: number; kind: "clockJump"; nodeId: NodeId; deltaMs: number }
  | { atMs: number; kind: "clockDrift"; nodeId: NodeId; driftPpm: number };

export interface FaultPlan {
  seed: number;
  enabled: FaultKind[];
  /** Network parameters for the safety phase. */
  network: NetworkFaults;
  /** Sorted by atMs (relative to the start of the safety phase). */
  events: FaultEvent[];
  /** The faulty phase's length: safetyPhaseMs, plus the long partition when there is one. */
  phaseMs: number;
  longPartition?: LongPartition;
}

export interface FaultPlanOptions {
  nodeIds: readonly NodeId[];
  safetyPhaseMs: number;
  /** Only these kinds may be chosen (default: all). */
  kinds?: readonly FaultKind[];
  /** Each allowed kind is on with this probability (default 1/2). */
  kindProbability?: number;
  /** Episodes per kind at most (a bound on the schedule). */
  episodesPerKindMax?: number;
  /** Nodes down at once at most (default: a minority). */
  crashedMax?: number;
  clockJumpMaxMs?: number;
  clockDriftPpmMax?: number;
  /** Opt-in long partitions: the share of seeds that get one, and its length range (virtual ms). */
  longPartitions?: { probability: number; minMs: number; maxMs: number };
}

export const faultPlanDefaults = { kindProbability: 0.5, episodesPerKindMax: 4, clockJumpMaxMs: 2_000, clockDriftPpmMax: 200 } as const;

export function planFaults(seed: number, options: FaultPlanOptions): FaultPlan {
  assert(options.nodeIds.length > 0 && options.safetyPhaseMs > 0, "a fault plan needs nodes and a safety phase");
  const random = forkRandom(seed, "fault plan");
  const allowed = options.kinds ?? faultKinds;
  const p = options.kindProbability ?? faultPlanDefaults.kindProbability;
  const enabled: FaultKind[] = faultKinds.filter((kind) => allowed.includes(kind) && random.next() < p);
  const on = (kind: FaultKind): boolean => enabled.includes(kind);
  const network: NetworkFaults = {
    delayMinMs: uniform(random, 0.2, 2),
    delayMaxMs: 0,
    jitterMs: on("reordering") ? uniform(random, 2, 50) : 0,
    lossProbability: on("loss") ? uniform(random, 0.01, 0.2) : 0,
    duplicateProbability: on("duplication") ? uniform(random, 0.01, 0.1) : 0,
  };
  network.delayMaxMs = network.delayMinMs + uniform(random, 0, 8);
  const ctx: PlanContext = { random, options, events: [] };
  const shapes = (["partition", "oneWayPartition", "bridge"] as const).filter(on);
  if (shapes.length > 0) planPartitions(ctx, shapes);
  if (on("clogging")) planClogging(ctx);
  if (on("crash")) planCrashes(ctx);
  if (on("clockJump")) planClockJumps(ctx);
  if (on("clockDrift")) planClockDrift(ctx);
  const long = planLongPartition(seed, options);
  if (long !== undefined) {
    enabled.push("longPartition");
    ctx.events.push({ atMs: long.startMs, kind: "partition", a: long.writers, b: long.others }, { atMs: long.endMs, kind: "healPartition" });
  }
  const events = ctx.events.map((event, order) => ({ event, order }));
  events.sort((x, y) => x.event.atMs - y.event.atMs || x.order - y.order);
  return { seed, enabled, network, events: events.map((e) => e.event), phaseMs: long?.endMs ?? options.safetyPhaseMs, ...(long !== undefined ? { longPartition: long } : {}) };
}

/** After the mixed episodes (which all end inside safetyPhaseMs): a majority and the rest. */
function planLongPartition(seed: number, options: FaultPlanOptions): LongPartition | undefined {
  const long = options.longPartitions;
  const allowed = options.kinds === undefined || options.kinds.includes("longPartition");
  if (long === undefined || !allowed || options.nodeIds.length < 3) return undefined;
  assert(long.probability >= 0 && long.probability <= 1 && long.minMs > 0 && long.maxMs >= long.minMs, `bad long partition settings: ${JSON.stringify(long)}`);
  const random = forkRandom(seed, "long partition");
  if (random.next() >= long.probability) return undefined;
  const order = shuffled(random, options.nodeIds);
  const majority = Math.floor(order.length / 2) + 1;
  const startMs = options.safetyPhaseMs;
  return { startMs, endMs: startMs + Math.round(uniform(random, long.minMs, long.maxMs)), writers: order.slice(0, majority), others: order.slice(majority) };
}

interface PlanContext {
  random: Random;
  options: FaultPlanOptions;
  events: FaultEvent[];
}

function uniform(random: Random, min: number, max: number): number {
  return min + random.next() * (max - min);
}

function shuffled<T>(random: Random, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Back-to-back, non-overlapping episodes: [start, end) intervals inside the safety phase. */
function episodes(ctx: PlanContext): Array<[number, number]> {
  const phase = ctx.options.safetyPhaseMs;
  const count = 1 + ctx.random.int(ctx.options.episodesPerKindMax ?? faultPlanDefaults.episodesPerKindMax);
  const slot = phase / count;
  const out: Array<[number, number]> = [];
  for (let i = 0; i < count; i++) {
    const start = i * slot + uniform(ctx.random, 0, slot / 2);
    out.push([start, start + uniform(ctx.random, slot / 8, slot / 2)]);
  }
  return out;
}

function planPartitions(ctx: PlanContext, shapes: ReadonlyArray<"partition" | "oneWayPartition" | "bridge">): void {
  const ids = ctx.options.nodeIds;
  if (ids.length < 2) return;
  for (const [start, end] of episodes(ctx)) {
    const order = shuffled(ctx.random, ids);
    const shape = shapes[ctx.random.int(shapes.length)]!;
    if (shape === "bridge" && ids.length >= 3) {
      const [bridgeNode, ...rest] = order;
      const cut = 1 + ctx.random.int(rest.length - 1);
      ctx.events.push({ atMs: start, kind: "bridge", left: rest.slice(0, cut), right: rest.slice(cut), bridgeNode: bridgeNode! });
    } else {
      const cut = 1 + ctx.random.int(ids.length - 1);
      const [a, b] = [order.slice(0, cut), order.slice(cut)];
      ctx.events.push(shape === "oneWayPartition" ? { atMs: start, kind: "partitionOneWay", from: a, to: b } : { atMs: start, kind: "partition", a, b });
    }
    ctx.events.push({ atMs: end, kind: "healPartition" });
  }
}

/** FoundationDB's clogging: a node's links clog one by one, then clear in a random order. */
function planClogging(ctx: PlanContext): void {
  const ids = ctx.options.nodeIds;
  if (ids.length < 2) return;
  for (const [start, end] of episodes(ctx)) {
    const node = ids[ctx.random.int(ids.length)]!;
    const links = shuffled(ctx.random, ids.filter((id) => id !== node).flatMap((other) => [[node, other], [other, node]] as Array<[NodeId, NodeId]>));
    const step = (end - start) / (2 * links.length);
    links.forEach(([from, to], i) => ctx.events.push({ atMs: start + i * step, kind: "clogLink", from, to }));
    shuffled(ctx.random, links).forEach(([from, to], i) => ctx.events.push({ atMs: start + (links.length + i) * step, kind: "unclogLink", from, to }));
  }
}

function planCrashes(ctx: PlanContext): void {
  const ids = ctx.options.nodeIds;
  const crashedMax = ctx.options.crashedMax ?? Math.max(1, Math.floor((ids.length - 1) / 2));
  for (const [start, end] of episodes(ctx)) {
    const victims = shuffled(ctx.random, ids).slice(0, 1 + ctx.random.int(crashedMax));
    for (const nodeId of victims) {
      ctx.events.push({ atMs: start + uniform(ctx.random, 0, (end - start) / 4), kind: "crash", nodeId });
      ctx.events.push({ atMs: end, kind: "restart", nodeId });
    }
  }
}

function planClockJumps(ctx: PlanContext): void {
  const jumpMaxMs = ctx.options.clockJumpMaxMs ?? faultPlanDefaults.clockJumpMaxMs;
  for (const [start] of episodes(ctx)) {
    const nodeId = ctx.options.nodeIds[ctx.random.int(ctx.options.nodeIds.length)]!;
    ctx.events.push({ atMs: start, kind: "clockJump", nodeId, deltaMs: Math.round(uniform(ctx.random, -jumpMaxMs, jumpMaxMs)) });
  }
}

function planClockDrift(ctx: PlanContext): void {
  const driftMax = ctx.options.clockDriftPpmMax ?? faultPlanDefaults.clockDriftPpmMax;
  for (const nodeId of ctx.options.nodeIds) {
    ctx.events.push({ atMs: 0, kind: "clockDrift", nodeId, driftPpm: Math.round(uniform(ctx.random, -driftMax, driftMax)) });
  }
}
