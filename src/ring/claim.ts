import { assert } from "../assert.js";
import type { NodeId } from "../runtime/network.js";
import { isValidPartitionCount, partitionCountDefault } from "./partition-hash.js";
import { Placement } from "./placement.js";
import { compareNodeIds, ringMembersMax, ringState, type RingMember, type RingState } from "./ring-state.js";

/**
 * Claim: which node owns which partition (Dynamo paper, section 6.2, strategy 3: a fixed
 * number of equal partitions handed out to nodes; Riak's claim v2/v3). Three goals, in order:
 *
 * 1. Balance, always: every member owns floor(P/M) or ceil(P/M) partitions, so the largest
 *    share over the smallest is at most (b+1)/b with b = floor(P/M); at most 1.25 whenever
 *    P >= 4M (and exactly 1 when M divides P).
 * 2. Minimal movement: a re-claim moves only what balance forces. A joining node takes exactly
 *    its share, floor(P/M), the least any balanced ring can give it; a leaving node's
 *    partitions are the only ones that move.
 * 3. Spacing, where possible (Riak's target_n_val): any `targetNVal` consecutive partitions
 *    have distinct owners, so the preference list (the next N distinct owners clockwise) is the
 *    next N partitions and fallbacks are close by. This goal only chooses among moves the
 *    first two allow; it is never bought with an extra move.
 *
 * Deterministic: the same members and ring give the same result, every tie broken by
 * partition index, then NodeId. Zones do not influence claim (preference-list.ts uses them).
 */

export const targetNValDefault = 4;

export interface ClaimOptions {
  /** Spacing goal: this many consecutive partitions should have distinct owners. */
  targetNVal?: number;
}

export interface InitialClaimOptions extends ClaimOptions {
  /** A power of two, at least the member count; default 256. */
  partitionCount?: number;
}

export type ClaimError =
  | { code: "no-members" }
  /** More members than partitions, or than ringMembersMax. */
  | { code: "too-many-members"; members: number; partitionCount: number; membersMax: number };

export type ClaimResult = { ok: true; ring: RingState } | { ok: false; error: ClaimError };

/** The first ring of a cluster (version 1): a diagonal walk, then the seam placed by the greedy. */
export function claimInitial(members: readonly RingMember[], options: InitialClaimOptions = {}): ClaimResult {
  const partitionCount = options.partitionCount ?? partitionCountDefault;
  assert(isValidPartitionCount(partitionCount), `partition count must be a power of two in range, got ${partitionCount}`);
  const sorted = sortedMembers(members);
  const problem = claimProblem(sorted.length, partitionCount);
  if (problem !== undefined) return { ok: false, error: problem };
  // Diagonal (partition p to member p mod M) spaces owners perfectly except where the walk wraps
  // past partition 0 (when M does not divide P), so the last round plus a spacing window each
  // side is left unowned for the greedy, which also chooses who gets the P mod M extra ones.
  const ids = sorted.map((m) => m.id);
  const seam = Math.min(partitionCount, sorted.length + 2 * targetNVal(options));
  const owners: Array<NodeId | undefined> = [];
  for (let p = 0; p < partitionCount; p++) owners.push(p < partitionCount - seam ? ids[p % ids.length] : undefined);
  return { ok: true, ring: place({ version: 1, partitionCount, owners, members: sorted }, options, { flexibleExtras: true }) };
}

/** `ring` with `member` added; a member already present keeps its partitions (no new version). */
export function claimJoin(ring: RingState, member: RingMember, options: ClaimOptions = {}): ClaimResult {
  if (ring.members.some((m) => m.id === member.id)) return { ok: true, ring };
  return reclaim(ring, [...ring.members, member], options);
}

/** `ring` without `id`; only the leaver's partitions move. An absent id changes nothing. */
export function claimLeave(ring: RingState, id: NodeId, options: ClaimOptions = {}): ClaimResult {
  if (!ring.members.some((m) => m.id === id)) return { ok: true, ring };
  return reclaim(
    ring,
    ring.members.filter((m) => m.id !== id),
    options,
  );
}

/**
 * The ring for a new member set, moving as few partitions as a balanced result allows:
 * partitions of departed members are re-placed, and members above their share give the
 * surplus to members below it. The version grows by one.
 */
export function reclaim(ring: RingState, members: readonly RingMember[], options: ClaimOptions = {}): ClaimResult {
  const sorted = sortedMembers(members);
  const problem = claimProblem(sorted.length, ring.partitionCount);
  if (problem !== undefined) return { ok: false, error: problem };
  const ids = new Set(sorted.map((m) => m.id));
  const owners = ring.owners.map((owner) => (ids.has(owner) ? owner : undefined));
  const next = place({ version: ring.version + 1, partitionCount: ring.partitionCount, owners, members: sorted }, options, { flexibleExtras: false });
  return { ok: true, ring: next };
}

function claimProblem(memberCount: number, partitionCount: number): ClaimError | undefined {
  if (memberCount === 0) return { code: "no-members" };
  const membersMax = Math.min(partitionCount, ringMembersMax);
  if (memberCount > membersMax) return { code: "too-many-members", members: memberCount, partitionCount, membersMax };
  return undefined;
}

function sortedMembers(members: readonly RingMember[]): RingMember[] {
  const sorted = [...members].sort((a, b) => compareNodeIds(a.id, b.id));
  for (let i = 1; i < sorted.length; i++) assert(sorted[i - 1]!.id !== sorted[i]!.id, `member ${sorted[i]!.id} appears twice`);
  return sorted;
}

function targetNVal(options: ClaimOptions): number {
  const value = options.targetNVal ?? targetNValDefault;
  assert(Number.isSafeInteger(value) && value >= 1, `targetNVal must be a positive integer, got ${value}`);
  return value;
}

interface Draft {
  version: number;
  partitionCount: number;
  /** Undefined: the partition has no owner yet and must be placed. */
  owners: Array<NodeId | undefined>;
  members: RingMember[];
}

/** Gives every unowned partition an owner and evens out the shares (see the module comment). */
function place(draft: Draft, options: ClaimOptions, placement: { flexibleExtras: boolean }): RingState {
  const plan = new Placement(draft, Math.min(targetNVal(options), draft.members.length), placement);
  plan.run();
  return ringState({
    version: draft.version,
    partitionCount: draft.partitionCount,
    owners: plan.ownerIds(),
    members: draft.members,
  });
}
