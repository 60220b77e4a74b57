import type { NodeId } from "../runtime/network.js";
import type { Runtime } from "../runtime/runtime.js";
import type { AcceptedState } from "./acceptor-record.js";
import type { AcceptorService } from "./acceptor-service.js";
import { assert } from "../assert.js";
import { ballotZero, compareBallots, epochOf, maxBallot, nextBallot, type Ballot } from "./ballot.js";
import { lockKey } from "./lock-key.js";
import { applyChanges, isLive, lineageOf, type AppliedBatch, type ChangeOutcome, type PendingChange } from "./change-batch.js";
import type { AcceptorBatchOptions } from "./acceptor-batch.js";
import { AcceptorClient } from "./acceptor-client.js";
import { PhaseQuorum } from "./phase-quorum.js";
import { PeekQuorum } from "./peek-quorum.js";
import type { Peeked } from "./paxos-messages.js";
import type { Proposal } from "./acceptor-record.js";

/**
 * The proposer of CASPaxos (Rystsov 2018, section 2.3) for one batch of changes to one key:
 *
 * 1. Pick a ballot above the clock and above any ballot that refused us.
 * 2. prepare(ballot) to every acceptor; wait for a strict majority of each acceptor set.
 *    Refused: learn the higher ballot, back off with jitter, retry (bounded in rounds and in
 *    time: contention deserves many quick rounds, unreachable acceptors only a few slow ones).
 * 3. Apply the changes to the highest-ballot accepted value (change-batch.ts).
 * 4. accept(ballot, value) to every acceptor; a strict majority of each set: done.
 * 5. A tombstone every acceptor accepted is collected (the GC step, acceptor-service.ts).
 *
 * When an accept may have reached some acceptors without a majority confirming it, a retry
 * must not apply the changes a second time. The next round's phase 1 tells which case holds,
 * through the lineage every value carries (AcceptedState.origins): our ballot is in it (our
 * value won, perhaps under another proposer: finish it with the identity change and answer
 * what our attempt computed), or provably not (this node's entry in the lineage is below our
 * ballot, which is above the lineage's floor: ours can no longer be built upon once this round
 * wins, so compute afresh), or neither can be shown ("indeterminate"). Failing before any accept went out is "unavailable": nothing happened.
 */
export interface ProposerOptions {
  runtime: Runtime;
  acceptors: AcceptorService;
  requestTimeoutMs: number;
  attemptsMax: number;
  /** After this long a batch starts no new round (it answers unavailable or indeterminate). */
  roundsDeadlineMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  unsafeReadWithoutAccept: boolean;
  /** This node's ring version (its own acceptor's fence). */
  ringVersion: () => number;
  /** Test only: `peek` answers the highest ballot of any majority (StrongCoordinatorOptions). */
  unsafeFastReadWithoutAgreement?: boolean;
  /** false: never send the GC step (StrongCoordinatorOptions.collectTombstones). */
  collectTombstones?: boolean;
  /**
   * Keys whose piggybacked promise this proposer remembers (README, "One round trip for a
   * proposer's next change"); 0 turns the optimisation off. Past it the oldest is forgotten.
   */
  heldPromisesMax?: number;
  /** Bytes of values the held promises may keep (values up to 25 MiB exist); past it the oldest is forgotten. */
  heldBytesMax?: number;
  /** Prepares, accepts and peeks to one node gathered into one message (acceptor-batch.ts). */
  acceptorBatch?: AcceptorBatchOptions;
}

export const proposerDefaults = Object.freeze({ heldPromisesMax: 10_000, heldBytesMax: 32 * 1024 * 1024 });

/**
 * A promise of our next ballot that a strict majority of every set gave with their accept of
 * our last round on a key, and what they reported with it: the value we had them accept.
 */
interface HeldPromise {
  next: Ballot;
  /** The sets the promise came from: used only for a round on exactly these sets. */
  sets: NodeId[][];
  highest: AcceptedState;
  /** What it keeps in memory (the value's bytes), for `heldBytesMax`. */
  bytes: number;
}

/**
 * Where a round sends its messages: a strict majority of every set must answer, and the
 * round's ballots carry `epoch`, the ring version the sets come from (README, "Ring-version
 * fencing"). Asked again before every round, so a round after a "ring" refusal uses the newer
 * ring once membership gossiped it here.
 */
export interface RoundPlacement {
  sets: NodeId[][];
  epoch: number;
}

export type BatchResult = { ok: true; outcomes: ChangeOutcome[] } | { ok: false; error: "unavailable" | "indeterminate"; message: string };

