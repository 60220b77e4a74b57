import { writeConditionRefusal } from "../coordinator/write-condition-check.js";
import type { WriteCondition } from "../replica/item-write.js";
import type { NodeId } from "../runtime/network.js";
import { isStrongVersioned } from "./paxos-messages.js";
import type { StrongChange, StrongDecision, StrongResult, StrongValue, StrongVersioned } from "./strong-coordinator.js";

/**
 * A strong write that can travel (README, "Forwarding writes to the first primary"): a put or a
 * delete under an optional If-Match / If-None-Match condition, as data rather than a function,
 * so a node that is not the key's first live primary can hand it to that primary, which
 * proposes it. Its decision is a pure function of the current value, the same on every node.
 */
export type StrongWrite =
  | { type: "set"; value: StrongValue; condition?: WriteCondition }
  | { type: "delete"; condition?: WriteCondition }
  /**
   * A read-modify-write (an increment, a conditional update) as data (README, "Forwarding
   * read-modify-writes"): `kind` names a change the receiving node knows how to build from
   * `args` (StrongCoordinatorOptions.changeKinds), so it can be proposed at the first primary too.
   */
  | { type: "change"; kind: string; args: unknown };

/** Why a change left the value as it was, as the node that ran it says (e.g. a failed condition). */
export interface ChangeRefusal {
  code: string;
  message: string;
}

/**
 * A change built from a `change` write: `decide` may run more than once (a refused round retries),
 * and `refusal` says why its last run kept the value, if it refused.
 */
export interface ForwardableChange {
  decide(current: StrongVersioned | undefined): StrongDecision;
  refusal?(): ChangeRefusal | undefined;
}

/** Builds the change a `change` write names, or says why it cannot (an unknown kind, malformed args). */
export type ChangeKinds = (kind: string, args: unknown) => ForwardableChange | string;

/** A change's kind is a short name. */
export const changeKindBytesMax = 64;

/** The change `write` makes on this node: a put or delete as data, or a named change built by `kinds`; a string says why not. */
export function changeOfWrite(write: StrongWrite, kinds: ChangeKinds | undefined): ForwardableChange | string {
  if (write.type !== "change") return { decide: decideWrite(write) };
  if (kinds === undefined) return `this node builds no named changes (kind "${write.kind}")`;
  return kinds(write.kind, write.args);
}

/** Why the write's condition refuses `current` (the live value the change saw), or undefined when it holds. */
export function strongWriteRefusal(write: StrongWrite, current: StrongVersioned | undefined): string | undefined {
  if (write.type === "change" || write.condition === undefined) return undefined;
  return writeConditionRefusal(current === undefined ? [] : [current], write.condition) ?? undefined;
}

/**
 * The change a write makes: keep when its condition refuses (the caller then reads the refusal
 * from `before` with strongWriteRefusal), a delete of nothing keeps, else set or delete.
 */
export function decideWrite(write: Exclude<StrongWrite, { type: "change" }>): (current: StrongVersioned | undefined) => StrongDecision {
  return (current) => {
    if (strongWriteRefusal(write, current) !== undefined) return { type: "keep" };
    if (write.type === "set") return { type: "set", value: write.value };
    return current === undefined ? { type: "keep" } : { type: "delete" };
  };
}

export const forwardMessageType = "paxos.forward";

/**
 * "paxos.forward": a write for the receiving node to propose (never to forward again).
 * `startWithinMs`: if its round has not started that long after arrival (queued behind other
 * rounds on the key), the receiver answers "unavailable" without proposing it, so a forward
 * never outlives the sender's wait.
 *
 * A forward is not idempotent (a put proposed twice can overwrite what came between), and a
 * network may deliver a request twice (the simulator does; README, "Forwarding writes to the
 * first primary"). So each forward names itself (`origin`: the sender's incarnation `boot`, a
 * random number, and a sequence number) and the incarnation of the receiver it is meant for
 * (`to`: learnt from the receiver's "boot" answer; null before). The receiver proposes only a
 * forward meant for its own incarnation and seen for the first time (ForwardsSeen).
 */
export interface ForwardRequest {
  type: typeof forwardMessageType;
  key: Uint8Array;
  n: number;
  write: StrongWrite;
  startWithinMs: number;
  origin: { boot: number; seq: number };
  to: number | null;
}

