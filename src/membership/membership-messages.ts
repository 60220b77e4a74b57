import type { NodeId } from "../runtime/network.js";
import { parseMember, type Member } from "./member.js";
import { parseRingStamp, type RingStamp } from "./ring-record.js";

/**
 * The membership protocol on the wire: plain data (msgpackr-friendly), each with a `type`
 * prefixed "membership." so a node's single dispatcher can route them here.
 *
 * - ping / ack: SWIM's direct probe; both carry piggybacked news (`updates`).
 * - ping-req / ping-req-reply: SWIM's indirect probe: "ping `target` for me".
 * - sync / sync-reply: push-pull gossip of full digests and the ring stamp; the reply carries
 *   the responder's ring when it is newer than the requester's.
 * - ring: one-way, a ring the receiver is missing (the requester found its own ring newer).
 */
export const membershipMessagePrefix = "membership.";

export interface PingMessage {
  type: "membership.ping";
  updates: Member[];
}

export interface AckMessage {
  type: "membership.ack";
  updates: Member[];
}

export interface PingReqMessage {
  type: "membership.ping-req";
  target: NodeId;
  updates: Member[];
}

export interface PingReqReplyMessage {
  type: "membership.ping-req-reply";
  reached: boolean;
  updates: Member[];
}

export interface SyncMessage {
  type: "membership.sync";
  members: Member[];
  ringStamp: RingStamp | null;
}

export interface SyncReplyMessage {
  type: "membership.sync-reply";
  members: Member[];
  ringStamp: RingStamp | null;
  /** The responder's ring, present only when newer than the requester's. */
  ring: unknown;
}

export interface RingMessage {
  type: "membership.ring";
  ring: unknown;
  origin: NodeId;
}

export type MembershipMessage = PingMessage | AckMessage | PingReqMessage | PingReqReplyMessage | SyncMessage | SyncReplyMessage | RingMessage;

/** Whether a message belongs to membership (for a node's dispatcher). */
export function isMembershipMessage(message: unknown): boolean {
  return typeof message === "object" && message !== null && typeof (message as { type?: unknown }).type === "string" &&
    (message as { type: string }).type.startsWith(membershipMessagePrefix);
}

/**
 * Checks a decoded message from a peer. Malformed member records are dropped one by one and a
 * list is cut at `membersMax`: a faulty peer cannot grow our view past its bound.
 */
export function parseMembershipMessage(value: unknown, membersMax: number): MembershipMessage | undefined {
  if (!isMembershipMessage(value)) return undefined;
  const v = value as Record<string, unknown> & { type: string };
  switch (v.type) {
    case "membership.ping":
    case "membership.ack":
      return { type: v.type, updates: parseMembers(v.updates, membersMax) };
    case "membership.ping-req":
      return typeof v.target === "string" && v.target.length > 0 ? { type: v.type, target: v.target, updates: parseMembers(v.updates, membersMax) } : undefined;
    case "membership.ping-req-reply":
      return typeof v.reached === "boolean" ? { type: v.type, reached: v.reached, updates: parseMembers(v.updates, membersMax) } : undefined;
    case "membership.sync":
    case "membership.sync-reply":
      return parseSync(v, membersMax);
    case "membership.ring":
      return typeof v.origin === "string" && v.origin.length > 0 ? { type: v.type, ring: v.ring, origin: v.origin } : undefined;
    default:
      return undefined;
  }
}

function parseSync(v: Record<string, unknown> & { type: string }, membersMax: number): SyncMessage | SyncReplyMessage | undefined {
  const ringStamp = parseRingStamp(v.ringStamp ?? null);
  if (ringStamp === undefined) return undefined;
  const members = parseMembers(v.members, membersMax);
  if (v.type === "membership.sync") return { type: "membership.sync", members, ringStamp };
  return { type: "membership.sync-reply", members, ringStamp, ring: v.ring ?? null };
}

function parseMembers(value: unknown, membersMax: number): Member[] {
  if (!Array.isArray(value)) return [];
  const members: Member[] = [];
  for (const item of value.slice(0, membersMax)) {
    const member = parseMember(item);
    if (member !== undefined) members.push(member);
  }
  return members;
}
