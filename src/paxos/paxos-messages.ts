import type { AcceptedState, EncodedProposal, Proposal } from "./acceptor-record.js";
import { encodeAcceptBody, originsMax, readAcceptBody } from "./acceptor-record.js";
import type { AcceptorRefusal, AcceptReply, CollectReply, PeekReply, PrepareReply } from "./acceptor-service.js";
import { ballotFromTuple, ballotToTuple, type Ballot, type BallotTuple } from "./ballot.js";
import type { StrongVersioned } from "./strong-coordinator.js";

/**
 * The wire form of the three acceptor steps (CASPaxos phase 1 and 2, and the GC step), and
 * the checks both ends apply to what arrives: a peer's message is data from another process
 * (maybe another version), so a malformed one is refused as a value, never trusted.
 */
export type PaxosRequest =
  | { type: "paxos.prepare"; key: Uint8Array; ballot: BallotTuple }
  | { type: "paxos.accept"; key: Uint8Array; ballot: BallotTuple; value: StrongVersioned | null; origins: BallotTuple[]; originsFloor: BallotTuple; next?: BallotTuple }
  | { type: typeof acceptBytesType; body: Uint8Array }
  | { type: "paxos.collect"; key: Uint8Array; ballot: BallotTuple }
  | { type: "paxos.fence"; ringVersion: number }
  | { type: "paxos.peek"; key: Uint8Array; epoch: number };

type AcceptedWire = { ballot: BallotTuple; acceptedAtMs: number; value: StrongVersioned | null; origins: BallotTuple[]; originsFloor: BallotTuple };
type RefusalWire =
  | { ok: false; refusal: "ballot"; promised: BallotTuple }
  | { ok: false; refusal: "ring"; ringVersion: number }
  | { ok: false; refusal: "overloaded" | "malformed"; message?: string };
export type PrepareReplyWire = { ok: true; accepted: AcceptedWire | null; collectedFloor: BallotTuple } | RefusalWire;

export function prepareMessage(key: Uint8Array, ballot: Ballot): PaxosRequest {
  return { type: "paxos.prepare", key, ballot: ballotToTuple(ballot) };
}

/** `next`: the proposer's next ballot, which the acceptor is asked to promise with the accept. */
export function acceptMessage(key: Uint8Array, ballot: Ballot, proposal: Proposal, next?: Ballot): PaxosRequest {
  return {
    type: "paxos.accept",
    key,
    ballot: ballotToTuple(ballot),
    value: proposal.value ?? null,
    origins: proposal.origins.map(ballotToTuple),
    originsFloor: ballotToTuple(proposal.originsFloor),
    ...(next === undefined ? {} : { next: ballotToTuple(next) }),
  };
}

/**
 * The accept as one byte string (README, "Accepts as bytes"): `body` is MessagePack [key,
 * ballot, next or nil, value or nil, origins, originsFloor] (acceptor-record.ts
 * `encodeAcceptBody`), whose last three elements are the bytes the acceptor's record ends with.
 * The proposer writes them once per round; the acceptor checks them (`readAcceptBody`) and
 * stores them without decoding the value into objects and encoding it again. A node of the
 * version before answers "unknown paxos message paxos.accept.bytes" and runs nothing.
 */
export const acceptBytesType = "paxos.accept.bytes";

export function acceptBytesMessage(key: Uint8Array, ballot: Ballot, proposal: EncodedProposal, next?: Ballot): PaxosRequest {
  return { type: acceptBytesType, body: encodeAcceptBody(key, ballot, next, proposal) };
}

/** The refusal a node that does not know "paxos.accept.bytes" answers: it ran nothing. */
export function isUnknownAcceptBytes(reply: unknown): boolean {
  const r = reply as { ok?: unknown; refusal?: unknown; message?: unknown } | null;
  return r?.ok === false && r.refusal === "malformed" && r.message === `unknown paxos message ${acceptBytesType}`;
}

export function collectMessage(key: Uint8Array, ballot: Ballot): PaxosRequest {
  return { type: "paxos.collect", key, ballot: ballotToTuple(ballot) };
}

/** What the receiving acceptor accepted for `key`, without a promise (acceptor-service.ts, `peek`). */
export function peekMessage(key: Uint8Array, epoch: number): PaxosRequest {
  return { type: "paxos.peek", key, epoch };
}

/** Raises the receiving acceptor's ring fence (acceptor-service.ts, `fence`). */
export function fenceMessage(ringVersion: number): PaxosRequest {
  return { type: "paxos.fence", ringVersion };
}

