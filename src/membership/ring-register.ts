import { assert } from "../assert.js";
import { compareBallots, type Ballot } from "../paxos/ballot.js";
import type { Network, NodeId } from "../runtime/network.js";
import type { Random, Timers } from "../runtime/runtime.js";
import { metaKey } from "../storage/keyspace.js";
import type { StorageEngine } from "../storage/storage-engine.js";
import type { VersionedRing } from "./ring-record.js";

/**
 * Ring version v+1 as a write-once register (issue 6, "ring publication agreed"): one decree of
 * Paxos per version, whose acceptors are the members of ring v. A leader that computed ring v+1
 * from ring v proposes it here and publishes only what the register decided; a second leader
 * (each side of a partition, a view that has not heard of a smaller id) proposing another ring
 * of v+1 either finds it decided ("known": some acceptor already holds ring v+1 or newer) or
 * learns the value a majority may have accepted in its prepare round and completes that value
 * instead of its own. Either way exactly one ring content can ever be ring v+1, and both
 * leaders end up publishing it; the loser's change (a claim, a committed plan) is rebuilt on top
 * of it at v+2 (membership.ts marks the ring dirty; cluster-plan.ts keeps committed changes).
 *
 * Why the acceptors of v+1 are well defined: a proposal for v+1 is built on ring v, which was
 * itself decided (only decided rings are published and adopted), so every proposer of v+1 asks
 * the same members. A first ring (no base, version 1) is not decided here (ring-record.ts
 * firstRingVersionMax). Acceptors also refuse a proposal whose base ring is not the ring of that
 * version they hold (`base-conflict`).
 *
 * Acceptor state is one durable record (meta "membership.ring-acceptor"): the version it is
 * for, the promised ballot, the accepted (ballot, ring). A prepare or accept for a higher
 * version replaces it: a proposal for v+2 exists only once v+1 was decided, so nothing older is
 * needed. Answers go out after the record is durable. The proposer's ballot counter is durable
 * too (meta "membership.ring-ballot", written before each round), so a restarted proposer never
 * reuses a ballot with another value.
 *
 * No majority of ring v's members reachable (a partition's minority, most members down): no
 * ring change happens (`unavailable`; the leader tries again next gossip round). Reads and writes
 * go on under the current ring; joins, leaves, replacements and settling wait. A two-member ring
 * needs both members for any change.
 *
 * Wire (all under "membership.", so every node's dispatcher routes them to Membership):
 *   { type: "membership.ring-prepare", version, ballot, baseHash }
 *   { type: "membership.ring-accept", version, ballot, ring, baseHash }
 *   replies: { kind: "promise", accepted: { ballot, ring } | null } | { kind: "accepted" }
 *          | { kind: "nack", promised } | { kind: "known", ring } | { kind: "base-conflict" }
 */
export const ringPrepareType = "membership.ring-prepare";
export const ringAcceptType = "membership.ring-accept";

export const acceptorKey = metaKey("membership.ring-acceptor");
export const ballotKey = metaKey("membership.ring-ballot");

export interface RingRegisterOptions<R extends VersionedRing> {
  self: NodeId;
  network: Network;
  storage: StorageEngine;
  timers: Timers;
  random: Random;
  /** The ring this node holds (the acceptor answers "known" for a version it already holds). */
  current(): R | undefined;
  hashOf(ring: R): string;
  parseRing(value: unknown): R | undefined;
  /** The acceptors of the version after `ring`: its member ids. */
  membersOf(ring: R): readonly NodeId[];
  requestTimeoutMs: number;
  /** Rounds a proposal tries before it gives up (default 3), with a random pause of up to `backoffMs` between them. */
  attemptsMax?: number;
  backoffMs?: number;
}

export type ProposeOutcome<R> =
  /** `ring` is the decided ring of the proposed version (the proposal's own, or one another proposer's round left). */
  | { kind: "decided"; ring: R }
  /** An acceptor already holds this version or a newer one: `ring` (decided) is the one to adopt. */
  | { kind: "known"; ring: R }
  | { kind: "unavailable"; reason: string };

interface AcceptorState {
  version: number;
  promised: Ballot | null;
  accepted: { ballot: Ballot; ring: unknown } | null;
}

