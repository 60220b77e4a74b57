import { assert, AssertionError } from "../assert.js";
import type { NodeId } from "../runtime/network.js";
import type { Runtime } from "../runtime/runtime.js";
import { batchItemsMaxAccepted, batchMessageType, type AcceptorBatchOptions } from "./acceptor-batch.js";
import type { AcceptorService } from "./acceptor-service.js";
import { isLive, type PendingChange } from "./change-batch.js";
import { LocalChange } from "./local-change.js";
import { lockKey } from "./lock-key.js";
import { acceptBytesType, acceptReplyToWire, collectReplyToWire, parseRequest, peekReplyToWire, prepareReplyToWire } from "./paxos-messages.js";
import { Proposer, type BatchResult, type RoundPlacement } from "./proposer.js";
import {
  changeOfWrite,
  forwardMessage,
  forwardMessageType,
  forwardReplyToWire,
  ForwardsSeen,
  parseForwardReply,
  parseForwardRequest,
  type ChangeKinds,
  type ForwardableChange,
  type ForwardReplyWire,
  type StrongWrite,
  type StrongWriteOutcome,
} from "./strong-write.js";
import { describeThrown, isRemoteFailure, remoteFailure } from "../transport/remote-failure.js";

/**
 * The strong path's coordinator (DESIGN.md, "The strong path"; CASPaxos, Rystsov 2018): one
 * register per key, replicated on the key's N primary replicas as acceptors. Any node
 * proposes. A change is a function of the current value: prepare/promise with a strict
 * majority, apply the function to the highest-ballot accepted value, accept/accepted with a
 * strict majority, answer. A read is the identity change, accept phase included.
 *
 * Example:
 *   const strong = new StrongCoordinator({ runtime, acceptors: new AcceptorService({ runtime }), placement, requestTimeoutMs: 500 });
 *   const added = await strong.change(key, 3, (current) => ({ type: "set", value: next(current) }));
 *   if (!added.ok && added.error === "indeterminate") { ... it may have happened ... }
 */
export interface StrongValue {
  value: Uint8Array;
  contentType: string;
  metadata: [string, string][];
  expiresAtMs: number | null;
}

/** A value as accepted: `timestamp` is the HLC of the accept that set it; `version` names it. */
export type StrongVersioned = StrongValue & { timestamp: number; version: string };

export type StrongDecision = { type: "set"; value: StrongValue } | { type: "delete" } | { type: "keep" };

/**
 * "unavailable": provably nothing was accepted (the change did not happen);
 * "indeterminate": accepts went out but no majority confirmed them in time (it may have
 * happened, now or later); "overloaded": refused before any round (it did not happen).
 */
export type StrongResult<T> = { ok: true; value: T } | { ok: false; error: "unavailable" | "indeterminate" | "overloaded"; message: string };

export interface StrongPlacement {
  /**
   * The key's N primary replicas (never fallbacks), and while its partition moves, the
   * previous set too; undefined when this node cannot place keys yet (no ring).
   */
  acceptorsFor(itemKey: Uint8Array, n: number): { acceptors: NodeId[]; previous?: NodeId[]; ringVersion?: number } | undefined;
  /**
   * This node's ring version (`ringVersion` above is the version the acceptors come from):
   * ballots carry it as their epoch, and this node's acceptor refuses rounds of older rings
   * (README, "Ring-version fencing"). Absent: no fencing (epoch 0), for fixed placements.
   */
  ringVersion?(): number | undefined;
}

export type StrongChange = { before: StrongVersioned | undefined; after: StrongVersioned | undefined };