/** An accept that may have been stored by some acceptor without a confirmed majority. */
interface SentAccept {
  origin: Ballot;
  outcomes: ChangeOutcome[];
}

/** What the rounds of one batch learned so far. */
interface BatchState {
  sent: SentAccept[];
  /** The highest ballot that refused us: the next round bids above it. */
  above: Ballot;
  /** The newest ring version an acceptor refused us with: no round starts on an older one. */
  ringAbove: number;
  problem: string;
  rounds: number;
}

type Plan = { kind: "accept"; applied: AppliedBatch } | { kind: "answer"; result: BatchResult };

type PhaseOne = { ok: true; highest: AcceptedState | undefined; collectedFloor: Ballot } | { ok: false; above: Ballot; ringAbove: number; message: string };
/** `nextPromised`: a strict majority of every set also promised the next ballot asked for. */
type PhaseTwo = { ok: true; unanimous: Promise<boolean>; nextPromised: boolean } | { ok: false; above: Ballot; ringAbove: number; maybeStored: boolean; message: string };

export class Proposer {
  private readonly client: AcceptorClient;
  /** Piggybacked promises by key (insertion order: oldest first); each is used at most once. */
  private readonly held = new Map<string, HeldPromise>();
  private readonly heldMax: number;
  private readonly heldBytesMax: number;
  private heldBytes = 0;
  /** The highest ballot counter this proposer issued: every later ballot is above it (ballots are never reused). */
  private lastCounter = 0;
  /** Rounds that skipped the prepare (a held promise), and rounds that prepared (for tests and metrics). */
  readonly roundCounts = { oneTrip: 0, twoTrips: 0 };
  /**
   * Why rounds did not end their batch (for metrics and the profiling probes): a phase that
   * failed (refused by a higher promise or ring, or short of a majority) and the backoffs taken.
   */
  readonly retryCounts = { prepareFailed: 0, acceptFailed: 0, backoffs: 0 };

  /** Acceptor messages sent as batches (how many, with how many items) and alone (acceptor-batch.ts). */
  get batchCounts(): { readonly batches: number; readonly batchedItems: number; readonly single: number } {
    return this.client.batcher?.counts ?? { batches: 0, batchedItems: 0, single: 0 };
  }

  constructor(private readonly options: ProposerOptions) {
    this.client = new AcceptorClient({
      runtime: options.runtime,
      acceptors: options.acceptors,
      requestTimeoutMs: options.requestTimeoutMs,
      ringVersion: options.ringVersion,
      ...(options.acceptorBatch === undefined ? {} : { batch: options.acceptorBatch }),
    });
    this.heldMax = options.heldPromisesMax ?? proposerDefaults.heldPromisesMax;
    assert(Number.isSafeInteger(this.heldMax) && this.heldMax >= 0, `heldPromisesMax must be a non-negative integer, got ${this.heldMax}`);
    this.heldBytesMax = options.heldBytesMax ?? proposerDefaults.heldBytesMax;
    assert(Number.isSafeInteger(this.heldBytesMax) && this.heldBytesMax >= 0, `heldBytesMax must be a non-negative integer, got ${this.heldBytesMax}`);
  }

  /** Raises `node`'s ring fence (the ownership transfer, before it scans an old acceptor). */
  fence(node: NodeId, ringVersion: number): Promise<boolean> {
    return this.client.fence(node, ringVersion);
  }

  /**
   * The one-round-trip read (README, "A one-round-trip read"): what a strict majority of every
   * set reports accepted at one ballot (chosen, and at least as new as every write completed
   * before the call), or undefined when they do not agree (the caller runs the full round).
   * Nothing is written anywhere.
   */
  peek(key: Uint8Array, placed: RoundPlacement): Promise<Peeked | undefined> {
    if (this.options.unsafeFastReadWithoutAgreement === true) return this.unsafePeek(key, placed);
    const quorum = new PeekQuorum(placed.sets);
    return new Promise<Peeked | undefined>((resolve) => {
      let done = false;
      for (const node of quorum.nodes) {
        void this.client.peek(node, key, placed.epoch).then((answer) => {
          if (done) return;
          quorum.add(node, answer.kind === "ok" ? answer.reply : undefined);
          const agreed = quorum.agreed;
          if (agreed === undefined && !quorum.hopeless && !quorum.complete) return;
          done = true;
          resolve(agreed);
        });
      }
    });
  }

