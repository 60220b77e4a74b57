import { assert } from "../assert.js";
import { KeyLocks, type KeyLocksOptions } from "../replica/key-locks.js";
import type { Runtime } from "../runtime/runtime.js";
import { metaKey } from "../storage/keyspace.js";
import type { WriteOp } from "../storage/storage-engine.js";
import { decodeAcceptorRecord, decodeAcceptorRecordHead, encodeAcceptedRecord, encodeAcceptorRecord, originsMax, type AcceptedState, type AcceptorRecord, type EncodedProposal, type Proposal } from "./acceptor-record.js";
import { ballotFromTuple, ballotToTuple, ballotZero, compareBallots, epochOf, maxBallot, type Ballot } from "./ballot.js";
import { lockKey } from "./lock-key.js";
import type { StrongVersioned } from "./strong-coordinator.js";
import { Packr } from "msgpackr";

/**
 * The acceptor of CASPaxos (Rystsov 2018, section 2.2) for every key this node holds, over
 * runtime.storage. Three steps, each under the key's lock and durable before it answers, so a
 * crash can never make an acceptor forget a promise or an accept it already answered:
 *
 * - prepare(b): refuse unless b is above everything promised; else promise b and return what
 *   was accepted (ballot and value).
 * - accept(b, v, next?): refuse if b is below the promise; else store (b, v) and promise b,
 *   or (the piggybacked prepare, README "One round trip for a proposer's next change") promise
 *   `next`, the same proposer's next ballot, in memory like a prepare's promise.
 * - collect(b): the GC step of a delete. The proposer sends it only after every acceptor of
 *   the key accepted the tombstone at b. If this acceptor still holds exactly that tombstone,
 *   drop the key's record and raise the ballot floor of the key's bucket to the highest ballot
 *   the record had promised or accepted. Every later prepare or accept at or below the floor is
 *   refused, so a stale accept or prepare that arrives after the removal cannot bring an old
 *   value back: it is refused as if the record were still there. A key without a record reads
 *   as "nothing accepted", which is what the tombstone meant, and a proposer refused by the
 *   floor learns it and bids above it.
 *
 * Each bucket keeps two floors: `floor` (refuse at or below; the highest ballot a dropped record
 * promised or accepted) and `collectedFloor` (the highest tombstone ballot dropped), which a
 * proposer uses to prove that a history it cannot see was not built on its own value.
 *
 * Floors are kept per bucket of keys (a hash of the item key), so dropping records frees their
 * space while the floors stay a fixed, small number of entries.
 *
 * Promises without a write per prepare (README, "Promises in memory"): a prepare's promise is
 * kept in memory (bounded; an evicted promise raises `evictedFloor`, which every key without
 * an entry then honours). Before answering a promise above the durable *reservation* (one
 * node-wide ballot), the acceptor raises the reservation durably to the ballot plus
 * `reservationMs` of clock counter. After a restart every ballot at or below the stored
 * reservation is refused (`restartFloor`), which covers every promise the crash forgot. An
 * accept still stores its ballot as the record's promise, durably, before it answers.
 *
 * Ring-version fencing (README, "Ring-version fencing"): a ballot's epoch is the ring version
 * its proposer placed the key on. prepare and accept refuse ("ring", with this node's version)
 * a ballot whose epoch is below this node's ring version (the caller passes it) or below the
 * node's fence, a durable version `fence(v)` raises: the ownership transfer raises it on an old
 * acceptor before scanning its keys, so no proposer of an older ring can store anything there
 * that the scan misses. `fence` waits for the prepares and accepts that passed the old fence
 * to finish, so once it answers, everything an older epoch ever stored here is on disk.
 */
export interface AcceptorServiceOptions {
  runtime: Runtime;
  /** Buckets of ballot floors (a fixed number of small meta entries). */
  floorBuckets?: number;
  /** Bounds on keys locked at once and waiters per key (past them: "overloaded"). */
  locks?: KeyLocksOptions;
  /** Keys whose promise is kept in memory only; past it the oldest is dropped into `evictedFloor`. */
  promisesInMemoryMax?: number;
  /** How far (in clock milliseconds of ballot counter) a durable reservation reaches past the ballot that raised it. */
  reservationMs?: number;
  /**
   * Test only, unsafe: an accept at a ballot this acceptor piggybacked as a promise is taken
   * even after a higher prepare (the broken variant the checker must catch).
   */
  unsafeKeepPiggybackedPromises?: boolean;
}