export interface StrongCoordinatorOptions {
  runtime: Runtime;
  /** This node's acceptor (answered by a local call, not the network). */
  acceptors: AcceptorService;
  placement: StrongPlacement;
  /** Deadline of each prepare, accept and collect message. */
  requestTimeoutMs: number;
  /** Rounds one batch of changes may start before it gives up. */
  attemptsMax?: number;
  /** Time after which a batch starts no new round; 5 x requestTimeoutMs by default. */
  roundsDeadlineMs?: number;
  /** Backoff after a refused or failed round: uniform in [0, min(max, base * 2^attempt)). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Changes waiting on one key behind the running round; past it: "overloaded". */
  changesQueuedPerKeyMax?: number;
  /** Keys with a round running or changes queued; past it: "overloaded". */
  keysActiveMax?: number;
  /** Queued changes combined into one round. */
  changesPerRoundMax?: number;
  /** Test only: answer reads from the prepare phase without accepting (the broken variant). */
  unsafeReadWithoutAccept?: boolean;
  /**
   * Reads try one round trip first (README, "A one-round-trip read"): true by default, off
   * with unsafeReadWithoutAccept (so the broken variant is what answers reads).
   */
  fastReads?: boolean;
  /**
   * Test only: the one-round-trip read answers the highest ballot of any majority, agreeing
   * or not (a broken fast path the checker must catch).
   */
  unsafeFastReadWithoutAgreement?: boolean;
  /** One-round-trip reads in flight at once; past it a read takes the queue (the full round). */
  fastReadsInFlightMax?: number;
  /**
   * false: a round that accepted a tombstone never sends the GC step. For a placement whose sets
   * leave out acceptors that may still hold the key (the ownership transfer's read after a dead
   * node was replaced, README "Replacing a dead node"): "every acceptor accepted it" must count those.
   */
  collectTombstones?: boolean;
  /**
   * Keys whose piggybacked promise the proposer remembers, so its next change there skips the
   * prepare (README, "One round trip for a proposer's next change"); 0: always prepare.
   */
  heldPromisesMax?: number;
  /** Bytes of values those held promises may keep in memory (proposerDefaults.heldBytesMax). */
  heldBytesMax?: number;
  /**
   * A key whose acceptors are only this node changes in one local write (local-change.ts;
   * README, "One local write"); true by default, off with unsafeReadWithoutAccept.
   */
  localChanges?: boolean;
  /** Test only: the local write takes its ballot above the accepted one only (the broken variant). */
  unsafeLocalChangeIgnoresPromises?: boolean;
  /**
   * `write` sends a write to the key's first live primary when that is another node (README,
   * "Forwarding writes to the first primary"), which proposes it there; absent: every write is
   * proposed where it arrives. `isUp`: membership's belief (not suspect, not down).
   */
  forwardWrites?: { isUp(node: NodeId): boolean };
  /**
   * Builds the named changes (`{type: "change", kind, args}` writes: increments, conditional
   * updates) this node proposes for others (README, "Forwarding read-modify-writes"); absent:
   * it proposes none, and a forward of one is answered "unknown-change" (its sender proposes it).
   */
  changeKinds?: ChangeKinds;
  /**
   * Prepares, accepts and peeks bound for one acceptor node gathered into one "paxos.batch"
   * message (acceptor-batch.ts; README, "Batched acceptor messages"). Off unless given
   * (`strongAcceptorBatchDefault`): measured in session 8 on a quiet machine, it cost strong
   * gets ~10-18% CPU per read and did not raise strong put. A node still answers batches.
   */
  acceptorBatch?: AcceptorBatchOptions;
}

export const strongCoordinatorDefaults = Object.freeze({
  attemptsMax: 10,
  roundsDeadlinePerRequestTimeout: 5,
  backoffBaseMs: 10,
  backoffMaxMs: 400,
  changesQueuedPerKeyMax: 1024,
  keysActiveMax: 100_000,
  changesPerRoundMax: 64,
  fastReadsInFlightMax: 10_000,
});

/** What `write` did with writes (for tests and metrics). */
export interface ForwardCounts {
  /** Writes sent to another node's coordinator. */
  forwarded: number;
  /** Forwards the other node never ran ("overloaded" before it ran them, or a node that does not know forwards): proposed here instead. */
  proposedHere: number;
  /** Forwards with no usable answer (a timeout, a broken connection, garbage): answered "indeterminate". */
  lost: number;
  /** Writes other nodes forwarded here, and of them those that waited past their start deadline ("unavailable"). */
  served: number;
  expired: number;
  /** Forwards not proposed here: repeats of one seen before, and ones meant for another incarnation of this node. */
  duplicates: number;
  otherBoot: number;
  /** Forwards of a named change this node cannot build (unknown kind, refused args): not proposed, the sender proposes it. */
  unknownChange: number;
}

/** Nodes whose incarnation (boot) a forwarding node remembers; past it the oldest is forgotten (one more "boot" answer). */
const knownBootsMax = 1024;

export const paxosMessagePrefix = "paxos.";

