import { assert } from "../assert.js";
import { KeyLocks, type KeyLocksOptions } from "../replica/key-locks.js";
import type { Runtime } from "../runtime/runtime.js";
import { metaKey } from "../storage/keyspace.js";
import type { WriteOp } from "../storage/storage-engine.js";
import { decodeAcceptorRecord, encodeAcceptorRecord, originsMax, type AcceptedState, type AcceptorRecord, type Proposal } from "./acceptor-record.js";
import { ballotFromTuple, ballotToTuple, ballotZero, compareBallots, maxBallot, type Ballot } from "./ballot.js";
import { lockKey } from "./lock-key.js";
import { Packr } from "msgpackr";

/**
 * The acceptor of CASPaxos (Rystsov 2018, section 2.2) for every key this node holds, over
 * runtime.storage. Three steps, each under the key's lock and durable before it answers, so a
 * crash can never make an acceptor forget a promise or an accept it already answered:
 *
 * - prepare(b): refuse unless b is above everything promised; else promise b and return what
 *   was accepted (ballot and value).
 * - accept(b, v): refuse if b is below the promise; else store (b, v) and promise b.
 * - collect(b): the GC step of a delete. The proposer sends it only after every acceptor of
 *   the key accepted the tombstone at b. If this acceptor still holds exactly that tombstone,
 *   drop the key's record and raise the ballot floor of the key's bucket to the highest ballot
 *   the record had promised or accepted. Every later prepare or accept at or below the floor is
 *   refused, so a stale accept or prepare that arrives after the removal cannot bring an old
 *   value back: it is refused as if the record were still there. A key without a record reads
 *   as "nothing accepted", which is what the tombstone meant, and a proposer refused by the
 *   floor learns it and bids above it.
 *
 * Floors are kept per bucket of keys (a hash of the item key), so dropping records frees their
 * space while the floors stay a fixed, small number of entries.
 */
export interface AcceptorServiceOptions {
  runtime: Runtime;
  /** Buckets of ballot floors (a fixed number of small meta entries). */
  floorBuckets?: number;
  /** Bounds on keys locked at once and waiters per key (past them: "overloaded"). */
  locks?: KeyLocksOptions;
}

export const acceptorDefaults = Object.freeze({ floorBuckets: 1024, locks: Object.freeze({ keysMax: 100_000, waitersPerKeyMax: 1024 }) });

export type AcceptorRefusal = { ok: false; refusal: "ballot"; promised: Ballot } | { ok: false; refusal: "overloaded" };
export type PrepareReply = { ok: true; accepted: AcceptedState | undefined } | AcceptorRefusal;
export type AcceptReply = { ok: true } | AcceptorRefusal;
export type CollectReply = { ok: true; dropped: boolean } | { ok: false; refusal: "overloaded" };

const floorPackr = new Packr({ useRecords: false, moreTypes: false, structuredClone: false });

export class AcceptorService {
  private readonly runtime: Runtime;
  private readonly floorBuckets: number;
  private readonly locks: KeyLocks;

  constructor(options: AcceptorServiceOptions) {
    this.runtime = options.runtime;
    this.floorBuckets = options.floorBuckets ?? acceptorDefaults.floorBuckets;
    assert(Number.isSafeInteger(this.floorBuckets) && this.floorBuckets > 0, `floorBuckets must be a positive integer, got ${this.floorBuckets}`);
    this.locks = new KeyLocks(options.locks ?? acceptorDefaults.locks);
  }

  prepare(key: Uint8Array, ballot: Ballot): Promise<PrepareReply> {
    return this.underLocks<PrepareReply>([lockKey(key)], async () => {
      const record = this.load(key);
      const promised = this.promisedFor(key, record);
      if (compareBallots(ballot, promised) <= 0) return { ok: false, refusal: "ballot", promised };
      await this.store(key, { promised: ballot, accepted: record?.accepted });
      return { ok: true, accepted: record?.accepted };
    });
  }