export const acceptorDefaults = Object.freeze({ floorBuckets: 1024, locks: Object.freeze({ keysMax: 100_000, waitersPerKeyMax: 1024 }), promisesInMemoryMax: 100_000, reservationMs: 5_000 });

/** Ballot counters are HLC timestamps: 1024 per millisecond (versioning/hybrid-logical-clock.ts). */
const counterPerMs = 1024;

export type AcceptorRefusal = { ok: false; refusal: "ballot"; promised: Ballot } | { ok: false; refusal: "ring"; ringVersion: number } | { ok: false; refusal: "overloaded" };
/**
 * A promise carries, besides what was accepted, the key's collected floor: every ballot of a
 * lineage the GC step removed from this acceptor is at or below it (see AcceptedState.originsFloor).
 */
export type PrepareReply = { ok: true; accepted: AcceptedState | undefined; collectedFloor: Ballot } | AcceptorRefusal;
/** `next: true`: the accept also promised the proposer's next ballot (only when asked). */
export type AcceptReply = { ok: true; next?: true } | AcceptorRefusal;
export type CollectReply = { ok: true; dropped: boolean } | { ok: false; refusal: "overloaded" };
export type FenceReply = { ok: true; fence: number };
/** What was accepted (ballot undefined: nothing, or collected), without promising anything. */
export type PeekReply = { ok: true; ballot: Ballot | undefined; value: StrongVersioned | undefined } | AcceptorRefusal;

/** What a whole local round (`alone`) sees of the key. */
export interface AloneView {
  record: AcceptorRecord | undefined;
  /** Every ballot at or below it is refused here (promises, floors). */
  promised: Ballot;
  collectedFloor: Ballot;
}

interface Floors {
  floor: Ballot;
  collectedFloor: Ballot;
}

const floorPackr = new Packr({ useRecords: false, moreTypes: false, structuredClone: false });

export class AcceptorService {
  private readonly runtime: Runtime;
  private readonly floorBuckets: number;
  private readonly locks: KeyLocks;
  /** The durable ring fence (see the module comment); loaded once, raised by `fence`. */
  private fenceVersion: number;
  /** Prepares and accepts past the fence check and not finished (what `fence` waits for). */
  private readonly inFlight = new Set<Promise<unknown>>();
  /**
   * Promises not on disk, by lock key (insertion order: oldest first, for eviction). An entry is
   * always at or above the promise of the key's stored record: a prepare's is above every
   * promise, an accept replaces it with its next ballot or drops it once its record (promise =
   * its ballot) is stored, a failed store raises it (`storeKeepingPromises`), and only this
   * service writes records (others only delete them). So an accept that finds an entry needs
   * not read the record to know the key's promise.
   */
  private readonly promises = new Map<string, Ballot>();
  private readonly promisesMax: number;
  /** The highest promise evicted from `promises`: a key without an entry may have promised up to it. */
  private evictedFloor: Ballot = ballotZero;
  /** The durable reservation: every promise answered is at or below it. */
  private reserved: Ballot;
  private reserving: Promise<void> | undefined;
  private readonly reservationCounter: number;
  /** The reservation stored when this incarnation started: refused at or below (covers forgotten promises). */
  private readonly restartFloor: Ballot;
  /** Each bucket's floors once read (at most `floorBuckets` entries; see `floorsOfBucket`). */
  private readonly floorsCache: (Floors | undefined)[] = [];
  /** Records to store in the next storage write, and that write (see `store`). */
  private storesPending: WriteOp[] = [];
  private storesWrite: Promise<void> | undefined;
  /** Storage writes of records, and the records they held (for tests and metrics). */
  readonly storeCounts = { writes: 0, records: 0 };
  /** Test only (unsafeKeepPiggybackedPromises): the piggybacked promise per key, honoured whatever came after. */
  private readonly unsafePiggybacked: Map<string, Ballot> | undefined;