interface Waiter extends PendingChange {
  resolve(result: StrongResult<StrongChange>): void;
  reject(error: unknown): void;
  /** A forwarded write: not proposed at all when its round has not started by then (clock ms). */
  startByMs: number | undefined;
}

/** The changes waiting on one key (and one N) while its current round runs. */
interface KeyQueue {
  key: Uint8Array;
  /** lockKey(key), computed once for the queue and the proposer's maps. */
  keyId: string;
  n: number;
  waiting: Waiter[];
}

const keep = (): StrongDecision => ({ type: "keep" });

/** Sending batches is off by default (see StrongCoordinatorOptions.acceptorBatch); receiving them is always on. */
export const strongAcceptorBatchDefault: AcceptorBatchOptions = Object.freeze({ itemsMax: 1 });

export class StrongCoordinator {
  private readonly queues = new Map<string, KeyQueue>();
  private readonly proposer: Proposer;
  private readonly bounds: { changesQueuedPerKeyMax: number; keysActiveMax: number; changesPerRoundMax: number; fastReadsInFlightMax: number };
  private readonly fastReads: boolean;
  private fastReadsInFlight = 0;
  private readonly local: LocalChange | undefined;
  /** Reads answered by one round trip (readFast), and full-round reads (read, and readFast's fallbacks). */
  readonly readCounts = { fast: 0, full: 0 };
  readonly forwardCounts: ForwardCounts = { forwarded: 0, proposedHere: 0, lost: 0, served: 0, expired: 0, duplicates: 0, otherBoot: 0, unknownChange: 0 };
  /** How long a forwarding node waits for the answer: every round the receiver may still start, plus the hop. */
  private readonly forwardWaitMs: number;
  /** This incarnation, for forwards (strong-write.ts ForwardRequest): random, so a restart is another; drawn when first needed. */
  private bootValue: number | undefined;
  private forwardSeq = 0;
  /** The incarnation of each node a forward went to, as its last "boot" answer said. */
  private readonly knownBoots = new Map<NodeId, number>();
  private readonly forwardsSeen = new ForwardsSeen();

  constructor(private readonly options: StrongCoordinatorOptions) {
    assert(options.requestTimeoutMs > 0, `requestTimeoutMs must be positive, got ${options.requestTimeoutMs}`);
    const d = strongCoordinatorDefaults;
    this.bounds = {
      changesQueuedPerKeyMax: options.changesQueuedPerKeyMax ?? d.changesQueuedPerKeyMax,
      keysActiveMax: options.keysActiveMax ?? d.keysActiveMax,
      changesPerRoundMax: options.changesPerRoundMax ?? d.changesPerRoundMax,
      fastReadsInFlightMax: options.fastReadsInFlightMax ?? d.fastReadsInFlightMax,
    };
    this.fastReads = options.fastReads !== false && options.unsafeReadWithoutAccept !== true;
    for (const [name, value] of Object.entries(this.bounds)) assert(Number.isSafeInteger(value) && value > 0, `${name} must be a positive integer, got ${value}`);
    this.proposer = new Proposer({
      runtime: options.runtime,
      acceptors: options.acceptors,
      requestTimeoutMs: options.requestTimeoutMs,
      attemptsMax: options.attemptsMax ?? d.attemptsMax,
      roundsDeadlineMs: options.roundsDeadlineMs ?? d.roundsDeadlinePerRequestTimeout * options.requestTimeoutMs,
      backoffBaseMs: options.backoffBaseMs ?? d.backoffBaseMs,
      backoffMaxMs: options.backoffMaxMs ?? d.backoffMaxMs,
      unsafeReadWithoutAccept: options.unsafeReadWithoutAccept === true,
      ringVersion: () => this.ringVersion(),
      unsafeFastReadWithoutAgreement: options.unsafeFastReadWithoutAgreement === true,
      collectTombstones: options.collectTombstones !== false,
      ...(options.heldPromisesMax === undefined ? {} : { heldPromisesMax: options.heldPromisesMax }),
      ...(options.heldBytesMax === undefined ? {} : { heldBytesMax: options.heldBytesMax }),
      acceptorBatch: options.acceptorBatch ?? strongAcceptorBatchDefault,
    });
    const localChanges = options.localChanges !== false && options.unsafeReadWithoutAccept !== true;
    const unsafeIgnorePromises = options.unsafeLocalChangeIgnoresPromises === true;
    // A batch starts rounds until roundsDeadlineMs, after a backoff of at most backoffMaxMs;
    // the last round's prepare and accept take at most a requestTimeoutMs each. A forwarded
    // write must start within one requestTimeoutMs of arrival, and the hop takes the rest.
    const roundsDeadlineMs = options.roundsDeadlineMs ?? d.roundsDeadlinePerRequestTimeout * options.requestTimeoutMs;
    this.forwardWaitMs = roundsDeadlineMs + (options.backoffMaxMs ?? d.backoffMaxMs) + 4 * options.requestTimeoutMs;
    this.local = localChanges ? new LocalChange({ runtime: options.runtime, acceptors: options.acceptors, ringVersion: () => this.ringVersion(), collectTombstones: options.collectTombstones !== false, unsafeIgnorePromises }) : undefined;
  }