  /** The broken fast read (test only): the highest accepted ballot of the first majority. */
  private unsafePeek(key: Uint8Array, placed: RoundPlacement): Promise<Peeked | undefined> {
    const quorum = new PhaseQuorum(placed.sets);
    let highest: Peeked = { ballot: undefined, value: undefined };
    return new Promise<Peeked | undefined>((resolve) => {
      for (const node of quorum.nodes) {
        void this.client.peek(node, key, placed.epoch).then((answer) => {
          if (answer.kind === "ok" && answer.reply.ballot !== undefined && (highest.ballot === undefined || compareBallots(answer.reply.ballot, highest.ballot) > 0)) highest = answer.reply;
          quorum.add(node, answer.kind === "ok");
          if (quorum.reached) resolve(highest);
          else if (quorum.failed || quorum.complete) resolve(undefined);
        });
      }
    });
  }

  /** `keyId`: lockKey(key), when the caller has it already. */
  async run(key: Uint8Array, place: () => RoundPlacement, changes: readonly PendingChange[], keyId = lockKey(key)): Promise<BatchResult> {
    const state: BatchState = { sent: [], above: ballotZero, ringAbove: 0, problem: "no round ran", rounds: 0 };
    let late = false;
    const deadline = this.options.runtime.timers.setTimeout(() => (late = true), this.options.roundsDeadlineMs);
    try {
      for (let attempt = 0; attempt < this.options.attemptsMax && !late; attempt++) {
        if (attempt > 0) await this.backoff(attempt);
        const result = await this.round(key, keyId, place(), changes, state);
        if (result !== undefined) return result;
      }
    } finally {
      this.options.runtime.timers.clearTimeout(deadline);
    }
    const rounds = `after ${state.rounds} rounds`;
    if (state.sent.length > 0) return { ok: false, error: "indeterminate", message: `accepts went out but no majority confirmed them ${rounds}; last: ${state.problem}` };
    return { ok: false, error: "unavailable", message: `no round reached its accept phase with a majority ${rounds}; last: ${state.problem}` };
  }

  /**
   * One prepare and accept; the batch's result when it ends the batch, else undefined. The
   * batch's first round skips the prepare when this proposer holds a piggybacked promise for
   * the key on these sets (README, "One round trip for a proposer's next change").
   */
  private async round(key: Uint8Array, keyId: string, placed: RoundPlacement, changes: readonly PendingChange[], state: BatchState): Promise<BatchResult | undefined> {
    state.rounds++;
    const { sets, epoch } = placed;
    const held = state.rounds === 1 ? this.takeHeld(key, keyId, placed) : undefined;
    const ballot = held?.next ?? (epoch < state.ringAbove ? undefined : this.issue(state.above, epoch));
    if (ballot === undefined) {
      // An acceptor is on a newer ring than this node: wait (backoff) for membership to
      // gossip it here; no message goes out meanwhile.
      state.problem = `this node's ring version ${epoch} is older than an acceptor's (${Math.max(state.ringAbove, state.above.epoch ?? 0)}); waiting for the newer ring`;
      return undefined;
    }
    let promised: PhaseOne;
    if (held !== undefined) {
      // A majority of every set promised `ballot` when it accepted our last round's value,
      // reporting that value as their newest accept: phase 1 of `ballot`, already done.
      this.roundCounts.oneTrip++;
      promised = { ok: true, highest: held.highest, collectedFloor: ballotZero };
    } else {
      this.roundCounts.twoTrips++;
      promised = await this.prepare(key, sets, ballot);
    }
    if (!promised.ok) {
      this.retryCounts.prepareFailed++;
      state.above = maxBallot(state.above, promised.above);
      state.ringAbove = Math.max(state.ringAbove, promised.ringAbove);
      state.problem = promised.message;
      return undefined;
    }
    const plan = this.plan(promised, changes, ballot, state.sent);
    if (plan.kind === "answer") return plan.result;
    const proposal = plan.applied.proposal;
    // Ask for the next ballot's promise with a value only: a tombstone is collected (which
    // raises the floor past any promise), and a key deleted is rarely changed again at once.
    const next = this.heldMax > 0 && proposal.value !== undefined ? this.issue(ballot, epoch) : undefined;
    const accepted = await this.accept(key, sets, ballot, proposal, next);
    if (accepted.ok) {
      if (proposal.value === undefined && this.options.collectTombstones !== false) this.collectWhen(accepted.unanimous, key, sets, ballot);
      if (next !== undefined && accepted.nextPromised) {
        const highest: AcceptedState = { ballot, value: proposal.value, acceptedAtMs: 0, origins: proposal.origins, originsFloor: proposal.originsFloor };
        this.hold(keyId, { next, sets, highest, bytes: key.byteLength + (proposal.value?.value.byteLength ?? 0) });
      }
      return { ok: true, outcomes: plan.applied.outcomes };
    }
    this.retryCounts.acceptFailed++;
    if (accepted.maybeStored && plan.applied.changed) state.sent.push({ origin: ballot, outcomes: plan.applied.outcomes });
    state.above = maxBallot(state.above, accepted.above);
    state.ringAbove = Math.max(state.ringAbove, accepted.ringAbove);
    state.problem = accepted.message;
    return undefined;
  }