type Reply =
  | { kind: "promise"; accepted: { ballot: Ballot; ring: unknown } | null }
  | { kind: "accepted" }
  | { kind: "nack"; promised: Ballot | null }
  | { kind: "known"; ring: unknown }
  | { kind: "base-conflict" };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class RingRegister<R extends VersionedRing> {
  private state: AcceptorState | undefined;
  private counter: number;
  private readonly attemptsMax: number;
  private readonly backoffMs: number;

  constructor(private readonly options: RingRegisterOptions<R>) {
    this.state = loadJson<AcceptorState>(options.storage, acceptorKey, isAcceptorState);
    this.counter = loadJson<number>(options.storage, ballotKey, (v): v is number => Number.isSafeInteger(v) && (v as number) >= 0) ?? 0;
    this.attemptsMax = options.attemptsMax ?? 3;
    this.backoffMs = options.backoffMs ?? 200;
    assert(Number.isSafeInteger(this.attemptsMax) && this.attemptsMax >= 1, `attemptsMax must be a positive integer, got ${this.attemptsMax}`);
  }

  /** Whether `message` is one of the register's (for Membership.handle). */
  static handles(message: unknown): boolean {
    const type = (message as { type?: unknown } | null)?.type;
    return type === ringPrepareType || type === ringAcceptType;
  }

  /** The acceptor's side; undefined for a malformed message (the proposer counts no answer). */
  async handle(message: unknown): Promise<Reply | undefined> {
    const m = message as { type?: unknown; version?: unknown; ballot?: unknown; ring?: unknown; baseHash?: unknown };
    const ballot = parseBallot(m.ballot);
    if (!Number.isSafeInteger(m.version) || (m.version as number) < 1 || ballot === undefined || typeof m.baseHash !== "string") return undefined;
    const version = m.version as number;
    if (m.type === ringPrepareType) return this.prepare(version, ballot, m.baseHash);
    if (m.type === ringAcceptType) return this.accept(version, ballot, m.ring, m.baseHash);
    return undefined;
  }

  private check(version: number, baseHash: string): Reply | undefined {
    const held = this.options.current();
    if (held !== undefined && held.version >= version) return { kind: "known", ring: held };
    if (held !== undefined && held.version === version - 1 && this.options.hashOf(held) !== baseHash) return { kind: "base-conflict" };
    if (this.state !== undefined && this.state.version > version) return { kind: "nack", promised: null };
    return undefined;
  }

  private async prepare(version: number, ballot: Ballot, baseHash: string): Promise<Reply> {
    const refused = this.check(version, baseHash);
    if (refused !== undefined) return refused;
    const state = this.stateFor(version);
    if (state.promised !== null && compareBallots(ballot, state.promised) <= 0) return { kind: "nack", promised: state.promised };
    state.promised = ballot;
    const accepted = state.accepted;
    await this.persist();
    return { kind: "promise", accepted };
  }

  private async accept(version: number, ballot: Ballot, ring: unknown, baseHash: string): Promise<Reply> {
    const refused = this.check(version, baseHash);
    if (refused !== undefined) return refused;
    const parsed = this.options.parseRing(ring);
    if (parsed === undefined || parsed.version !== version) return { kind: "nack", promised: null };
    const state = this.stateFor(version);
    if (state.promised !== null && compareBallots(ballot, state.promised) < 0) return { kind: "nack", promised: state.promised };
    // One ballot carries one value: a second value at an accepted ballot is refused.
    if (state.accepted !== null && compareBallots(ballot, state.accepted.ballot) === 0) {
      const prior = this.options.parseRing(state.accepted.ring);
      if (prior === undefined || this.options.hashOf(prior) !== this.options.hashOf(parsed)) return { kind: "nack", promised: state.promised };
    }
    state.promised = ballot;
    state.accepted = { ballot, ring: parsed };
    await this.persist();
    return { kind: "accepted" };
  }

  private stateFor(version: number): AcceptorState {
    if (this.state === undefined || this.state.version < version) this.state = { version, promised: null, accepted: null };
    return this.state;
  }

  private persist(): Promise<void> {
    return this.options.storage.write([{ type: "put", key: acceptorKey, value: encoder.encode(JSON.stringify(this.state)) }], { durable: true });
  }

  /**
   * Proposes `next` (version base.version + 1) to the members of `base`; resolves what ring
   * that version is (see the module comment). Never throws for a peer's fault.
   */
  async propose(base: R, next: R): Promise<ProposeOutcome<R>> {
    assert(next.version === base.version + 1, `a ring proposal must follow its base: ${base.version} -> ${next.version}`);
    const acceptors = [...new Set(this.options.membersOf(base))];
    assert(acceptors.length > 0, "a ring without members cannot decide the next one");
    const majority = Math.floor(acceptors.length / 2) + 1;
    const baseHash = this.options.hashOf(base);
    let reason = "no round ran";
    for (let attempt = 0; attempt < this.attemptsMax; attempt++) {
      if (attempt > 0) await this.pause();
      const ballot = await this.nextBallot();
      const promises = await this.ask(acceptors, { type: ringPrepareType, version: next.version, ballot, baseHash });
      const known = this.knownIn(promises, next.version);
      if (known !== undefined) return { kind: "known", ring: known };
      const promised = promises.filter((r): r is Extract<Reply, { kind: "promise" }> => r?.kind === "promise");
      this.raiseCounter(promises);
      if (promised.length < majority) {
        reason = `${promised.length} of ${acceptors.length} members of ring ${base.version} promised (a majority is ${majority})${promises.some((r) => r?.kind === "base-conflict") ? "; some hold another ring " + base.version : ""}`;
        continue;
      }
      // The value accepted at the highest ballot may have been decided: complete it, not ours.
      let value: R = next;
      let highest: Ballot | undefined;
      for (const p of promised) {
        if (p.accepted === null) continue;
        const ring = this.options.parseRing(p.accepted.ring);
        if (ring === undefined || ring.version !== next.version) continue;
        if (highest === undefined || compareBallots(p.accepted.ballot, highest) > 0) {
          highest = p.accepted.ballot;
          value = ring;
        }
      }
      const accepts = await this.ask(acceptors, { type: ringAcceptType, version: next.version, ballot, ring: value, baseHash });
      const knownAfter = this.knownIn(accepts, next.version);
      if (knownAfter !== undefined) return { kind: "known", ring: knownAfter };
      this.raiseCounter(accepts);
      const acked = accepts.filter((r) => r?.kind === "accepted").length;
      if (acked >= majority) return { kind: "decided", ring: value };
      reason = `${acked} of ${acceptors.length} members of ring ${base.version} accepted (a majority is ${majority})`;
    }
    return { kind: "unavailable", reason };
  }

  private knownIn(replies: readonly (Reply | undefined)[], version: number): R | undefined {
    for (const reply of replies) {
      if (reply?.kind !== "known") continue;
      const ring = this.options.parseRing(reply.ring);
      if (ring !== undefined && ring.version >= version) return ring;
    }
    return undefined;
  }

  private raiseCounter(replies: readonly (Reply | undefined)[]): void {
    for (const reply of replies) if (reply?.kind === "nack" && reply.promised !== null) this.counter = Math.max(this.counter, reply.promised.counter);
  }

  /** A ballot above every one this node used or saw, durable before use. */
  private async nextBallot(): Promise<Ballot> {
    this.counter++;
    const counter = this.counter;
    await this.options.storage.write([{ type: "put", key: ballotKey, value: encoder.encode(JSON.stringify(counter)) }], { durable: true });
    return { counter, node: this.options.self };
  }

  /** Every acceptor's answer (this node's own by a direct call), undefined for none. */
  private ask(acceptors: readonly NodeId[], message: Record<string, unknown>): Promise<(Reply | undefined)[]> {
    return Promise.all(
      acceptors.map(async (id): Promise<Reply | undefined> => {
        if (id === this.options.self) return this.handle(message).catch(() => undefined);
        const result = await this.options.network.request(id, message, { timeoutMs: this.options.requestTimeoutMs });
        return result.ok ? parseReply(result.reply) : undefined;
      }),
    );
  }

  private pause(): Promise<void> {
    const ms = 1 + Math.floor(this.options.random.next() * this.backoffMs);
    return new Promise((resolve) => this.options.timers.setTimeout(resolve, ms));
  }
}