  /** Batches changed in one local write, and batches the local path handed to the ordinary rounds. */
  get localCounts(): { readonly local: number; readonly handedBack: number } {
    return this.local?.counts ?? { local: 0, handedBack: 0 };
  }

  /** Rounds this node's proposer ran with one round trip (a held promise) and with two. */
  get roundCounts(): { readonly oneTrip: number; readonly twoTrips: number } {
    return this.proposer.roundCounts;
  }

  /** Failed phases and backoffs of this node's proposer (proposer.ts `retryCounts`). */
  get retryCounts(): { readonly prepareFailed: number; readonly acceptFailed: number; readonly backoffs: number } {
    return this.proposer.retryCounts;
  }

  /** Keys whose piggybacked promise the proposer holds, and the value bytes it keeps for them. */
  get heldPromises(): { keys: number; bytes: number } {
    return this.proposer.heldSize;
  }

  /** This node's ring version (0: none, or a placement without versions). */
  ringVersion(): number {
    return this.options.placement.ringVersion?.() ?? 0;
  }

  /**
   * Raises `node`'s acceptor fence to `ringVersion` (README, "Ring-version fencing"): the
   * ownership transfer calls it on every old acceptor it is about to scan. True once that
   * acceptor answered that it refuses every older epoch and finished every round it admitted.
   */
  fence(node: NodeId, ringVersion: number): Promise<boolean> {
    return this.proposer.fence(node, ringVersion);
  }

  /**
   * Runs `decide` on the key's current value (undefined: absent, deleted or expired) and makes
   * its decision the key's value, linearizably. `decide` may run more than once (a refused
   * round retries with a fresh value), so it must have no side effects; if it throws, the
   * returned promise rejects with what it threw.
   */
  change(itemKey: Uint8Array, n: number, decide: (current: StrongVersioned | undefined) => StrongDecision): Promise<StrongResult<StrongChange>> {
    return this.enqueue(itemKey, n, decide, false);
  }

