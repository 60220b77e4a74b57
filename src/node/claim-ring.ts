import type { ComputeRing } from "../membership/membership.js";
import type { Member } from "../membership/member.js";
import { claimInitial, reclaim } from "../ring/claim.js";
import { ringTransition, type RingMember, type RingState } from "../ring/ring-state.js";

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
 */
export interface ClaimRingOptions {
  partitionCount: number;
  transitions?: boolean;
  /** Whether joining members are claimed in at once (plan mode "auto"); default true. */
  autoJoin?: () => boolean;
  /** Members a staged plan change names: not claimed in by this hook. */
  held?: () => ReadonlySet<string>;
}

export function claimRingHook(options: ClaimRingOptions): ComputeRing<RingState> {
  const transitions = options.transitions === true;
  return (current, members) => {
    if (current === undefined) return firstRing(members, options.partitionCount);
    const autoJoin = options.autoJoin?.() ?? true;
    const held = options.held?.() ?? new Set<string>();
    const joining = autoJoin ? members.filter((m) => m.state === "joining" && !held.has(m.id)) : [];
    return nextRing(current, members, joining, transitions);
  };
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