  /**
   * A ballot above `above`, the clock and every ballot this proposer issued before (so no
   * ballot of ours ever names two rounds, a piggybacked one included); undefined when `above`
   * is of a newer epoch.
   */
  private issue(above: Ballot, epoch: number): Ballot | undefined {
    const clockCounter = Math.max(this.options.runtime.hlc.now(), this.lastCounter + 1);
    const ballot = nextBallot({ clockCounter, above, node: this.options.runtime.nodeId, epoch });
    if (ballot !== undefined) this.lastCounter = Math.max(this.lastCounter, ballot.counter);
    return ballot;
  }

  /**
   * The key's held promise, removed (a ballot serves one round), when it is for this epoch and
   * these sets and, if this node is one of the acceptors, its own acceptor still holds exactly
   * that promise (another proposer's prepare or accept replaced it: the round would be refused).
   */
  private takeHeld(key: Uint8Array, id: string, placed: RoundPlacement): HeldPromise | undefined {
    if (this.held.size === 0) return undefined;
    const held = this.held.get(id);
    if (held === undefined) return undefined;
    this.forget(id, held);
    if (epochOf(held.next) !== placed.epoch || !sameSets(held.sets, placed.sets)) return undefined;
    if (placed.sets.some((set) => set.includes(this.options.runtime.nodeId))) {
      const local = this.options.acceptors.promiseInMemoryOf(id);
      if (local === undefined || compareBallots(local, held.next) !== 0) return undefined;
    }
    return held;
  }

  private hold(id: string, held: HeldPromise): void {
    const before = this.held.get(id);
    if (before !== undefined) this.forget(id, before);
    if (held.bytes > this.heldBytesMax) return;
    this.held.set(id, held);
    this.heldBytes += held.bytes;
    while (this.held.size > this.heldMax || this.heldBytes > this.heldBytesMax) {
      const [oldest, entry] = this.held.entries().next().value as [string, HeldPromise];
      this.forget(oldest, entry);
    }
  }

  private forget(id: string, held: HeldPromise): void {
    this.held.delete(id);
    this.heldBytes -= held.bytes;
  }

  /** Keys with a held promise, and the bytes they keep (for tests and metrics). */
  get heldSize(): { keys: number; bytes: number } {
    return { keys: this.held.size, bytes: this.heldBytes };
  }

  private plan(promised: { highest: AcceptedState | undefined; collectedFloor: Ballot }, changes: readonly PendingChange[], ballot: Ballot, sent: readonly SentAccept[]): Plan {
    const { highest, collectedFloor } = promised;
    const nowMs = this.options.runtime.clock.nowMs();
    if (sent.length > 0) {
      const lineage = lineageOf(highest, collectedFloor);
      const entry = lineage.origins.find((origin) => origin.node === this.options.runtime.nodeId);
      const ours = entry === undefined ? undefined : sent.find((s) => compareBallots(entry, s.origin) === 0);
      if (ours !== undefined) {
        // Our value is in the lineage: make the current value chosen (identity) and answer
        // what our attempt computed.
        const proposal: Proposal = { value: highest!.value, ...lineage };
        return { kind: "accept", applied: { proposal, outcomes: ours.outcomes, changed: false } };
      }
      // The entry is this node's highest origin in the lineage: were an attempt of ours in
      // it, the entry would be that attempt or above it. Below the floor nothing is shown.
      const below = (s: SentAccept): boolean => compareBallots(s.origin, lineage.originsFloor) > 0 && (entry === undefined || compareBallots(entry, s.origin) < 0);
      if (!sent.every(below)) {
        return { kind: "answer", result: { ok: false, error: "indeterminate", message: "an accept of ours may have reached a minority and another round may have built on it" } };
      }
    }
    if (this.options.unsafeReadWithoutAccept && changes.every((change) => change.read)) {
      // The deliberately broken variant (test only): phase 1's highest value is not yet chosen.
      const value = isLive(highest?.value, nowMs) ? highest!.value : undefined;
      return { kind: "answer", result: { ok: true, outcomes: changes.map(() => ({ ok: true, change: { before: value, after: value } })) } };
    }
    const hlc = this.options.runtime.hlc;
    const applied = applyChanges({ highest, collectedFloor, changes, ballot, nowMs, stamp: (after) => Math.max(hlc.now(), after + 1) });
    return { kind: "accept", applied };
  }