  /**
   * A put or delete (under its condition) as a change, proposed at the key's first live primary
   * (README, "Forwarding writes to the first primary"): when that is another node, the write
   * goes there as "paxos.forward" and is proposed there, so one node proposes a key's writes
   * and its held promise (the piggybacked prepare) saves the next write's prepare. The answer
   * is that node's: "unavailable" when it proposed nothing, "indeterminate" when it may have.
   * A forward without a usable answer (timeout, broken connection) is "indeterminate"; one
   * refused before it ran ("overloaded") is proposed here. A condition's refusal is read from
   * the answer's `before` (strong-write.ts `strongWriteRefusal`).
   */
  async write(itemKey: Uint8Array, n: number, write: StrongWrite, local?: ForwardableChange): Promise<StrongResult<StrongWriteOutcome>> {
    // The placement is computed once per write: the first round of an idle key takes it too.
    const placed = this.options.forwardWrites === undefined ? undefined : this.place(itemKey, n);
    const target = this.forwardTarget(placed);
    if (target === undefined) return this.proposeHere(itemKey, n, write, local, placed);
    const network = this.options.runtime.network!;
    this.forwardCounts.forwarded++;
    // At most twice: a "boot" answer (the first forward to that incarnation) proposed nothing.
    for (let attempt = 0; attempt < 2; attempt++) {
      const message = forwardMessage(itemKey, n, write, this.options.requestTimeoutMs, { boot: this.boot, seq: ++this.forwardSeq }, this.knownBoots.get(target));
      const result = await network.request(target, message, { timeoutMs: this.forwardWaitMs });
      const reply = result.ok && !isRemoteFailure(result.reply) ? parseForwardReply(result.reply) : undefined;
      if ((!result.ok && result.error === "overloaded") || reply?.kind === "unknown-message") {
        // Refused before the other node ran it (our queue, or its served bound; a node of an
        // older version, which does not know forwards; or one that cannot build this named
        // change): nothing happened there.
        this.forwardCounts.proposedHere++;
        return this.proposeHere(itemKey, n, write, local);
      }
      if (reply === undefined) {
        this.forwardCounts.lost++;
        const why = !result.ok ? result.error : isRemoteFailure(result.reply) ? result.reply.shoalRemoteFailure.message : "an answer that is not a write result";
        return { ok: false, error: "indeterminate", message: `the write was forwarded to ${target}, the key's first live primary, and no answer came back (${why}): it may have been proposed there` };
      }
      if (reply.kind === "boot") {
        this.knownBoots.delete(target);
        if (this.knownBoots.size >= knownBootsMax) this.knownBoots.delete(this.knownBoots.keys().next().value!);
        this.knownBoots.set(target, reply.boot);
        continue;
      }
      if (reply.result.ok) return reply.result;
      return { ok: false, error: reply.result.error, message: `at ${target}, the key's first live primary: ${reply.result.message}` };
    }
    return { ok: false, error: "unavailable", message: `the write was forwarded to ${target}, the key's first live primary, which restarted meanwhile and did not propose it` };
  }

  /** `write` proposed on this node: `local` when the caller built the change, else built from the write. */
  private async proposeHere(itemKey: Uint8Array, n: number, write: StrongWrite, local: ForwardableChange | undefined, placed?: RoundPlacement): Promise<StrongResult<StrongWriteOutcome>> {
    const change = local ?? changeOfWrite(write, this.options.changeKinds);
    if (typeof change === "string") return { ok: false, error: "unavailable", message: `cannot propose the change: ${change}` };
    return withRefusal(await this.enqueue(itemKey, n, (current) => change.decide(current), false, undefined, placed), change);
  }

  /**
   * The node a write of this key is proposed at: the first of its primaries that is this node or
   * believed up; undefined for this node (also without a ring or a live primary: proposed here,
   * which then fails or succeeds on its own).
   */
  private forwardTarget(placed: RoundPlacement | undefined): NodeId | undefined {
    const forward = this.options.forwardWrites;
    if (forward === undefined || this.options.runtime.network === undefined || placed === undefined) return undefined;
    const self = this.options.runtime.nodeId;
    // sets[0] is the current ring's acceptors, in preference order (placeOf).
    for (const node of placed.sets[0]!) {
      if (node === self) return undefined;
      if (forward.isUp(node)) return node;
    }
    return undefined;
  }

  /** This incarnation's number for forwards, drawn when first needed (so a node that never forwards draws nothing). */
  private get boot(): number {
    return (this.bootValue ??= this.options.runtime.random.int(2 ** 47));
  }

  /**
   * Serves "paxos.forward": proposes the write here, whatever this node's ring says (forwarding
   * again could loop), if it is meant for this incarnation and is not a repeat.
   */
  private async serveForward(from: NodeId, message: unknown): Promise<ForwardReplyWire> {
    const parsed = parseForwardRequest(message);
    if (!parsed.ok) return forwardReplyToWire({ ok: false, error: "unavailable", message: parsed.message });
    const { key, n, write, startWithinMs, origin, to } = parsed.request;
    const change = changeOfWrite(write, this.options.changeKinds);
    if (typeof change === "string") {
      this.forwardCounts.unknownChange++;
      return { ok: false, error: "unknown-change", message: `not proposed: ${change}` };
    }
    if (to !== this.boot) {
      this.forwardCounts.otherBoot++;
      return { ok: false, error: "boot", boot: this.boot, message: "not proposed: the forward was meant for another incarnation of this node" };
    }
    if (!this.forwardsSeen.admit(from, origin.boot, origin.seq)) {
      this.forwardCounts.duplicates++;
      return { ok: false, error: "duplicate", message: `not proposed again: forward ${origin.seq} of ${from} arrived before` };
    }
    this.forwardCounts.served++;
    const startByMs = this.options.runtime.clock.nowMs() + startWithinMs;
    const result = await this.enqueue(key, n, (current) => change.decide(current), false, startByMs);
    return forwardReplyToWire(withRefusal(result, change));
  }