  constructor(options: AcceptorServiceOptions) {
    this.runtime = options.runtime;
    this.floorBuckets = options.floorBuckets ?? acceptorDefaults.floorBuckets;
    assert(Number.isSafeInteger(this.floorBuckets) && this.floorBuckets > 0, `floorBuckets must be a positive integer, got ${this.floorBuckets}`);
    this.locks = new KeyLocks(options.locks ?? acceptorDefaults.locks);
    this.fenceVersion = this.loadFence();
    this.promisesMax = options.promisesInMemoryMax ?? acceptorDefaults.promisesInMemoryMax;
    assert(Number.isSafeInteger(this.promisesMax) && this.promisesMax > 0, `promisesInMemoryMax must be a positive integer, got ${this.promisesMax}`);
    const reservationMs = options.reservationMs ?? acceptorDefaults.reservationMs;
    assert(Number.isSafeInteger(reservationMs) && reservationMs >= 0, `reservationMs must be a non-negative integer, got ${reservationMs}`);
    this.reservationCounter = reservationMs * counterPerMs;
    this.restartFloor = this.loadReservation();
    this.reserved = this.restartFloor;
    this.unsafePiggybacked = options.unsafeKeepPiggybackedPromises === true ? new Map() : undefined;
  }

  /**
   * Raises the ring fence to `ringVersion` (never lowers it): from its answer on, every
   * prepare or accept with a lower epoch is refused, and every one that passed the old fence
   * has finished (stored or refused).
   */
  async fence(ringVersion: number): Promise<FenceReply> {
    assert(Number.isSafeInteger(ringVersion) && ringVersion >= 0, `fence: ring version ${ringVersion} is not a non-negative safe integer`);
    if (ringVersion > this.fenceVersion) {
      this.fenceVersion = ringVersion;
      await this.runtime.storage.write([{ type: "put", key: fenceKey, value: floorPackr.pack(ringVersion) }], { durable: true });
    }
    await Promise.allSettled([...this.inFlight]);
    return { ok: true, fence: this.fenceVersion };
  }

  /** The node's durable ring fence (0: never raised). */
  get ringFence(): number {
    return this.fenceVersion;
  }

  /**
   * `ringVersion`: this node's ring version (the acceptor refuses older epochs); undefined or
   * 0 when the node has none (then only the durable fence counts).
   */
  prepare(key: Uint8Array, ballot: Ballot, ringVersion = 0): Promise<PrepareReply> {
    const stale = this.staleEpoch(ballot, ringVersion);
    if (stale !== undefined) return Promise.resolve(stale);
    const id = lockKey(key);
    return this.tracked(this.underLocks<PrepareReply>([id], async () => {
      const again = this.staleEpoch(ballot, ringVersion);
      if (again !== undefined) return again;
      const record = this.load(key);
      const floors = this.floorsOfBucket(this.bucketOf(key));
      const promised = maxBallot(this.promiseOf(id, record), maxBallot(floors.floor, this.restartFloor));
      if (compareBallots(ballot, promised) <= 0) return { ok: false, refusal: "ballot", promised };
      if (compareBallots(ballot, this.reserved) > 0) await this.reserve(ballot);
      this.remember(id, ballot);
      return { ok: true, accepted: record?.accepted, collectedFloor: floors.collectedFloor };
    }));
  }