export type ForwardReplyWire =
  /** `refusal`: why a named change kept the value (null: it did not refuse, or a put or delete). */
  | { ok: true; before: StrongVersioned | null; after: StrongVersioned | null; refusal?: ChangeRefusal | null }
  | { ok: false; error: "unavailable" | "indeterminate" | "overloaded"; message: string }
  /** Not proposed: the forward was meant for another incarnation of this node (or none); `boot` is this one. */
  | { ok: false; error: "boot"; boot: number; message: string }
  /** A repeat of a forward seen before (or too old to tell): its first copy's answer is the one that counts. */
  | { ok: false; error: "duplicate"; message: string }
  /** Not proposed: this node cannot build the named change (an unknown kind, args it refuses); the sender proposes it. */
  | { ok: false; error: "unknown-change"; message: string };

/** The forward of `write` on `key` (n acceptors); its size is bounded by the transport's frame limit. */
export function forwardMessage(key: Uint8Array, n: number, write: StrongWrite, startWithinMs: number, origin: { boot: number; seq: number }, to: number | undefined): ForwardRequest {
  return { type: forwardMessageType, key, n, write, startWithinMs, origin, to: to ?? null };
}

/**
 * The forwards one incarnation of the receiver has admitted, per sending incarnation: a
 * sequence number is admitted once. Bounded: `seqsPerSenderMax` numbers per sender (past it the
 * oldest goes into `floor`, and every number at or below the floor counts as seen: a first copy
 * that late is answered "duplicate", which its sender reads as indeterminate) and
 * `sendersMax` sending incarnations (the least recently heard from is forgotten; a repeat of
 * its forwards arriving after that many newer incarnations forwarded here would be admitted).
 */
export class ForwardsSeen {
  private readonly senders = new Map<string, { floor: number; seqs: Set<number> }>();

  constructor(private readonly bounds: { sendersMax: number; seqsPerSenderMax: number } = forwardsSeenDefaults) {}

  /** True the first time `seq` of `sender`'s incarnation `boot` arrives; false for a repeat. */
  admit(sender: NodeId, boot: number, seq: number): boolean {
    const id = `${sender}/${boot}`;
    let seen = this.senders.get(id);
    if (seen === undefined) {
      seen = { floor: 0, seqs: new Set() };
      if (this.senders.size >= this.bounds.sendersMax) this.senders.delete(this.senders.keys().next().value!);
    } else {
      this.senders.delete(id);
    }
    this.senders.set(id, seen);
    if (seq <= seen.floor || seen.seqs.has(seq)) return false;
    seen.seqs.add(seq);
    if (seen.seqs.size > this.bounds.seqsPerSenderMax) {
      const oldest = seen.seqs.values().next().value!;
      seen.seqs.delete(oldest);
      seen.floor = Math.max(seen.floor, oldest);
    }
    return true;
  }
}

export const forwardsSeenDefaults = Object.freeze({ sendersMax: 1024, seqsPerSenderMax: 4096 });

export function parseForwardRequest(message: unknown): { ok: true; request: ForwardRequest } | { ok: false; message: string } {
  const m = message as Partial<Record<string, unknown>> | null;
  if (m?.type !== forwardMessageType) return { ok: false, message: `not a ${forwardMessageType} message` };
  if (!(m.key instanceof Uint8Array) || m.key.length === 0) return { ok: false, message: `${forwardMessageType}: key is not bytes` };
  if (typeof m.n !== "number" || !Number.isSafeInteger(m.n) || m.n < 1) return { ok: false, message: `${forwardMessageType}: n ${String(m.n)} is not a positive integer` };
  if (typeof m.startWithinMs !== "number" || !Number.isFinite(m.startWithinMs) || m.startWithinMs < 0) return { ok: false, message: `${forwardMessageType}: startWithinMs ${String(m.startWithinMs)} is not a non-negative number` };
  const origin = m.origin as Partial<Record<string, unknown>> | null | undefined;
  if (!isCount(origin?.boot) || !isCount(origin?.seq)) return { ok: false, message: `${forwardMessageType}: origin is not {boot, seq} of non-negative integers` };
  if (m.to !== null && !isCount(m.to)) return { ok: false, message: `${forwardMessageType}: to ${String(m.to)} is neither null nor a non-negative integer` };
  const write = parseWrite(m.write);
  if (write === undefined) return { ok: false, message: `${forwardMessageType}: the write is malformed` };
  return { ok: true, request: { type: forwardMessageType, key: m.key, n: m.n, write, startWithinMs: m.startWithinMs, origin: { boot: origin!.boot as number, seq: origin!.seq as number }, to: m.to as number | null } };
}