  /**
   * A linearizable read for clients: one round trip when a majority of every acceptor set
   * agrees on what it accepted (README, "A one-round-trip read"), else `read` (the full round,
   * which also makes an expired value a tombstone). It writes nothing and promises nothing, so
   * it is no substitute for `read` where the round's promises and accept are the point (the
   * ownership transfer, an acceptor's relearn pass).
   */
  async readFast(itemKey: Uint8Array, n: number): Promise<StrongResult<StrongVersioned | undefined>> {
    if (this.fastReads && this.fastReadsInFlight < this.bounds.fastReadsInFlightMax) {
      const placed = this.place(itemKey, n);
      if (placed !== undefined) {
        this.fastReadsInFlight++;
        let peeked;
        try {
          peeked = this.local?.applies(placed) === true ? await this.local.peek(itemKey, placed) : await this.proposer.peek(itemKey, placed);
        } finally {
          this.fastReadsInFlight--;
        }
        // An expired value is absent only once a round made that so (a tombstone): judged by
        // this node's clock alone, another node's could still call it live.
        if (peeked !== undefined && (peeked.value === undefined || isLive(peeked.value, this.options.runtime.clock.nowMs()))) {
          this.readCounts.fast++;
          return { ok: true, value: peeked.value };
        }
      }
    }
    return this.read(itemKey, n);
  }

  /**
   * A linearizable read: the identity change, accept phase included (CASPaxos, section 2.4):
   * its promises outbid every older round at a majority of every set, and its accept writes the
   * key's latest value to such a majority (what the ownership transfer relies on).
   */
  async read(itemKey: Uint8Array, n: number): Promise<StrongResult<StrongVersioned | undefined>> {
    this.readCounts.full++;
    const changed = await this.enqueue(itemKey, n, keep, true);
    return changed.ok ? { ok: true, value: changed.value.after } : changed;
  }

  /** This node's acceptor only (?consistency=eventual); `acceptedAtMs` says when it accepted. */
  readLocal(itemKey: Uint8Array): { value: StrongVersioned | undefined; acceptedAtMs?: number } {
    const accepted = this.options.acceptors.record(itemKey)?.accepted;
    if (accepted === undefined) return { value: undefined };
    const value = isLive(accepted.value, this.options.runtime.clock.nowMs()) ? accepted.value : undefined;
    return { value, acceptedAtMs: accepted.acceptedAtMs };
  }

  /** Acceptor messages this node's proposer sent as batches and alone (acceptor-batch.ts). */
  get batchCounts(): { readonly batches: number; readonly batchedItems: number; readonly single: number } {
    return this.proposer.batchCounts;
  }

  /** Serves every "paxos." message addressed to this node's acceptor. */
  async handle(from: NodeId, message: unknown): Promise<unknown> {
    const type = (message as { type?: unknown } | null)?.type;
    if (type === forwardMessageType) return this.serveForward(from, message);
    if (type === batchMessageType) return this.serveBatch(message);
    return this.serveOne(message);
  }

  /**
   * "paxos.batch" (acceptor-batch.ts): every item runs as it would alone, all started at once
   * (each under its own key's lock, with its own refusals), so their durable writes share the
   * acceptor's one storage write (AcceptorService, "one write per turn"), and each is answered
   * in its place once its own write is durable, never before. An item that threw answers a
   * remote failure in its place (its outcome unknown, as alone); the others are unaffected. A
   * batch that is not a bounded list of prepares, accepts and peeks is refused as a whole and
   * runs nothing.
   */
  private async serveBatch(message: unknown): Promise<unknown> {
    const items = (message as { items?: unknown }).items;
    if (!Array.isArray(items) || items.length === 0 || items.length > batchItemsMaxAccepted) {
      const count = Array.isArray(items) ? `${items.length} items` : "no item list";
      return { ok: false, refusal: "malformed", message: `${batchMessageType}: ${count}; a batch holds 1 to ${batchItemsMaxAccepted} prepares, accepts or peeks` };
    }
    for (const item of items) {
      const itemType = (item as { type?: unknown } | null)?.type;
      if (itemType !== "paxos.prepare" && itemType !== "paxos.accept" && itemType !== acceptBytesType && itemType !== "paxos.peek") {
        return { ok: false, refusal: "malformed", message: `${batchMessageType}: an item of type ${String(itemType)}; a batch holds only prepares, accepts and peeks` };
      }
    }
    const replies = await Promise.all(
      items.map((item) =>
        this.serveOne(item).catch((error: unknown) => {
          if (error instanceof AssertionError) throw error;
          return remoteFailure(describeThrown(error));
        }),
      ),
    );
    return { ok: true, replies };
  }

