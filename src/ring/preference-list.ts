import { assert } from "../assert.js";
import type { NodeId } from "../runtime/network.js";
import { previousRing, type RingState } from "./ring-state.js";

/**
 * The preference list (Dynamo paper, section 4.3): the nodes responsible for a partition's
 * keys, found by walking the ring clockwise from the partition and keeping the first n
 * distinct owners, so a node that owns several nearby partitions counts once. claim.ts spaces
 * owners so the walk is usually n steps long.
 *
 * Zones: when members carry a `zone`, the list takes the first n owners clockwise that are in
 * distinct zones (a member without a zone is a zone of its own), then, if there are fewer
 * zones than n, fills up with the owners it skipped, in walk order. The result is always in
 * walk order, so its first entry is the partition's owner.
 *
 * Fallbacks (section 4.6, sloppy quorum): a down primary is replaced by the next healthy owner
 * further along the same walk that is not already in the list. A write sent there carries a
 * hint naming the primary it stands in for, which hinted handoff uses to hand it back.
 */
export interface PreferenceListEntry {
  readonly node: NodeId;
  /** True for a primary (one of the first n distinct owners); false for a fallback. */
  readonly primary: boolean;
  /** On a fallback: the down primary whose writes it keeps as hints. */
  readonly standsInFor?: NodeId;
}

/** The first min(n, members) distinct owners clockwise from `partition` (zone-aware, see above). */
export function preferenceList(ring: RingState, partition: number, n: number): NodeId[] {
  checkArguments(ring, partition, n);
  const wanted = Math.min(n, ring.members.length);
  const zones = zonesOf(ring);
  if (zones === undefined) return distinctOwners(ring, partition, wanted);
  return zoneAwarePrimaries(distinctOwners(ring, partition, ring.members.length), zones, wanted);
}

/**
 * The primaries that are up, in preference order, then for each down primary (in preference
 * order) the next owner clockwise that is up and not yet in the list. A down primary with no
 * healthy node left to stand in for it is dropped: the list is shorter and the coordinator's
 * quorum arithmetic sees it.
 */
export function preferenceListWithFallbacks(ring: RingState, partition: number, n: number, isUp: (id: NodeId) => boolean): PreferenceListEntry[] {
  const primaries = preferenceList(ring, partition, n);
  const entries: PreferenceListEntry[] = [];
  const down: NodeId[] = [];
  for (const node of primaries) {
    if (isUp(node)) entries.push({ node, primary: true });
    else down.push(node);
  }
  if (down.length === 0) return entries;
  let next = 0;
  for (const candidate of distinctOwners(ring, partition, ring.members.length)) {
    if (next === down.length) break;
    if (primaries.includes(candidate) || !isUp(candidate)) continue;
    entries.push({ node: candidate, primary: false, standsInFor: down[next]! });
    next++;
  }
  return entries;
}

/**
 * While `ring` is in transition (ring-state.ts `previous`): the partition's primaries on the
 * previous assignment (at n capped by that assignment's member count) when they are not the
 * current primaries, i.e. when the partition moves; undefined otherwise. Reads of a moving
 * partition need a quorum of both lists (coordinator/joint-get-core.ts).
 */
export function movingFrom(ring: RingState, partition: number, n: number): { primaries: NodeId[]; ring: RingState; n: number } | undefined {
  const old = previousRing(ring);
  if (old === undefined) return undefined;
  const width = Math.min(n, old.members.length);
  const before = preferenceList(old, partition, width);
  const now = preferenceList(ring, partition, Math.min(n, ring.members.length));
  if (before.length === now.length && before.every((node) => now.includes(node))) return undefined;
  return { primaries: before, ring: old, n: width };
}

/** On every request's path, so messages are only built on failure. */
function checkArguments(ring: RingState, partition: number, n: number): void {
  if (!(Number.isSafeInteger(partition) && partition >= 0 && partition < ring.partitionCount)) assert(false, `partition ${partition} is outside 0..${ring.partitionCount - 1}`);
  if (!(Number.isSafeInteger(n) && n >= 0)) assert(false, `a preference list needs a non-negative length, got ${n}`);
}

/** Up to `wanted` distinct owners, clockwise from `partition`, in walk order. */
function distinctOwners(ring: RingState, partition: number, wanted: number): NodeId[] {
  const owners = ring.owners;
  const mask = ring.partitionCount - 1;
  const found: NodeId[] = [];
  for (let step = 0; step < ring.partitionCount && found.length < wanted; step++) {
    const owner = owners[(partition + step) & mask]!;
    if (!found.includes(owner)) found.push(owner);
  }
  return found;
}

function zoneAwarePrimaries(walk: readonly NodeId[], zones: ReadonlyMap<NodeId, string>, wanted: number): NodeId[] {
  const chosen = new Array<boolean>(walk.length).fill(false);
  const zonesTaken = new Set<string>();
  let count = 0;
  for (let i = 0; i < walk.length && count < wanted; i++) {
    // A member without a zone is a zone of its own: its id cannot collide with another's.
    const zone = zones.get(walk[i]!) ?? `\u0000${walk[i]!}`;
    if (zonesTaken.has(zone)) continue;
    zonesTaken.add(zone);
    chosen[i] = true;
    count++;
  }
  for (let i = 0; i < walk.length && count < wanted; i++) {
    if (chosen[i]) continue;
    chosen[i] = true;
    count++;
  }
  return walk.filter((_, i) => chosen[i]);
}

/** Zone per member id, or undefined when no member has one (the common, faster case). */
const zonesByRing = new WeakMap<RingState, ReadonlyMap<NodeId, string> | null>();

function zonesOf(ring: RingState): ReadonlyMap<NodeId, string> | undefined {
  let zones = zonesByRing.get(ring);
  if (zones === undefined) {
    const withZone = ring.members.filter((m) => m.zone !== undefined);
    zones = withZone.length === 0 ? null : new Map(withZone.map((m) => [m.id, m.zone!]));
    zonesByRing.set(ring, zones);
  }
  return zones ?? undefined;
}
