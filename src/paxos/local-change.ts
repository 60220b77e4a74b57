import { AssertionError } from "../assert.js";
import type { Runtime } from "../runtime/runtime.js";
import type { AcceptedState } from "./acceptor-record.js";
import type { AcceptorService } from "./acceptor-service.js";
import { ballotZero, nextBallot, type Ballot } from "./ballot.js";
import { applyChanges, type AppliedBatch, type PendingChange } from "./change-batch.js";
import type { Peeked } from "./paxos-messages.js";
import type { BatchResult, RoundPlacement } from "./proposer.js";

/**
 * One local durable write for a key whose only acceptor is this node (README, "One local
 * write"): when every acceptor set of the key's placement (the current ring's, and the
 * previous ring's while its partition moves) is exactly this node, a batch of changes is one
 * atomic step at this node's acceptor, under the key's lock: take a ballot above everything the
 * acceptor promised (and its floors), read what it accepted, apply the changes, store (ballot,
 * value) as both the promise and the accepted value in one durable write, answer. That is a
 * whole CASPaxos round, prepare and accept at one ballot with nothing between them, at a
 * majority of one. Remote proposers that use the ordinary rounds on this acceptor interleave
 * through the same lock and the same promises.
 *
 * Anything that would need the ordinary path (another placement; a promise of a newer ring, so
 * this node's ring is behind; a "ring" or "overloaded" refusal, e.g. a relearning acceptor) is
 * answered `undefined` with nothing stored, and the caller runs the proposer's rounds, which
 * back off, retry and answer as they always do. A storage write that failed may still have
 * been stored: "indeterminate".
 *
 * Reads: `peek` is the one-round-trip read at this acceptor alone (README, "A one-round-trip
 * read", with M = {this node}).
 */
export interface LocalChangeOptions {
  runtime: Runtime;
  /** This node's acceptor (as the coordinator uses it: gated while relearning). */
  acceptors: AcceptorService;
  /** This node's ring version (its acceptor refuses older epochs). */
  ringVersion: () => number;
  /** false: a tombstone is never collected (StrongCoordinatorOptions.collectTombstones). */
  collectTombstones: boolean;
  /**
   * Test only, unsafe: the ballot bump skips the promises and the clock: one counter above the
   * accepted ballot (the broken variant the checker must catch: a remote proposer's promise is
   * ignored, and its accept then overwrites this change).
   */
  unsafeIgnorePromises?: boolean;
}

export class LocalChange {
  /** Batches done here in one write, and batches handed back to the ordinary rounds (tests, metrics). */
  readonly counts = { local: 0, handedBack: 0 };
  /** The highest ballot counter this path issued: its ballots only grow (as the proposer's). */
  private lastCounter = 0;

  constructor(private readonly options: LocalChangeOptions) {}

  /** Whether every acceptor set of `placed` is exactly this node. */
  applies(placed: RoundPlacement): boolean {
    const self = this.options.runtime.nodeId;
    return placed.sets.length > 0 && placed.sets.every((set) => set.length === 1 && set[0] === self);
  }

  /**
   * Runs the batch as one local round; undefined (nothing stored) when the ordinary rounds must
   * run instead. The caller serializes batches per key (StrongCoordinator's queue) and checked
   * `applies(placed)`.
   */
  async run(key: Uint8Array, placed: RoundPlacement, changes: readonly PendingChange[]): Promise<BatchResult | undefined> {
    const { runtime, acceptors } = this.options;
    let reply;
    try {
      reply = await acceptors.alone<{ ballot: Ballot; applied: AppliedBatch } | undefined>(key, placed.epoch, this.options.ringVersion(), (seen) => {
        const accepted = seen.record?.accepted;
        const ballot = this.options.unsafeIgnorePromises === true ? unsafeBallot(accepted?.ballot ?? ballotZero, runtime.nodeId, placed.epoch) : this.issue(seen.promised, placed.epoch);
        // A promise of a newer ring: this node's ring is behind; the ordinary rounds wait for it.
        if (ballot === undefined) return { answer: undefined };
        const nowMs = runtime.clock.nowMs();
        const applied = applyChanges({ highest: accepted, collectedFloor: seen.collectedFloor, changes, ballot, nowMs, stamp: (after) => Math.max(runtime.hlc.now(), after + 1) });
        const { value, origins, originsFloor } = applied.proposal;
        // One literal of the record's final shape (a spread plus two members is two hidden-class steps).
        const state: AcceptedState = { ballot, value, acceptedAtMs: Math.floor(nowMs), origins, originsFloor };
        return { store: { promised: ballot, accepted: state }, answer: { ballot, applied } };
      });
    } catch (error) {
      if (error instanceof AssertionError) throw error;
      this.counts.local++;
      return { ok: false, error: "indeterminate", message: `the local accept's write failed, so it may or may not be stored: ${error instanceof Error ? error.message : String(error)}` };
    }
    if (reply === undefined || "refusal" in reply) {
      this.counts.handedBack++;
      return undefined;
    }
    this.counts.local++;
    const { ballot, applied } = reply;
    // Every acceptor (this one) accepted the tombstone: the GC step may collect it at once.
    if (applied.proposal.value === undefined && this.options.collectTombstones) {
      void acceptors.collect(key, ballot, this.options.ringVersion()).catch((error: unknown) => {
        if (error instanceof AssertionError) throw error;
      });
    }
    return { ok: true, outcomes: applied.outcomes };
  }

  /**
   * What this acceptor accepted, read under the key's lock and written nowhere: with a majority
   * of one, the chosen value (README, "A one-round-trip read"). Undefined when refused (the
   * caller runs the full round).
   */
  async peek(key: Uint8Array, placed: RoundPlacement): Promise<Peeked | undefined> {
    const reply = await this.options.acceptors.peek(key, placed.epoch, this.options.ringVersion());
    return reply.ok ? { ballot: reply.ballot, value: reply.value } : undefined;
  }

  /** A ballot of this node above `above`, the clock and every ballot this path issued; undefined when `above` is of a newer epoch. */
  private issue(above: Ballot, epoch: number): Ballot | undefined {
    const clockCounter = Math.max(this.options.runtime.hlc.now(), this.lastCounter + 1);
    const ballot = nextBallot({ clockCounter, above, node: this.options.runtime.nodeId, epoch });
    if (ballot !== undefined) this.lastCounter = Math.max(this.lastCounter, ballot.counter);
    return ballot;
  }
}

/** The broken variant's ballot (test only): one counter above `accepted`, promises and clock ignored. */
function unsafeBallot(accepted: Ballot, node: string, epoch: number): Ballot | undefined {
  return nextBallot({ clockCounter: 1, above: accepted, node, epoch });
}