  private async serveOne(message: unknown): Promise<unknown> {
    const request = parseRequest(message);
    if (!request.ok) return { ok: false, refusal: "malformed", message: request.message };
    const acceptors = this.options.acceptors;
    switch (request.type) {
      case "paxos.prepare":
        return prepareReplyToWire(await acceptors.prepare(request.key, request.ballot, this.ringVersion()));
      case "paxos.accept":
        return acceptReplyToWire(await acceptors.accept(request.key, request.ballot, request.proposal, this.ringVersion(), request.next));
      case "paxos.collect":
        return collectReplyToWire(await acceptors.collect(request.key, request.ballot, this.ringVersion()));
      case "paxos.fence":
        return await acceptors.fence(request.ringVersion);
      case "paxos.peek":
        return peekReplyToWire(await acceptors.peek(request.key, request.epoch, this.ringVersion()));
    }
  }

  private place(key: Uint8Array, n: number): RoundPlacement | undefined {
    assert(Number.isSafeInteger(n) && n > 0, `n must be a positive integer, got ${n}`);
    return placeOf(this.options.placement.acceptorsFor(key, n));
  }

  /** Keys with a round running or changes waiting (for tests and metrics). */
  get activeKeys(): number {
    return this.queues.size;
  }

  /**
   * Queues a change on the key; an idle key starts its round at once. `placed`: the key's
   * placement computed in this same synchronous step (`write`), which the first round then uses
   * instead of computing it again (nothing can change the ring in between).
   */
  private enqueue(key: Uint8Array, n: number, decide: PendingChange["decide"], read: boolean, startByMs?: number, placed?: RoundPlacement): Promise<StrongResult<StrongChange>> {
    assert(Number.isSafeInteger(n) && n > 0, `n must be a positive integer, got ${n}`);
    const keyId = lockKey(key);
    const id = `${n}:${keyId}`;
    let queue = this.queues.get(id);
    const idle = queue === undefined;
    if (queue === undefined) {
      if (this.queues.size >= this.bounds.keysActiveMax) return Promise.resolve(overloaded(`${this.queues.size} keys have rounds running; the bound is ${this.bounds.keysActiveMax}`));
      queue = { key, keyId, n, waiting: [] };
      this.queues.set(id, queue);
    } else if (queue.waiting.length >= this.bounds.changesQueuedPerKeyMax) {
      return Promise.resolve(overloaded(`${queue.waiting.length} changes wait on this key; the bound is ${this.bounds.changesQueuedPerKeyMax}`));
    }
    const waiting = queue.waiting;
    // One shape for every waiter (no spreads): this runs once per change.
    const result = new Promise<StrongResult<StrongChange>>((resolve, reject) => waiting.push({ decide, read, resolve, reject, startByMs }));
    if (idle) void this.drain(id, queue, placed);
    return result;
  }

  /** One round at a time per key; whatever queued meanwhile goes into the next round together. */
  private async drain(id: string, queue: KeyQueue, placed: RoundPlacement | undefined): Promise<void> {
    try {
      // `placed` is for the first round only, which starts before this function first awaits.
      let fresh = placed;
      while (queue.waiting.length > 0) {
        const waiters = queue.waiting.splice(0, this.bounds.changesPerRoundMax);
        const first = fresh;
        fresh = undefined;
        await this.runRound(queue, waiters, first);
      }
    } finally {
      this.queues.delete(id);
    }
  }