  /**
   * Stores (ballot, proposal) if `ballot` is at or above the key's promise. With `next` (a
   * later ballot of the same proposer and epoch), the accept also promises `next`, in memory
   * under the durable reservation like a prepare's promise, and says so (`next: true`): the
   * piggybacked prepare (README, "One round trip for a proposer's next change"). What it
   * reports with that promise is what it just accepted. A malformed `next` is not promised.
   */
  accept(key: Uint8Array, ballot: Ballot, proposal: Proposal | EncodedProposal, ringVersion = 0, next?: Ballot): Promise<AcceptReply> {
    // An encoded proposal was checked where it was built (encodeProposal, readAcceptBody).
    const encoded = "encoded" in proposal ? proposal : undefined;
    if (encoded === undefined) assert((proposal as Proposal).origins.length <= originsMax, `accept: ${(proposal as Proposal).origins.length} origins; the bound is ${originsMax}`);
    const stale = this.staleEpoch(ballot, ringVersion);
    if (stale !== undefined) return Promise.resolve(stale);
    const id = lockKey(key);
    return this.tracked(this.underLocks<AcceptReply>([id], async () => {
      const again = this.staleEpoch(ballot, ringVersion);
      if (again !== undefined) return again;
      // A promise in memory is at least the stored record's (see `promises`), so the record is
      // read only without one (its two ballots, not the value and lineage it would replace), or
      // below to answer a refusal.
      const inMemory = this.promises.get(id);
      let record = inMemory === undefined ? this.loadHead(key) : undefined;
      const floor = maxBallot(this.floor(key), this.restartFloor);
      const own = inMemory ?? maxBallot(record?.promised ?? ballotZero, this.evictedFloor);
      const promised = maxBallot(own, floor);
      const unsafeHonoured = this.unsafePiggybacked !== undefined && compareBallots(this.unsafePiggybacked.get(id) ?? ballotZero, ballot) === 0;
      // Equal to the promise is the normal case (the proposer's own prepare); at or below the
      // floor is a round from before the key's records were collected, or from before a restart.
      if ((compareBallots(ballot, own) < 0 && !unsafeHonoured) || compareBallots(ballot, floor) <= 0) {
        // A second delivery of an accept this acceptor stored (networks duplicate messages): it
        // did accept that round (a ballot names one value), so it answers as it did the first
        // time. Its own piggybacked promise of `next` would otherwise refuse the copy, and a
        // proposer that saw that refusal first would take the stored accept for one never made.
        record ??= this.loadHead(key);
        if (record?.acceptedBallot !== undefined && compareBallots(record.acceptedBallot, ballot) === 0 && compareBallots(ballot, floor) > 0) {
          const nextHeld = next !== undefined && compareBallots(this.promises.get(id) ?? ballotZero, next) === 0;
          return nextHeld ? { ok: true, next: true } : { ok: true };
        }
        return { ok: false, refusal: "ballot", promised };
      }
      const acceptedAtMs = Math.floor(this.runtime.clock.nowMs());
      let bytes: Uint8Array;
      if (encoded !== undefined) bytes = encodeAcceptedRecord(ballot, acceptedAtMs, encoded);
      else {
        // Built field by field (one shape; a spread of the wire's object costs more).
        const plain = proposal as Proposal;
        const accepted: AcceptedState = { ballot, value: plain.value, acceptedAtMs, origins: plain.origins, originsFloor: plain.originsFloor };
        bytes = encodeAcceptorRecord({ promised: ballot, accepted });
      }
      await this.storeKeepingPromises(key, id, ballot, bytes);
      this.promises.delete(id);
      this.unsafePiggybacked?.delete(id);
      if (next === undefined || !isNextOf(next, ballot)) return { ok: true };
      // Within the reservation (the common case) nothing is written and nothing awaited.
      if (compareBallots(next, this.reserved) > 0) await this.reserve(next);
      this.remember(id, next);
      this.unsafePiggybacked?.set(id, next);
      return { ok: true, next: true };
    }));
  }

  /**
   * The key's promise as this acceptor holds it in memory (undefined: none, or evicted). A
   * proposer on this node reads its own acceptor's entry to tell whether the promise it was
   * piggybacked is still the newest here (a hint only: safety is the acceptors' refusals).
   */
  promiseInMemory(key: Uint8Array): Ballot | undefined {
    return this.promises.get(lockKey(key));
  }

  /** `promiseInMemory` by the key's lockKey (a caller that has it already). */
  promiseInMemoryOf(id: string): Ballot | undefined {
    return this.promises.get(id);
  }