/** A request as the acceptor will run it, or why it cannot. */
export type ParsedRequest =
  | { ok: true; type: "paxos.prepare" | "paxos.collect"; key: Uint8Array; ballot: Ballot }
  | { ok: true; type: "paxos.accept"; key: Uint8Array; ballot: Ballot; proposal: Proposal | EncodedProposal; next?: Ballot }
  | { ok: true; type: "paxos.fence"; ringVersion: number }
  | { ok: true; type: "paxos.peek"; key: Uint8Array; epoch: number }
  | { ok: false; message: string };

export function parseRequest(message: unknown): ParsedRequest {
  const m = message as Partial<Record<string, unknown>> | null;
  const type = m?.type;
  if (type === "paxos.fence") {
    const ringVersion = m!.ringVersion;
    if (typeof ringVersion !== "number" || !Number.isSafeInteger(ringVersion) || ringVersion < 0) return { ok: false, message: `${type}: ring version ${String(ringVersion)} is not a non-negative integer` };
    return { ok: true, type, ringVersion };
  }
  if (type === "paxos.peek") {
    const epoch = m!.epoch;
    if (!(m!.key instanceof Uint8Array) || m!.key.length === 0) return { ok: false, message: `${type}: key is not bytes` };
    if (typeof epoch !== "number" || !Number.isSafeInteger(epoch) || epoch < 0) return { ok: false, message: `${type}: epoch ${String(epoch)} is not a non-negative integer` };
    return { ok: true, type, key: m!.key, epoch };
  }
  if (type === acceptBytesType) {
    const body = m!.body;
    if (!(body instanceof Uint8Array)) return { ok: false, message: `${type}: body is not bytes` };
    const read = readAcceptBody(body);
    if (read === undefined) return { ok: false, message: `${type}: key, ballots, value or origins are malformed` };
    const { key, ballot, next, proposal } = read;
    return next === undefined ? { ok: true, type: "paxos.accept", key, ballot, proposal } : { ok: true, type: "paxos.accept", key, ballot, proposal, next };
  }
  if (type !== "paxos.prepare" && type !== "paxos.accept" && type !== "paxos.collect") return { ok: false, message: `unknown paxos message ${String(type)}` };
  if (!(m!.key instanceof Uint8Array) || m!.key.length === 0) return { ok: false, message: `${type}: key is not bytes` };
  const ballot = ballotFromTuple(m!.ballot);
  if (ballot === undefined) return { ok: false, message: `${type}: ballot is malformed` };
  if (type !== "paxos.accept") return { ok: true, type, key: m!.key, ballot };
  const proposal = parseProposal(m!.value, m!.origins, m!.originsFloor);
  if (proposal === undefined) return { ok: false, message: `${type}: value or origins are malformed` };
  if (m!.next === undefined) return { ok: true, type, key: m!.key, ballot, proposal };
  const next = ballotFromTuple(m!.next);
  if (next === undefined) return { ok: false, message: `${type}: next ballot is malformed` };
  return { ok: true, type, key: m!.key, ballot, proposal, next };
}

export function prepareReplyToWire(reply: PrepareReply): PrepareReplyWire {
  if (!reply.ok) return refusalToWire(reply);
  const accepted = reply.accepted;
  const collectedFloor = ballotToTuple(reply.collectedFloor);
  if (accepted === undefined) return { ok: true, accepted: null, collectedFloor };
  const { ballot, acceptedAtMs, value, origins, originsFloor } = accepted;
  return {
    ok: true,
    accepted: { ballot: ballotToTuple(ballot), acceptedAtMs, value: value ?? null, origins: origins.map(ballotToTuple), originsFloor: ballotToTuple(originsFloor) },
    collectedFloor,
  };
}

export type PeekReplyWire = { ok: true; ballot: BallotTuple | null; value: StrongVersioned | null } | RefusalWire;

export function peekReplyToWire(reply: PeekReply): PeekReplyWire {
  if (!reply.ok) return refusalToWire(reply);
  return { ok: true, ballot: reply.ballot === undefined ? null : ballotToTuple(reply.ballot), value: reply.value ?? null };
}

/** What one acceptor accepted (ballot undefined: nothing, or collected). */
export type Peeked = { ballot: Ballot | undefined; value: StrongVersioned | undefined };

export function parsePeekReply(reply: unknown): ParsedReply<Peeked> {
  const r = reply as Partial<Record<string, unknown>> | null;
  if (r?.ok === false) return parseRefusal(r);
  if (r?.ok !== true) return { kind: "malformed", message: "peek reply is neither ok nor refused" };
  if (r.ballot === null) return r.value === null ? { kind: "ok", reply: { ballot: undefined, value: undefined } } : { kind: "malformed", message: "peek reply: a value without a ballot" };
  const ballot = ballotFromTuple(r.ballot);
  if (ballot === undefined) return { kind: "malformed", message: "peek reply: ballot is malformed" };
  if (r.value !== null && !isStrongVersioned(r.value)) return { kind: "malformed", message: "peek reply: value is malformed" };
  return { kind: "ok", reply: { ballot, value: r.value === null ? undefined : (r.value as StrongVersioned) } };
}