  private async runRound(queue: KeyQueue, waiters: Waiter[], placed: RoundPlacement | undefined): Promise<void> {
    let batch = this.startable(waiters);
    if (batch.length === 0) return;
    let first = placed ?? this.place(queue.key, queue.n);
    let waited = false;
    if (first === undefined) {
      // No ring yet (a node that is joining): wait for one a bounded while before answering.
      waited = true;
      first = await this.placeOnceRing(queue.key, queue.n);
      batch = this.startable(batch);
      if (batch.length === 0) return;
    }
    if (first === undefined) {
      for (const waiter of batch) waiter.resolve({ ok: false, error: "unavailable", message: "this node cannot place the key yet (no ring)" });
      return;
    }
    // Placed again before every later round: a ring refusal waits for the newer ring. The
    // ring never goes away once a node has one, so only the first placement can fail. The
    // proposer's first round takes `first` when nothing was awaited since it was computed (the
    // common case: one placement per change, not three).
    let fresh: RoundPlacement | undefined = waited ? undefined : first;
    const place = (): RoundPlacement => {
      const now = fresh ?? this.place(queue.key, queue.n) ?? first;
      fresh = undefined;
      return now;
    };
    let result: BatchResult;
    try {
      let local: BatchResult | undefined;
      if (this.local?.applies(first) === true) {
        fresh = undefined;
        local = await this.local.run(queue.key, first, batch);
      }
      result = local ?? (await this.proposer.run(queue.key, place, batch, queue.keyId));
    } catch (error) {
      for (const waiter of batch) waiter.reject(error);
      return;
    }
    batch.forEach((waiter, i) => {
      if (!result.ok) return waiter.resolve(result);
      const outcome = result.outcomes[i]!;
      if (outcome.ok) waiter.resolve({ ok: true, value: outcome.change });
      else waiter.reject(outcome.thrown);
    });
  }

  /**
   * The key's placement once this node has a ring, polled with growing pauses (from
   * backoffBaseMs) for at most requestTimeoutMs; undefined if none came. A joining node gets its
   * ring from gossip within moments, and a change that arrives first then runs instead of
   * failing; nothing was sent meanwhile, so giving up is still "unavailable".
   */
  private async placeOnceRing(key: Uint8Array, n: number): Promise<RoundPlacement | undefined> {
    const timers = this.options.runtime.timers;
    let waitedMs = 0;
    for (let pauseMs = Math.max(1, this.options.backoffBaseMs ?? strongCoordinatorDefaults.backoffBaseMs); waitedMs < this.options.requestTimeoutMs; pauseMs *= 2) {
      const stepMs = Math.min(pauseMs, this.options.requestTimeoutMs - waitedMs);
      await new Promise<void>((resolve) => timers.setTimeout(resolve, stepMs));
      waitedMs += stepMs;
      const placed = this.place(key, n);
      if (placed !== undefined) return placed;
    }
    return undefined;
  }

  /** The batch without forwarded writes that waited past their start deadline (answered "unavailable": never proposed). */
  private startable(batch: Waiter[]): Waiter[] {
    if (batch.every((waiter) => waiter.startByMs === undefined)) return batch;
    const nowMs = this.options.runtime.clock.nowMs();
    return batch.filter((waiter) => {
      if (waiter.startByMs === undefined || nowMs <= waiter.startByMs) return true;
      this.forwardCounts.expired++;
      waiter.resolve({ ok: false, error: "unavailable", message: `the forwarded write waited ${nowMs - waiter.startByMs} ms past its start deadline behind other rounds on the key; not proposed` });
      return false;
    });
  }
}

/** A change's result with why its last run refused, if it did (a named change's `refusal`). */
function withRefusal(result: StrongResult<StrongChange>, change: ForwardableChange): StrongResult<StrongWriteOutcome> {
  if (!result.ok) return result;
  const refusal = change.refusal?.();
  return refusal === undefined ? result : { ok: true, value: { ...result.value, refusal } };
}

function placeOf(placed: ReturnType<StrongPlacement["acceptorsFor"]>): RoundPlacement | undefined {
  if (placed === undefined || placed.acceptors.length === 0) return undefined;
  const sets = placed.previous !== undefined && placed.previous.length > 0 ? [placed.acceptors, placed.previous] : [placed.acceptors];
  return { sets, epoch: placed.ringVersion ?? 0 };
}

function overloaded(message: string): StrongResult<never> {
  return { ok: false, error: "overloaded", message: `cannot start a strong change: ${message}` };
}
