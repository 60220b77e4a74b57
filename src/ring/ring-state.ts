import { assert } from "../assert.js";
import type { NodeId } from "../runtime/network.js";
import { isValidPartitionCount } from "./partition-hash.js";

/**
 * The ring as data (Riak's riak_core_ring, reduced to what placement needs): which node owns
 * each partition, who the members are, and a version that grows with every change so gossip
 * can tell the newer of two rings apart. It is immutable and plain (arrays, strings, numbers),
 * so it travels in gossip and to the partition-aware client as it is.
 *
 * Canonical form: members sorted by id, a member's `zone` absent rather than undefined, and
 * `previous` absent rather than undefined. Two rings with equal fields are equal rings; claim
 * produces canonical rings only.
 *
 * A ring in transition (issue 4, "while a partition moves, a change needs a majority of the old
 * and of the new acceptor set") also carries the owners and members it replaced: until every
 * moved partition's data reached its new replicas, the strong path asks majorities of both
 * preference lists (joint consensus), and the eventual path's new replicas are being filled
 * (handoff/ownership-*.ts). The leader then publishes the same owners without `previous`.
 */
export interface RingMember {
  readonly id: NodeId;
  /** Failure domain (zone, rack); preference lists prefer distinct zones when members carry one. */
  readonly zone?: string;
}

/** The owners and members a ring in transition replaced (see the module comment). */
export interface RingTransition {
  readonly owners: readonly NodeId[];
  readonly members: readonly RingMember[];
}

export interface RingState {
  readonly version: number;
  /** A power of two, at least the member count (partition-hash.ts). */
  readonly partitionCount: number;
  /** `owners[p]` owns partition p. */
  readonly owners: readonly NodeId[];
  readonly members: readonly RingMember[];
  /** Present while partitions move from these owners to `owners`. */
  readonly previous?: RingTransition;
  /**
   * Nodes this ring's change (a committed leave or replace) takes out while the committing leader
   * believed them running (issue 6): each hands its data on and reports a clean departure, and
   * tombstone GC waits for it until then (coordinator/tombstone-reaper-departures.ts). A node
   * taken out while the leader held it suspect or down is not listed (a removal: its data is
   * rebuilt from the survivors). Set on the ring in transition a plan gives (ring-plan.ts),
   * carried to its settled ring (ringSettled), absent on any other ring. Sorted, none a member.
   */
  readonly departing?: readonly NodeId[];
}

/**
 * The most members a ring may have. Claim's first placement costs about M^3 steps at worst
 * (2 s near 1024 members), so we bound it well above any cluster Shoal is meant for.
 */
export const ringMembersMax = 256;

export type RingParseResult = { ok: true; ring: RingState } | { ok: false; error: string };

/** Builds a canonical, frozen ring; the fields must describe a valid ring (asserted). */
export function ringState(fields: RingState): RingState {
  const problem = ringProblem(fields);
  assert(problem === undefined, `invalid ring: ${problem}`);
  return canonical(fields);
}

/**
 * Checks a ring that arrived from outside (gossip, the client's fetch, disk) after decoding.
 * A malformed ring from a peer is an operating error, not a bug here, so it is a value.
 */
export function parseRing(value: unknown): RingParseResult {
  const problem = ringProblem(value);
  if (problem !== undefined) return { ok: false, error: problem };
  return { ok: true, ring: canonical(value as RingState) };
}

/** The first thing wrong with `value` as a ring, or undefined when it is a valid ring. */
export function ringProblem(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null) return "a ring must be an object";
  const ring = value as Partial<Record<keyof RingState, unknown>>;
  if (!Number.isSafeInteger(ring.version) || (ring.version as number) < 0) return `version must be a non-negative integer, got ${String(ring.version)}`;
  if (typeof ring.partitionCount !== "number" || !isValidPartitionCount(ring.partitionCount)) return `partition count must be a power of two in range, got ${String(ring.partitionCount)}`;
  const membersProblem = membersProblemOf(ring.members, ring.partitionCount);
  if (membersProblem !== undefined) return membersProblem;
  const ownersProblem = ownersProblemOf(ring.owners, ring.partitionCount, ring.members as RingMember[]);
  if (ownersProblem !== undefined) return ownersProblem;
  const departingProblem = departingProblemOf(ring.departing, ring.members as RingMember[]);
  if (departingProblem !== undefined) return departingProblem;
  return ring.previous === undefined ? undefined : transitionProblemOf(ring.previous, ring.partitionCount);
}

