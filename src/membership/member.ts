import type { NodeId } from "../runtime/network.js";

/**
 * One cluster member as gossip carries it (SWIM, Das et al. 2002, section 4.2 "suspicion";
 * Lifeguard, Dadgar et al. 2018): a state and the incarnation number the member itself owns.
 * Only the member raises its own incarnation: to refute a suspicion, or to announce a state
 * it chose (joining -> up, up -> leaving). Other nodes may only say "suspect" or "down" about
 * the incarnation they last heard.
 *
 * "joining" and "leaving" are administrative states (the member's own intention); "suspect"
 * and "down" are opinions of the failure detector.
 */
export type MemberState = "up" | "suspect" | "down" | "joining" | "leaving";

export const memberStates: readonly MemberState[] = ["joining", "up", "leaving", "suspect", "down"];

export interface MemberAddress {
  readonly host: string;
  readonly peerPort: number;
  readonly clientPort: number;
}

export interface Member {
  readonly id: NodeId;
  readonly address: MemberAddress;
  readonly state: MemberState;
  readonly incarnation: number;
  /** Failure domain (zone, rack), if the member declares one. */
  readonly zone?: string;
}

/**
 * Precedence at equal incarnation. SWIM's rule is down > suspect > alive: an accusation about
 * an incarnation overrides that incarnation's good news, and only a higher incarnation (the
 * member's refutation) overrides an accusation. The administrative states sit below the
 * accusations for the same reason: a leaving member can still be suspected, and refutes it.
 */
const stateRank: Readonly<Record<MemberState, number>> = { joining: 0, up: 1, leaving: 2, suspect: 3, down: 4 };

/**
 * Orders two records about the same member: negative when `a` is older than `b`, zero when
 * they are the same record. The order is total (ties on incarnation and state fall to address
 * and zone), so `mergeMember`, its maximum, is a join-semilattice: commutative, associative
 * and idempotent, and every node that has seen the same records agrees.
 */
export function compareMembers(a: Member, b: Member): number {
  if (a.incarnation !== b.incarnation) return a.incarnation - b.incarnation;
  if (a.state !== b.state) return stateRank[a.state] - stateRank[b.state];
  const ka = detailKey(a);
  const kb = detailKey(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** The newer of two records about one member (the gossip merge rule). */
export function mergeMember(a: Member, b: Member): Member {
  return compareMembers(a, b) >= 0 ? a : b;
}

/** Whether `candidate` would replace `current` under the merge rule. */
export function supersedes(candidate: Member, current: Member): boolean {
  return compareMembers(candidate, current) > 0;
}

/** Whether two records say the same thing. */
export function sameMember(a: Member, b: Member): boolean {
  return compareMembers(a, b) === 0 && a.id === b.id;
}

/** Members that placement and quorums may count on right now. */
export function isLive(state: MemberState): boolean {
  return state === "up" || state === "joining" || state === "leaving";
}

function detailKey(m: Member): string {
  return `${m.address.host}\u0000${m.address.peerPort}\u0000${m.address.clientPort}\u0000${m.zone ?? ""}`;
}

export const memberLimits = { idLengthMax: 256, hostLengthMax: 256, zoneLengthMax: 128 } as const;

/**
 * Checks a member record that arrived from a peer, after decoding. A malformed record is an
 * operating error (a buggy or hostile peer), so it is a value; the caller drops it.
 */
export function parseMember(value: unknown): Member | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (!isBoundedString(v.id, memberLimits.idLengthMax)) return undefined;
  if (typeof v.state !== "string" || !(memberStates as readonly string[]).includes(v.state)) return undefined;
  if (!Number.isSafeInteger(v.incarnation) || (v.incarnation as number) < 0) return undefined;
  if (v.zone !== undefined && v.zone !== null && !isBoundedString(v.zone, memberLimits.zoneLengthMax)) return undefined;
  const address = parseAddress(v.address);
  if (address === undefined) return undefined;
  const member: Member = { id: v.id, address, state: v.state as MemberState, incarnation: v.incarnation as number };
  return typeof v.zone === "string" ? { ...member, zone: v.zone } : member;
}

function parseAddress(value: unknown): MemberAddress | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const a = value as Record<string, unknown>;
  if (!isBoundedString(a.host, memberLimits.hostLengthMax) || !isPort(a.peerPort) || !isPort(a.clientPort)) return undefined;
  return { host: a.host, peerPort: a.peerPort, clientPort: a.clientPort };
}

function isBoundedString(value: unknown, lengthMax: number): value is string {
  return typeof value === "string" && value.length > 0 && value.length <= lengthMax;
}

function isPort(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 0 && (value as number) < 65536;
}