export function acceptReplyToWire(reply: AcceptReply): { ok: true; next?: true } | RefusalWire {
  return reply.ok ? reply : refusalToWire(reply);
}

export function collectReplyToWire(reply: CollectReply): CollectReply {
  return reply;
}

function refusalToWire(refusal: AcceptorRefusal): RefusalWire {
  return refusal.refusal === "ballot" ? { ok: false, refusal: "ballot", promised: ballotToTuple(refusal.promised) } : refusal;
}

/**
 * A parsed acceptor reply: a promise or accept, a refusal (with the ballot to beat, or the
 * newer ring version the acceptor is on), or garbage.
 */
export type ParsedReply<T> = { kind: "ok"; reply: T } | { kind: "refused"; promised: Ballot | undefined; ringVersion?: number } | { kind: "malformed"; message: string };

export type Promised = { accepted: AcceptedState | undefined; collectedFloor: Ballot };

export function parsePrepareReply(reply: unknown): ParsedReply<Promised> {
  const r = reply as Partial<Record<string, unknown>> | null;
  if (r?.ok === false) return parseRefusal(r);
  if (r?.ok !== true) return { kind: "malformed", message: "prepare reply is neither ok nor refused" };
  const collectedFloor = ballotFromTuple(r.collectedFloor);
  if (collectedFloor === undefined) return { kind: "malformed", message: "prepare reply: collected floor is malformed" };
  if (r.accepted === null) return { kind: "ok", reply: { accepted: undefined, collectedFloor } };
  const wire = r.accepted as Partial<Record<string, unknown>> | undefined;
  const ballot = ballotFromTuple(wire?.ballot);
  const proposal = parseProposal(wire?.value, wire?.origins, wire?.originsFloor);
  const acceptedAtMs = wire?.acceptedAtMs;
  if (ballot === undefined || proposal === undefined || typeof acceptedAtMs !== "number") return { kind: "malformed", message: "prepare reply: accepted state is malformed" };
  return { kind: "ok", reply: { accepted: { ballot, acceptedAtMs, ...proposal }, collectedFloor } };
}

/** An accept; `next`: it also promised the proposer's next ballot (an older acceptor never says so). */
export type Accepted = { next: boolean };

export function parseAcceptReply(reply: unknown): ParsedReply<Accepted> {
  const r = reply as Partial<Record<string, unknown>> | null;
  if (r?.ok === true) return { kind: "ok", reply: { next: r.next === true } };
  if (r?.ok === false) return parseRefusal(r);
  return { kind: "malformed", message: "accept reply is neither ok nor refused" };
}

function parseRefusal(r: Partial<Record<string, unknown>>): ParsedReply<never> {
  if (r.refusal === "ballot") return { kind: "refused", promised: ballotFromTuple(r.promised) };
  if (r.refusal === "overloaded") return { kind: "refused", promised: undefined };
  if (r.refusal === "ring") {
    const ringVersion = r.ringVersion;
    if (typeof ringVersion !== "number" || !Number.isSafeInteger(ringVersion) || ringVersion < 0) return { kind: "malformed", message: "ring refusal: ring version is malformed" };
    return { kind: "refused", promised: undefined, ringVersion };
  }
  return { kind: "malformed", message: `refused: ${typeof r.message === "string" ? r.message : String(r.refusal)}` };
}

function parseProposal(value: unknown, origins: unknown, originsFloor: unknown): Proposal | undefined {
  if (!Array.isArray(origins) || origins.length > originsMax) return undefined;
  const ballots = origins.map(ballotFromTuple);
  const floor = ballotFromTuple(originsFloor);
  if (!ballots.every((b) => b !== undefined) || floor === undefined) return undefined;
  if (value !== null && !isStrongVersioned(value)) return undefined;
  return { value: value === null ? undefined : value, origins: ballots as Ballot[], originsFloor: floor };
}

/** Whether `value` has the StrongVersioned shape (checked on everything that crosses the wire). */
export function isStrongVersioned(value: unknown): value is StrongVersioned {
  const v = value as Partial<StrongVersioned> | null;
  if (v === null || typeof v !== "object") return false;
  if (!(v.value instanceof Uint8Array) || typeof v.contentType !== "string" || typeof v.version !== "string") return false;
  if (!Array.isArray(v.metadata) || !v.metadata.every((p) => Array.isArray(p) && p.length === 2 && typeof p[0] === "string" && typeof p[1] === "string")) return false;
  if (!(v.expiresAtMs === null || (Number.isSafeInteger(v.expiresAtMs) && v.expiresAtMs! >= 0))) return false;
  return Number.isSafeInteger(v.timestamp) && v.timestamp! >= 0;
}