/** `previous` is bounded like the ring itself: at most ringMembersMax members, one owner per partition. */
function transitionProblemOf(previous: unknown, partitionCount: number): string | undefined {
  if (typeof previous !== "object" || previous === null) return "previous must be an object";
  const { owners, members } = previous as { owners?: unknown; members?: unknown };
  const problem = membersProblemOf(members, partitionCount) ?? ownersProblemOf(owners, partitionCount, members as RingMember[]);
  return problem === undefined ? undefined : `previous: ${problem}`;
}

/** `departing`: absent, or at most ringMembersMax distinct ids (1-256 characters), none a member. */
function departingProblemOf(departing: unknown, members: readonly RingMember[]): string | undefined {
  if (departing === undefined) return undefined;
  if (!Array.isArray(departing) || departing.length > ringMembersMax) return `departing must be a list of at most ${ringMembersMax} node ids`;
  const seen = new Set<string>();
  for (const id of departing as unknown[]) {
    if (typeof id !== "string" || id.length === 0 || id.length > 256) return "a departing id must be a string of 1-256 characters";
    if (seen.has(id)) return `departing ${id} appears twice`;
    if (members.some((m) => m.id === id)) return `departing ${id} is still a member`;
    seen.add(id);
  }
  return undefined;
}

function membersProblemOf(members: unknown, partitionCount: number): string | undefined {
  if (!Array.isArray(members) || members.length === 0) return "a ring needs at least one member";
  if (members.length > partitionCount) return `${members.length} members cannot share ${partitionCount} partitions`;
  if (members.length > ringMembersMax) return `${members.length} members exceed the limit of ${ringMembersMax}`;
  const seen = new Set<string>();
  for (const member of members as unknown[]) {
    if (typeof member !== "object" || member === null) return "a member must be an object";
    const { id, zone } = member as { id?: unknown; zone?: unknown };
    if (typeof id !== "string" || id.length === 0) return "a member id must be a non-empty string";
    if (zone !== undefined && (typeof zone !== "string" || zone.length === 0)) return `member ${id}: zone must be a non-empty string`;
    if (seen.has(id)) return `member ${id} appears twice`;
    seen.add(id);
  }
  return undefined;
}

function ownersProblemOf(owners: unknown, partitionCount: number, members: readonly RingMember[]): string | undefined {
  if (!Array.isArray(owners) || owners.length !== partitionCount) return `owners must list one node per partition (${partitionCount})`;
  const ids = new Set(members.map((m) => m.id));
  for (let p = 0; p < owners.length; p++) {
    const owner: unknown = owners[p];
    if (typeof owner !== "string" || !ids.has(owner)) return `partition ${p} is owned by ${String(owner)}, not a member`;
  }
  return undefined;
}

function canonical(ring: RingState): RingState {
  const fields = {
    version: ring.version,
    partitionCount: ring.partitionCount,
    owners: Object.freeze([...ring.owners]),
    members: canonicalMembers(ring.members),
  };
  const departing = ring.departing !== undefined && ring.departing.length > 0 ? { departing: Object.freeze([...ring.departing].sort(compareNodeIds)) } : {};
  if (ring.previous === undefined) return Object.freeze({ ...fields, ...departing });
  const previous = Object.freeze({ owners: Object.freeze([...ring.previous.owners]), members: canonicalMembers(ring.previous.members) });
  return Object.freeze({ ...fields, previous, ...departing });
}