  /**
   * The accepted ballot and value, written nowhere (the one-round-trip read, README "A
   * one-round-trip read"). Under the key's lock, so it never sees a prepare or accept that is
   * not durable yet. `epoch` is the reader's ring version: older than this node's ring or
   * fence, it is refused like a round of that epoch.
   */
  peek(key: Uint8Array, epoch: number, ringVersion = 0): Promise<PeekReply> {
    const stale = this.staleEpoch({ epoch, counter: 0, node: "" }, ringVersion);
    if (stale !== undefined) return Promise.resolve(stale);
    return this.underLocks<PeekReply>([lockKey(key)], () => {
      const accepted = this.load(key)?.accepted;
      return Promise.resolve({ ok: true, ballot: accepted?.ballot, value: accepted?.value });
    });
  }

  /** A tombstone of an older epoch than this node's ring or fence stays (collected later, if ever). */
  collect(key: Uint8Array, ballot: Ballot, ringVersion = 0): Promise<CollectReply> {
    const bucket = this.bucketOf(key);
    return this.underLocks<CollectReply>([lockKey(key), `floor ${bucket}`], async () => {
      if (this.staleEpoch(ballot, ringVersion) !== undefined) return { ok: true, dropped: false };
      const record = this.load(key);
      const accepted = record?.accepted;
      if (record === undefined || accepted === undefined || accepted.value !== undefined || compareBallots(accepted.ballot, ballot) !== 0) return { ok: true, dropped: false };
      const floors = this.floorsOfBucket(bucket);
      const raised: Floors = {
        floor: maxBallot(floors.floor, maxBallot(this.promiseOf(lockKey(key), record), accepted.ballot)),
        collectedFloor: maxBallot(floors.collectedFloor, accepted.ballot),
      };
      const ops: WriteOp[] = [
        { type: "delete", key },
        { type: "put", key: floorKey(bucket), value: floorPackr.pack([ballotToTuple(raised.floor), ballotToTuple(raised.collectedFloor)]) },
      ];
      // The copy moves with the write (the storage shows it from its commit on); a failed write
      // leaves the copy to be read again from storage.
      this.floorsCache[bucket] = raised;
      try {
        await this.runtime.storage.write(ops, { durable: true });
      } catch (error) {
        this.floorsCache[bucket] = undefined;
        throw error;
      }
      this.promises.delete(lockKey(key));
      return { ok: true, dropped: true };
    });
  }

  /** This acceptor's record of `key` (an eventual read, a test's inspection), with its promise in memory. */
  record(key: Uint8Array): AcceptorRecord | undefined {
    const record = this.load(key);
    const inMemory = this.promises.get(lockKey(key));
    if (inMemory === undefined) return record;
    return { promised: maxBallot(record?.promised ?? ballotZero, inMemory), accepted: record?.accepted };
  }

  /**
   * The acceptor's side of a round that is whole at this acceptor, because it is the key's only
   * acceptor (local-change.ts; README, "One local write"): `step` runs under the key's lock,
   * tracked like prepare and accept (so `fence` waits for it), and is refused like them ("ring")
   * when `epoch` is older than this node's ring version or its fence. It sees the record, the
   * ballot every new one must be above (the record's promise, the promise in memory or the
   * evicted floor, the bucket floor, the restart floor) and the collected floor; the record it
   * returns, if any, is stored durably in one write before the answer. The protocol is the
   * step's: a record whose promise is below `promised` breaks Paxos.
   */
  alone<R>(key: Uint8Array, epoch: number, ringVersion: number, step: (seen: AloneView) => { store?: AcceptorRecord; answer: R }): Promise<R | AcceptorRefusal> {
    const probe: Ballot = { epoch, counter: 0, node: "" };
    const stale = this.staleEpoch(probe, ringVersion);
    if (stale !== undefined) return Promise.resolve(stale);
    return this.tracked(this.underLocks<R | AcceptorRefusal>([lockKey(key)], async () => {
      const again = this.staleEpoch(probe, ringVersion);
      if (again !== undefined) return again;
      const record = this.load(key);
      const floors = this.floorsOfBucket(this.bucketOf(key));
      const promised = maxBallot(this.promiseOf(lockKey(key), record), maxBallot(floors.floor, this.restartFloor));
      const { store, answer } = step({ record, promised, collectedFloor: floors.collectedFloor });
      if (store === undefined) return answer;
      const id = lockKey(key);
      await this.storeKeepingPromises(key, id, store.promised, encodeAcceptorRecord(store));
      const inMemory = this.promises.get(id);
      if (inMemory !== undefined && compareBallots(store.promised, inMemory) >= 0) this.promises.delete(id);
      this.unsafePiggybacked?.delete(id);
      return answer;
    }));
  }