export function forwardReplyToWire(result: StrongResult<StrongWriteOutcome>): ForwardReplyWire {
  if (!result.ok) return { ok: false, error: result.error, message: result.message };
  const { before, after, refusal } = result.value;
  return { ok: true, before: before ?? null, after: after ?? null, ...(refusal === undefined ? {} : { refusal }) };
}

/** What a write answers: the change, and for a named change that refused, why. */
export type StrongWriteOutcome = StrongChange & { refusal?: ChangeRefusal };

/**
 * The receiver's answer: its result, "not proposed, I am incarnation `boot`", or "not proposed:
 * I do not know forwards" (a node of an older version refuses the message as a malformed paxos
 * request, before running anything); undefined when it is none of these (a duplicate's answer,
 * garbage: the caller cannot tell what happened).
 */
export function parseForwardReply(reply: unknown): { kind: "result"; result: StrongResult<StrongWriteOutcome> } | { kind: "boot"; boot: number } | { kind: "unknown-message" } | undefined {
  const r = reply as Partial<Record<string, unknown>> | null;
  if (r?.ok === false) {
    if (r.refusal === "malformed" && r.error === undefined) return { kind: "unknown-message" };
    if (r.error === "unknown-change") return typeof r.message === "string" ? { kind: "unknown-message" } : undefined;
    const error = r.error;
    if (error === "boot") return isCount(r.boot) ? { kind: "boot", boot: r.boot } : undefined;
    if ((error !== "unavailable" && error !== "indeterminate" && error !== "overloaded") || typeof r.message !== "string") return undefined;
    return { kind: "result", result: { ok: false, error, message: r.message } };
  }
  if (r?.ok !== true) return undefined;
  const { before, after } = r;
  if ((before !== null && !isStrongVersioned(before)) || (after !== null && !isStrongVersioned(after))) return undefined;
  const refusal = r.refusal ?? null;
  if (refusal !== null && !isRefusal(refusal)) return undefined;
  return { kind: "result", result: { ok: true, value: { before: before ?? undefined, after: after ?? undefined, ...(refusal === null ? {} : { refusal }) } } };
}

function isRefusal(value: unknown): value is ChangeRefusal {
  const r = value as Partial<Record<string, unknown>> | null;
  return r !== null && typeof r === "object" && typeof r.code === "string" && typeof r.message === "string";
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function parseWrite(value: unknown): StrongWrite | undefined {
  const w = value as Partial<Record<string, unknown>> | null;
  if (w === null || typeof w !== "object") return undefined;
  const condition = parseCondition(w.condition);
  if (condition === null) return undefined;
  const withCondition = condition === undefined ? {} : { condition };
  if (w.type === "delete") return { type: "delete", ...withCondition };
  if (w.type === "change") {
    if (typeof w.kind !== "string" || w.kind.length === 0 || w.kind.length > changeKindBytesMax || !("args" in w)) return undefined;
    return { type: "change", kind: w.kind, args: w.args };
  }
  if (w.type !== "set" || !isStrongValue(w.value)) return undefined;
  return { type: "set", value: w.value, ...withCondition };
}

/** undefined: no condition; null: malformed. */
export function parseCondition(value: unknown): WriteCondition | undefined | null {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "object") return null;
  const c = value as Partial<Record<string, unknown>>;
  const condition: { ifMatch?: "*" | string[]; ifNoneMatch?: "*" | string[] } = {};
  for (const name of ["ifMatch", "ifNoneMatch"] as const) {
    const part = c[name];
    if (part === undefined || part === null) continue;
    if (part !== "*" && !(Array.isArray(part) && part.every((version) => typeof version === "string"))) return null;
    condition[name] = part as "*" | string[];
  }
  return condition;
}

function isStrongValue(value: unknown): value is StrongValue {
  const v = value as Partial<StrongValue> | null;
  if (v === null || typeof v !== "object") return false;
  if (!(v.value instanceof Uint8Array) || typeof v.contentType !== "string") return false;
  if (!Array.isArray(v.metadata) || !v.metadata.every((p) => Array.isArray(p) && p.length === 2 && typeof p[0] === "string" && typeof p[1] === "string")) return false;
  return v.expiresAtMs === null || (Number.isSafeInteger(v.expiresAtMs) && v.expiresAtMs! >= 0);
}
