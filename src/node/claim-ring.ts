import type { ComputeRing } from "../membership/membership.js";
import type { Member } from "../membership/member.js";
import { claimInitial, reclaim } from "../ring/claim.js";
import { planRing, type RingPlanChange } from "../ring/ring-plan.js";
import { ringState, ringTransition, type RingMember, type RingState } from "../ring/ring-state.js";
import { departsFrom } from "./cluster-plan-record.js";

/**
 * The ring leader's hook for Membership (membership.ts, "The ring is the caller's"), on
 * ring/claim.ts: joining members not yet placed are claimed in, leaving members are
 * claimed away, and suspect and down members keep their partitions (Dynamo, section 4.8.1: a
 * failure is transient; only an administrative change moves partitions). Undefined when the
 * ring fits.
 *
 * With `transitions`, a change that moves partitions publishes a ring in transition
 * (ring-state.ts, `previous`): the old owners stay listed until the ownership transfer filled
 * the new replicas and the leader settles the ring (handoff/ownership-transfer.ts). One change
 * at a time: while a ring is in transition, further joins and leaves wait, so `previous` is
 * always one step back and joint majorities span two configurations, never three. Only a node
 * that runs OwnershipTransfer may turn it on (nothing else settles a ring, and a ring that
 * never settles blocks every later change); without it, rings switch at once (unsafe for
 * strong tables across a change: issue 4).
 *
 * Plans (cluster-plan.ts): only "joining" members are claimed in automatically (a member that
 * is "up" but unplaced left through a plan and must not come back), and only while `autoJoin`
 * says so (plan mode "auto"); members named by a staged change (`held`) wait for the commit.
 * Leaves and replacements go through the plan, never through this hook.
 *
 * Committed plan changes (`committed`): a commit publishes its ring at the leader that ran it,
 * but two views can each have a leader (membership/ring-leader.ts), and a second leader still on
 * the commit's base ring could propose a different ring of the same version (say, claiming in
 * the replacement node as a plain join, keeping the dead node): only one of the two is decided
 * (membership/ring-register.ts), and the commit's ring could be the one that lost (strong simulator seed 68, eventual
 * seed 1709: the replaced node stayed in the ring forever). So the committed changes stay
 * known (the plan record, cluster-plan.ts) until a settled ring reflects them, and every leader's
 * hook builds them first, before any automatic join or leave: from the same base ring every
 * leader computes the same ring (planRing is deterministic), and a ring built without them
 * (a leader that had not heard of the commit) is followed by one that rebuilds them on top of it.
 */
export interface ClaimRingOptions {
  partitionCount: number;
  transitions?: boolean;
  /** Whether joining members are claimed in at once (plan mode "auto"); default true. */
  autoJoin?: () => boolean;
  /** Members a staged plan change names: not claimed in by this hook. */
  held?: () => ReadonlySet<string>;
  /** Plan changes committed and perhaps not yet in the ring: built first (see above). */
  committed?: () => readonly RingPlanChange[];
}

export function claimRingHook(options: ClaimRingOptions): ComputeRing<RingState> {
  const transitions = options.transitions === true;
  return (current, members) => {
    if (current === undefined) return firstRing(members, options.partitionCount);
    const committed = options.committed?.() ?? [];
    if (committed.length > 0 && current.previous === undefined) {
      const pending = pendingChanges(current, committed);
      if (pending.length > 0) return committedRing(current, members, pending, transitions);
    }
    const autoJoin = options.autoJoin?.() ?? true;
    const held = options.held?.() ?? new Set<string>();
    const joining = autoJoin ? members.filter((m) => m.state === "joining" && !held.has(m.id)) : [];
    return nextRing(current, members, joining, transitions);
  };
}

/**
 * What of `committed` the settled `ring` does not show yet, restated on it: a join whose node
 * is not placed; a leave whose node still is; a replace [d, r] whose d is still placed becomes a
 * leave of d when r is placed already (a ring built without the commit claimed r in), and one
 * whose d is gone but r is not placed becomes a join of r.
 */
export function pendingChanges(ring: RingState, committed: readonly RingPlanChange[]): RingPlanChange[] {
  const placed = (id: string) => ring.members.some((m) => m.id === id);
  const pending: RingPlanChange[] = [];
  for (const change of committed) {
    if ("join" in change) {
      if (!placed(change.join)) pending.push(change);
    } else if ("leave" in change) {
      if (placed(change.leave)) pending.push(change);
    } else {
      const [gone, incoming] = change.replace;
      if (placed(gone)) pending.push(placed(incoming) ? { leave: gone } : change);
      else if (!placed(incoming)) pending.push({ join: incoming });
    }
  }
  return pending;
}

/** The committed changes on `current`; undefined while a node they bring in is not live (or they cannot be placed). */
function committedRing(current: RingState, members: readonly Member[], pending: readonly RingPlanChange[], transitions: boolean): RingState | undefined {
  const live = (id: string) => members.some((m) => m.id === id && (m.state === "joining" || m.state === "up"));
  const incoming = pending.flatMap((change) => ("join" in change ? [change.join] : "replace" in change ? [change.replace[1]] : []));
  if (!incoming.every(live)) return undefined;
  // Departing: a node taken out that this leader believes running (cluster-plan-record.ts departsFrom), as at the commit.
  const planned = planRing(current, pending, { departs: (id) => departsFrom(members.find((m) => m.id === id)?.state) });
  if (!planned.ok) return undefined;
  if (transitions) return planned.ring;
  const { previous: _previous, ...at } = planned.ring;
  return ringState(at);
}

/** A cluster that formed before any node held a ring: every live member, one claim. */
function firstRing(members: readonly Member[], partitionCount: number): RingState | undefined {
  const claimed = claimInitial(placeable(members), { partitionCount });
  return claimed.ok ? claimed.ring : undefined;
}

function nextRing(current: RingState, members: readonly Member[], joining: readonly Member[], transitions: boolean): RingState | undefined {
  if (current.previous !== undefined) return undefined;
  const leaving = new Set(members.filter((m) => m.state === "leaving").map((m) => m.id));
  const kept = current.members.filter((m) => !leaving.has(m.id));
  const added = placeable(joining).filter((m) => !current.members.some((c) => c.id === m.id));
  if (added.length === 0 && kept.length === current.members.length) return undefined;
  const next = reclaim(current, [...kept, ...added]);
  if (!next.ok) return undefined;
  return transitions ? ringTransition(current, next.ring) : next.ring;
}

function placeable(members: readonly Member[]): RingMember[] {
  return members
    .filter((m) => m.state === "joining" || m.state === "up")
    .map((m) => (m.zone === undefined ? { id: m.id } : { id: m.id, zone: m.zone }));
}