  /** The key's promise: on disk, in memory, or (evicted from memory) at most `evictedFloor`. */
  private promiseOf(id: string, record: AcceptorRecord | undefined): Ballot {
    const onDisk = record?.promised ?? ballotZero;
    const inMemory = this.promises.get(id);
    return maxBallot(onDisk, inMemory ?? this.evictedFloor);
  }

  private remember(id: string, ballot: Ballot): void {
    this.promises.delete(id);
    this.promises.set(id, ballot);
    while (this.promises.size > this.promisesMax) {
      const [oldest, promise] = this.promises.entries().next().value as [string, Ballot];
      this.promises.delete(oldest);
      this.evictedFloor = maxBallot(this.evictedFloor, promise);
    }
  }

  /** Raises the durable reservation above `ballot` (one write per `reservationMs` of ballots). */
  private async reserve(ballot: Ballot): Promise<void> {
    while (compareBallots(ballot, this.reserved) > 0) {
      if (this.reserving !== undefined) {
        await this.reserving;
        continue;
      }
      const target: Ballot = { ...(ballot.epoch === undefined ? {} : { epoch: ballot.epoch }), counter: ballot.counter + this.reservationCounter, node: "" };
      this.reserving = this.runtime.storage
        .write([{ type: "put", key: reservationKey, value: floorPackr.pack(ballotToTuple(target)) }], { durable: true })
        .then(() => {
          this.reserved = maxBallot(this.reserved, target);
        })
        .finally(() => (this.reserving = undefined));
      await this.reserving;
    }
  }

  private loadReservation(): Ballot {
    const bytes = this.runtime.storage.get(reservationKey);
    if (bytes === undefined) return ballotZero;
    const reserved = ballotFromTuple(floorPackr.unpack(bytes));
    assert(reserved !== undefined, "the paxos promise reservation is malformed");
    return reserved;
  }

  /** The ballot at or below which this acceptor refuses every round on `key`. */
  floor(key: Uint8Array): Ballot {
    return this.floorsOfBucket(this.bucketOf(key)).floor;
  }

  /** A "ring" refusal when `ballot`'s epoch is below this node's ring version or its fence. */
  private staleEpoch(ballot: Ballot, ringVersion: number): { ok: false; refusal: "ring"; ringVersion: number } | undefined {
    const newest = Math.max(ringVersion, this.fenceVersion);
    return epochOf(ballot) < newest ? { ok: false, refusal: "ring", ringVersion: newest } : undefined;
  }

  private tracked<R>(work: Promise<R>): Promise<R> {
    this.inFlight.add(work);
    // One reaction for both outcomes (this runs for every prepare and accept).
    const done = (): void => void this.inFlight.delete(work);
    void work.then(done, done);
    return work;
  }

  private loadFence(): number {
    const bytes = this.runtime.storage.get(fenceKey);
    if (bytes === undefined) return 0;
    const version: unknown = floorPackr.unpack(bytes);
    assert(typeof version === "number" && Number.isSafeInteger(version) && version >= 0, "the paxos ring fence is not a non-negative integer");
    return version;
  }

  private load(key: Uint8Array): AcceptorRecord | undefined {
    const bytes = this.runtime.storage.get(key);
    return bytes === undefined ? undefined : decodeAcceptorRecord(bytes);
  }

  /**
   * Stores `record` durably. Every record stored while the current microtasks run (the items
   * of one "paxos.batch", which all start at once; accepts of one incoming frame batch) goes
   * into ONE storage write: one commit and one durable flush for all of them, and each caller
   * is answered only once that write is durable (a crash before it answers none of them and
   * keeps none). A key is stored at most once per write: its lock is held until its write is durable.
   */
  private store(key: Uint8Array, record: Uint8Array): Promise<void> {
    this.storesPending.push({ type: "put", key, value: record });
    if (this.storesWrite === undefined) {
      this.storesWrite = Promise.resolve().then(() => {
        const ops = this.storesPending;
        this.storesPending = [];
        this.storesWrite = undefined;
        this.storeCounts.writes++;
        this.storeCounts.records += ops.length;
        return this.runtime.storage.write(ops, { durable: true });
      });
    }
    return this.storesWrite;
  }