  private prepare(key: Uint8Array, sets: NodeId[][], ballot: Ballot): Promise<PhaseOne> {
    const quorum = new PhaseQuorum(sets);
    let highest: AcceptedState | undefined;
    let collectedFloor = ballotZero;
    let above = ballotZero;
    let ringAbove = 0;
    return new Promise<PhaseOne>((resolve) => {
      const settle = (): void => {
        if (quorum.reached) resolve({ ok: true, highest, collectedFloor });
        else if (quorum.failed || quorum.complete) resolve({ ok: false, above, ringAbove, message: `prepare ${quorum.describe()} promised${ringNote(ringAbove)}` });
      };
      for (const node of quorum.nodes) {
        void this.client.prepare(node, key, ballot).then((answer) => {
          if (answer.kind === "ok") {
            const accepted = answer.reply.accepted;
            collectedFloor = maxBallot(collectedFloor, answer.reply.collectedFloor);
            if (accepted !== undefined && (highest === undefined || compareBallots(accepted.ballot, highest.ballot) > 0)) highest = accepted;
          } else if (answer.kind === "refused") {
            if (answer.promised !== undefined) above = maxBallot(above, answer.promised);
            if (answer.ringVersion !== undefined) ringAbove = Math.max(ringAbove, answer.ringVersion);
          }
          quorum.add(node, answer.kind === "ok");
          settle();
        });
      }
    });
  }

  private accept(key: Uint8Array, sets: NodeId[][], ballot: Ballot, proposal: Proposal, next: Ballot | undefined): Promise<PhaseTwo> {
    const quorum = new PhaseQuorum(sets);
    // Counted only when the accept asks for the next ballot's promise.
    const nextQuorum = next === undefined ? undefined : new PhaseQuorum(sets);
    let above = ballotZero;
    let ringAbove = 0;
    let refused = 0;
    let resolveUnanimous: (all: boolean) => void = () => undefined;
    const unanimous = new Promise<boolean>((resolve) => (resolveUnanimous = resolve));
    return new Promise<PhaseTwo>((resolve) => {
      const settle = (): void => {
        if (quorum.complete) resolveUnanimous(quorum.unanimous);
        if (quorum.reached) resolve({ ok: true, unanimous, nextPromised: nextQuorum?.reached === true });
        else if (quorum.failed || quorum.complete) {
          // Only an explicit refusal proves an acceptor did not store the value.
          const maybeStored = refused < quorum.nodes.length;
          resolve({ ok: false, above, ringAbove, maybeStored, message: `accept ${quorum.describe()} accepted${ringNote(ringAbove)}` });
        }
      };
      for (const node of quorum.nodes) {
        void this.client.accept(node, key, ballot, proposal, next).then((answer) => {
          nextQuorum?.add(node, answer.kind === "ok" && answer.reply.next);
          if (answer.kind === "refused") {
            refused++;
            if (answer.promised !== undefined) above = maxBallot(above, answer.promised);
            if (answer.ringVersion !== undefined) ringAbove = Math.max(ringAbove, answer.ringVersion);
          }
          quorum.add(node, answer.kind === "ok");
          settle();
        });
      }
    });
  }

  /** The GC step: only once every acceptor accepted the tombstone; otherwise it stays. */
  private collectWhen(unanimous: Promise<boolean>, key: Uint8Array, sets: NodeId[][], ballot: Ballot): void {
    void unanimous.then((all) => {
      if (!all) return;
      for (const node of new Set(sets.flat())) void this.client.collect(node, key, ballot);
    });
  }

  private backoff(attempt: number): Promise<void> {
    this.retryCounts.backoffs++;
    const { backoffBaseMs, backoffMaxMs } = this.options;
    const spanMs = Math.max(1, Math.min(backoffMaxMs, backoffBaseMs * 2 ** attempt));
    const delayMs = 1 + this.options.runtime.random.int(spanMs);
    return new Promise((resolve) => this.options.runtime.timers.setTimeout(resolve, delayMs));
  }
}

/** The same sets, each in the same order (what a held promise's placement must match). */
function sameSets(a: readonly (readonly NodeId[])[], b: readonly (readonly NodeId[])[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.length !== y.length) return false;
    for (let j = 0; j < x.length; j++) if (x[j] !== y[j]) return false;
  }
  return true;
}

function ringNote(ringAbove: number): string {
  return ringAbove > 0 ? ` (an acceptor is on ring version ${ringAbove})` : "";
}