function canonicalMembers(members: readonly RingMember[]): readonly RingMember[] {
  const sorted = members
    .map((m): RingMember => Object.freeze(m.zone === undefined ? { id: m.id } : { id: m.id, zone: m.zone }))
    .sort((a, b) => compareNodeIds(a.id, b.id));
  return Object.freeze(sorted);
}

/** The one order of node ids every tie-break in ring/ uses (UTF-16 code units, like `<`). */
export function compareNodeIds(a: NodeId, b: NodeId): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function ringsEqual(a: RingState, b: RingState): boolean {
  if (a === b) return true;
  if (a.version !== b.version || a.partitionCount !== b.partitionCount) return false;
  if (!assignmentsEqual(a, b)) return false;
  if ((a.departing ?? []).join("\n") !== (b.departing ?? []).join("\n")) return false;
  if (a.previous === undefined || b.previous === undefined) return a.previous === b.previous;
  return assignmentsEqual(a.previous, b.previous);
}

/** Same members (ids and zones, in canonical order) and same owner of every partition. */
export function assignmentsEqual(a: RingTransition, b: RingTransition): boolean {
  if (a.members.length !== b.members.length || a.owners.length !== b.owners.length) return false;
  for (let i = 0; i < a.members.length; i++) {
    const x = a.members[i]!;
    const y = b.members[i]!;
    if (x.id !== y.id || x.zone !== y.zone) return false;
  }
  for (let p = 0; p < a.owners.length; p++) if (a.owners[p] !== b.owners[p]) return false;
  return true;
}

/**
 * `next` as a transition from `current`: it keeps `current`'s owners and members as
 * `previous` when they differ from its own, so the strong path asks both until the moved
 * partitions are filled. A `current` still in transition is not a valid start (the leader
 * makes one change at a time; asserted).
 */
export function ringTransition(current: RingState, next: RingState): RingState {
  assert(current.previous === undefined, `ring ${current.version} is still in transition`);
  assert(next.partitionCount === current.partitionCount, `a transition cannot resize ${current.partitionCount} to ${next.partitionCount} partitions`);
  if (assignmentsEqual(current, next)) return next;
  return ringState({ ...next, previous: { owners: current.owners, members: current.members } });
}

/** The ring after its transition finished: the same owners without `previous`, one version up (and the same `departing`). */
export function ringSettled(ring: RingState): RingState {
  assert(ring.previous !== undefined, `ring ${ring.version} is not in transition`);
  const departing = ring.departing !== undefined ? { departing: ring.departing } : {};
  return ringState({ version: ring.version + 1, partitionCount: ring.partitionCount, owners: ring.owners, members: ring.members, ...departing });
}

/** The previous assignment of a ring in transition, as a ring of its own (to place keys on it). */
export function previousRing(ring: RingState): RingState | undefined {
  if (ring.previous === undefined) return undefined;
  return { version: ring.version, partitionCount: ring.partitionCount, owners: ring.previous.owners, members: ring.previous.members };
}

export function ownerOf(ring: RingState, partition: number): NodeId {
  if (!(Number.isSafeInteger(partition) && partition >= 0 && partition < ring.partitionCount)) assert(false, `partition ${partition} is outside 0..${ring.partitionCount - 1}`);
  return ring.owners[partition]!;
}

export function memberOf(ring: RingState, id: NodeId): RingMember | undefined {
  return ring.members.find((m) => m.id === id);
}

/** The partitions `id` owns, ascending. */
export function partitionsOwnedBy(ring: RingState, id: NodeId): number[] {
  const owned: number[] = [];
  for (let p = 0; p < ring.owners.length; p++) if (ring.owners[p] === id) owned.push(p);
  return owned;
}

/** How many partitions each member owns (every member listed, in member order). */
export function partitionShares(ring: RingState): Map<NodeId, number> {
  const shares = new Map<NodeId, number>(ring.members.map((m) => [m.id, 0]));
  for (const owner of ring.owners) shares.set(owner, shares.get(owner)! + 1);
  return shares;
}