  /** The stored record's two ballots (prepare's and accept's question), or undefined. */
  private loadHead(key: Uint8Array): { promised: Ballot; acceptedBallot: Ballot | undefined } | undefined {
    const bytes = this.runtime.storage.get(key);
    return bytes === undefined ? undefined : decodeAcceptorRecordHead(bytes);
  }

  /**
   * `store`, keeping the rule that a key's promise in memory is at least its stored record's
   * (what lets an accept skip reading the record): a failed write may still have been stored,
   * so the entry is raised to the record's promise before the failure goes on. The key's lock
   * is held, and the raised promise was answered to nobody (a raise only refuses more).
   */
  private async storeKeepingPromises(key: Uint8Array, id: string, promised: Ballot, record: Uint8Array): Promise<void> {
    try {
      await this.store(key, record);
    } catch (error) {
      const inMemory = this.promises.get(id);
      if (inMemory !== undefined && compareBallots(inMemory, promised) < 0) this.promises.set(id, promised);
      throw error;
    }
  }

  /**
   * A bucket's floors: read from storage once, then kept (this service is the only writer of
   * floor entries, and `collect` updates the copy under the bucket's lock when it writes them).
   */
  private floorsOfBucket(bucket: number): Floors {
    const cached = this.floorsCache[bucket];
    if (cached !== undefined) return cached;
    const floors = this.readFloors(bucket);
    this.floorsCache[bucket] = floors;
    return floors;
  }

  private readFloors(bucket: number): Floors {
    const bytes = this.runtime.storage.get(floorKey(bucket));
    if (bytes === undefined) return { floor: ballotZero, collectedFloor: ballotZero };
    const fields: unknown = floorPackr.unpack(bytes);
    assert(Array.isArray(fields) && fields.length === 2, `ballot floors of bucket ${bucket} are not a pair`);
    const floor = ballotFromTuple(fields[0]);
    const collectedFloor = ballotFromTuple(fields[1]);
    assert(floor !== undefined && collectedFloor !== undefined, `ballot floors of bucket ${bucket} are malformed`);
    return { floor, collectedFloor };
  }

  private bucketOf(key: Uint8Array): number {
    return fnv1a32(key) % this.floorBuckets;
  }

  private async underLocks<R>(keys: string[], work: () => Promise<R>): Promise<R | { ok: false; refusal: "overloaded" }> {
    // A free single key is taken at once (no promise): the common case of prepare and accept.
    if (!(keys.length === 1 && this.locks.tryAcquireOne(keys[0]!)) && !(await this.locks.acquire(keys))) return { ok: false, refusal: "overloaded" };
    try {
      return await work();
    } finally {
      this.locks.release(keys);
    }
  }
}

/** A piggybacked promise is only for the accepting proposer's own later ballot in the same epoch. */
function isNextOf(next: Ballot, ballot: Ballot): boolean {
  return next.node === ballot.node && epochOf(next) === epochOf(ballot) && compareBallots(next, ballot) > 0;
}

const fenceKey = metaKey("paxos.fence");
const reservationKey = metaKey("paxos.reserved");

/** Floor entries' keys, built once per bucket (every prepare and accept reads one). */
const floorKeys = new Map<number, Uint8Array>();

function floorKey(bucket: number): Uint8Array {
  let key = floorKeys.get(bucket);
  if (key === undefined) {
    key = metaKey(`paxos.floor.${bucket}`);
    if (floorKeys.size < floorKeysMax) floorKeys.set(bucket, key);
  }
  return key;
}

/** Bounds the shared key cache (the default is 1024 buckets). */
const floorKeysMax = 4096;

/** FNV-1a, 32 bits: spreads item keys over the floor buckets. */
function fnv1a32(bytes: Uint8Array): number {
  let hash = 0x811c9dc5;
  for (const byte of bytes) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash;
}