function parseBallot(value: unknown): Ballot | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const { counter, node } = value as { counter?: unknown; node?: unknown };
  if (!Number.isSafeInteger(counter) || (counter as number) < 0 || typeof node !== "string" || node.length === 0 || node.length > 256) return undefined;
  return { counter: counter as number, node };
}

function parseReply(value: unknown): Reply | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const v = value as Record<string, unknown>;
  switch (v.kind) {
    case "promise": {
      if (v.accepted === null || v.accepted === undefined) return { kind: "promise", accepted: null };
      const a = v.accepted as { ballot?: unknown; ring?: unknown };
      const ballot = parseBallot(a.ballot);
      return ballot === undefined ? undefined : { kind: "promise", accepted: { ballot, ring: a.ring } };
    }
    case "accepted":
      return { kind: "accepted" };
    case "nack":
      return { kind: "nack", promised: v.promised === null || v.promised === undefined ? null : (parseBallot(v.promised) ?? null) };
    case "known":
      return { kind: "known", ring: v.ring };
    case "base-conflict":
      return { kind: "base-conflict" };
    default:
      return undefined;
  }
}

function isAcceptorState(value: unknown): value is AcceptorState {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  if (!Number.isSafeInteger(v.version)) return false;
  if (v.promised !== null && parseBallot(v.promised) === undefined) return false;
  if (v.accepted === null) return true;
  const a = v.accepted as { ballot?: unknown } | undefined;
  return typeof a === "object" && a !== null && parseBallot(a.ballot) !== undefined;
}

function loadJson<T>(storage: StorageEngine, key: Uint8Array, check: (value: unknown) => value is T): T | undefined {
  const bytes = storage.get(key);
  if (bytes === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(decoder.decode(bytes));
    return check(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