  accept(key: Uint8Array, ballot: Ballot, proposal: Proposal): Promise<AcceptReply> {
    assert(proposal.origins.length <= originsMax, `accept: ${proposal.origins.length} origins; the bound is ${originsMax}`);
    return this.underLocks<AcceptReply>([lockKey(key)], async () => {
      const record = this.load(key);
      const promised = this.promisedFor(key, record);
      const floor = this.floor(key);
      // Equal to the promise is the normal case (the proposer's own prepare); at or below the
      // floor is a round from before the key's records were collected.
      if (compareBallots(ballot, record?.promised ?? ballotZero) < 0 || compareBallots(ballot, floor) <= 0) return { ok: false, refusal: "ballot", promised };
      await this.store(key, { promised: ballot, accepted: { ballot, value: proposal.value, origins: proposal.origins, acceptedAtMs: Math.floor(this.runtime.clock.nowMs()) } });
      return { ok: true };
    });
  }

  collect(key: Uint8Array, ballot: Ballot): Promise<CollectReply> {
    const bucket = this.bucketOf(key);
    return this.underLocks<CollectReply>([lockKey(key), `floor ${bucket}`], async () => {
      const record = this.load(key);
      const accepted = record?.accepted;
      if (record === undefined || accepted === undefined || accepted.value !== undefined || compareBallots(accepted.ballot, ballot) !== 0) return { ok: true, dropped: false };
      const floor = maxBallot(this.floorOfBucket(bucket), maxBallot(record.promised, accepted.ballot));
      const ops: WriteOp[] = [
        { type: "delete", key },
        { type: "put", key: floorKey(bucket), value: floorPackr.pack(ballotToTuple(floor)) },
      ];
      await this.runtime.storage.write(ops, { durable: true });
      return { ok: true, dropped: true };
    });
  }

  /** This acceptor's record of `key` (an eventual read, a test's inspection). */
  record(key: Uint8Array): AcceptorRecord | undefined {
    return this.load(key);
  }

  /** The ballot at or below which this acceptor refuses every round on `key`. */
  floor(key: Uint8Array): Ballot {
    return this.floorOfBucket(this.bucketOf(key));
  }

  private promisedFor(key: Uint8Array, record: AcceptorRecord | undefined): Ballot {
    return maxBallot(record?.promised ?? ballotZero, this.floor(key));
  }

  private load(key: Uint8Array): AcceptorRecord | undefined {
    const bytes = this.runtime.storage.get(key);
    return bytes === undefined ? undefined : decodeAcceptorRecord(bytes);
  }

  private store(key: Uint8Array, record: AcceptorRecord): Promise<void> {
    return this.runtime.storage.write([{ type: "put", key, value: encodeAcceptorRecord(record) }], { durable: true });
  }

  private floorOfBucket(bucket: number): Ballot {
    const bytes = this.runtime.storage.get(floorKey(bucket));
    if (bytes === undefined) return ballotZero;
    const floor = ballotFromTuple(floorPackr.unpack(bytes));
    assert(floor !== undefined, `ballot floor of bucket ${bucket} is malformed`);
    return floor;
  }

  private bucketOf(key: Uint8Array): number {
    return fnv1a32(key) % this.floorBuckets;
  }

  private async underLocks<R>(keys: string[], work: () => Promise<R>): Promise<R | { ok: false; refusal: "overloaded" }> {
    if (!(await this.locks.acquire(keys))) return { ok: false, refusal: "overloaded" };
    try {
      return await work();
    } finally {
      this.locks.release(keys);
    }
  }
}

function floorKey(bucket: number): Uint8Array {
  return metaKey(`paxos.floor.${bucket}`);
}

/** FNV-1a, 32 bits: spreads item keys over the floor buckets. */
function fnv1a32(bytes: Uint8Array): number {
  let hash = 0x811c9dc5;
  for (const byte of bytes) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash;
}
