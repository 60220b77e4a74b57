import { assert } from "../assert.js";
import type { NodeId } from "../runtime/network.js";
import { forkRandom } from "./fork-random.js";

/**
 * Which ring change a seed makes during the faulty phase (issue 6: "the simulator gains ring
 * changes, join, leave, replace during the faulty phase"), as pure data like a FaultPlan:
 *
 * - join: a new node starts with the cluster's seeds and no ring; the ring leader's claim hook
 *   places it, through a ring in transition;
 * - leave: the leader commits planRing's leave (ring/ring-plan.ts) by publishing the ring in
 *   transition, and the leaver announces "leaving" (so no claim places it again); it keeps
 *   serving until the ring settles without it, then stops for good;
 * - replace: a node crashes for good, and the leader commits planRing's replace of it by a new
 *   node, which then starts and is filled from the surviving replicas.
 *
 * Cluster sizes stay within 3..7 (a leave needs 4 nodes, a join at most 6). A seed draws from
 * its own stream ("ring change"), so the rest of its run is chosen as before.
 */
export type RingChangeKind = "join" | "leave" | "replace";
export const ringChangeKinds: readonly RingChangeKind[] = ["join", "leave", "replace"];

export type RingChange =
  | { kind: "join"; atMs: number; node: NodeId }
  | { kind: "leave"; atMs: number; node: NodeId }
  | { kind: "replace"; atMs: number; node: NodeId; by: NodeId };

export interface RingChangeOptions {
  nodeIds: readonly NodeId[];
  /** The id a new node (join, replace) gets. */
  newNodeId: NodeId;
  /** The change happens in [startShare, endShare) of this phase (virtual ms from its start). */
  phaseMs: number;
  /** Share of seeds that make a change. */
  probability: number;
  kinds?: readonly RingChangeKind[];
  sizeMin?: number;
  sizeMax?: number;
}

export const ringChangeDefaults = Object.freeze({ sizeMin: 3, sizeMax: 7, startShare: 0.15, endShare: 0.6 });

export function planRingChange(seed: number, options: RingChangeOptions): RingChange | undefined {
  assert(options.phaseMs > 0 && options.probability >= 0 && options.probability <= 1, `bad ring change options: ${JSON.stringify(options)}`);
  assert(!options.nodeIds.includes(options.newNodeId), `the new node ${options.newNodeId} is already a node`);
  const random = forkRandom(seed, "ring change");
  if (random.next() >= options.probability) return undefined;
  const size = options.nodeIds.length;
  const sizeMin = options.sizeMin ?? ringChangeDefaults.sizeMin;
  const sizeMax = options.sizeMax ?? ringChangeDefaults.sizeMax;
  const possible = (options.kinds ?? ringChangeKinds).filter((kind) => (kind === "join" ? size < sizeMax : kind === "leave" ? size > sizeMin : size >= 1));
  if (possible.length === 0) return undefined;
  const kind = possible[random.int(possible.length)]!;
  const { startShare, endShare } = ringChangeDefaults;
  const atMs = Math.round(options.phaseMs * (startShare + random.next() * (endShare - startShare)));
  const node = options.nodeIds[random.int(size)]!;
  if (kind === "join") return { kind, atMs, node: options.newNodeId };
  if (kind === "leave") return { kind, atMs, node };
  return { kind, atMs, node, by: options.newNodeId };
}

export function describeRingChange(change: RingChange | undefined): string {
  if (change === undefined) return "no ring change";
  if (change.kind === "replace") return `replace ${change.node} by ${change.by} at ${change.atMs} ms`;
  return `${change.kind} ${change.node} at ${change.atMs} ms`;
}
