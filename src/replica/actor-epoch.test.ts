import { test } from "node:test";
import assert from "node:assert/strict";
import { pack } from "msgpackr";
import { HintStore } from "../handoff/hint-store.js";
import { encodeItemKey } from "../storage/item-key.js";
import { MemoryStorageEngine } from "../storage/memory-storage-engine.js";
import type { Bytes, Entry, RangeOptions, StorageEngine, StorageStats, WriteOp, WriteOptions } from "../storage/storage-engine.js";
import * as dvvset from "../versioning/dotted-version-vector-set.js";
import { isSibling, type Sibling } from "../versioning/sibling.js";
import { ManualClock } from "../node/manual-clock.js";
import { HybridLogicalClock } from "../versioning/hybrid-logical-clock.js";
import { ActorEpoch, actorEpochKey, actorIdOf } from "./actor-epoch.js";
import { HlcFloor } from "./hlc-floor.js";
import { ReplicaService } from "./replica-service.js";

const key = encodeItemKey(7, new TextEncoder().encode("cart:42"));
const siblings = { lww: false };

function sibling(text: string, timestamp = 1): Sibling {
  return { value: new TextEncoder().encode(text), contentType: "text/plain", metadata: [], timestamp, tombstone: false, expiresAtMs: null };
}

function texts(set: dvvset.DottedVersionVectorSet<Sibling> | undefined): string[] {
  return set === undefined ? [] : dvvset.values(set).map((s) => new TextDecoder().decode(s.value)).sort();
}

/**
 * A disk whose writes wait until `release` (a slow fsync) and that can crash: a crash drops
 * every write not released yet, and their promises never settle (the process is gone).
 * `failNext` makes the next released write fail instead.
 */
class HeldDisk implements StorageEngine {
  readonly kind = "memory" as const;
  private held: { ops: readonly WriteOp[]; options: WriteOptions | undefined; resolve: () => void; reject: (error: Error) => void }[] = [];
  failNext = false;

  constructor(readonly engine = new MemoryStorageEngine()) {}

  get(key: Bytes): Bytes | undefined {
    return this.engine.get(key);
  }
  range(options: RangeOptions): Iterable<Entry> {
    return this.engine.range(options);
  }
  write(ops: readonly WriteOp[], options?: WriteOptions): Promise<void> {
    return new Promise((resolve, reject) => this.held.push({ ops, options, resolve, reject }));
  }
  sync(): Promise<void> {
    return this.engine.sync();
  }
  stats(): StorageStats {
    return this.engine.stats();
  }
  close(): Promise<void> {
    return this.engine.close();
  }
  get pending(): number {
    return this.held.length;
  }
  /** Lands every held write (durably), in order. */
  async release(): Promise<void> {
    const held = this.held;
    this.held = [];
    for (const write of held) {
      if (this.failNext) {
        this.failNext = false;
        write.reject(new Error("disk full"));
        continue;
      }
      await this.engine.write(write.ops, { durable: true });
      write.resolve();
    }
  }
  crash(): void {
    this.held = [];
  }
}

/** This incarnation's epoch, written and landed. */
async function openReady(disk: HeldDisk): Promise<ActorEpoch> {
  const epoch = ActorEpoch.open(disk, "n1");
  const ready = epoch.ready();
  await disk.release();
  await ready;
  return epoch;
}

function replicaOn(storage: StorageEngine, nodeId: string, epoch?: ActorEpoch): ReplicaService {
  const hints = HintStore.open({ storage, isValue: isSibling, hintsPerTargetMax: 10 });
  return new ReplicaService({ nodeId, storage, hints, siblingsMax: 100, ...(epoch !== undefined ? { actorEpoch: epoch } : {}) });
}

/** Another replica of the key, on a disk that lands writes at once. */
function otherReplica(): ReplicaService {
  return replicaOn(new MemoryStorageEngine(), "n2");
}

test("an epoch starts at 0 (the plain node id) on a new disk and rises by one per start", async () => {
  const disk = new MemoryStorageEngine();
  const first = ActorEpoch.open(disk, "n1");
  assert.equal(first.epoch, 0);
  assert.equal(first.actorId, "n1");
  assert.equal(disk.get(actorEpochKey), undefined, "nothing is written before the first dot asks");
  await first.ready();
  assert.equal(first.ready(), undefined);
  const second = ActorEpoch.open(disk, "n1");
  assert.equal(second.epoch, 1);
  assert.equal(second.actorId, "n1:1");
  await second.ready();
  // An epoch nobody made ready issued no dot: the next start may take it again.
  assert.equal(ActorEpoch.open(disk, "n1").actorId, actorIdOf("n1", 2));
  assert.equal(ActorEpoch.open(disk, "n1").actorId, actorIdOf("n1", 2));
  assert.equal(actorIdOf("n1", 36), "n1:10");
});

test("a stored epoch that is not one refuses to open, naming the key and what it holds", async () => {
  const disk = new MemoryStorageEngine();
  await disk.write([{ type: "put", key: actorEpochKey, value: pack(-3) }], { durable: true });
  assert.throws(() => ActorEpoch.open(disk, "n1"), /replica\.actorEpoch holds -3, not an epoch/);
});

test("an early write answers before its own copy is durable, and the key's next write waits for it", async () => {
  const disk = new HeldDisk();
  const epoch = await openReady(disk);
  const replica = replicaOn(disk, "n1", epoch);
  const first = await replica.coordinateWrite(key, sibling("a"), undefined, siblings, { early: true });
  assert.ok(first.ok);
  assert.deepEqual(first.dot, ["n1", 1]);
  assert.equal(disk.pending, 1, "answered while its write is still held");
  let secondDone = false;
  const second = replica.coordinateWrite(key, sibling("b"), undefined, siblings, { early: true }).then((result) => {
    secondDone = true;
    return result;
  });
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(secondDone, false, "the key's lock is held until the first write is durable");
  await disk.release();
  await first.durable;
  await new Promise((resolve) => setImmediate(resolve));
  await disk.release();
  const b = await second;
  assert.ok(b.ok);
  assert.deepEqual(b.dot, ["n1", 2]);
  await b.durable;
  assert.deepEqual(texts(replica.fetch(key)), ["a", "b"]);
});

test("a crash between an early write's replication and its own durability never reuses the dot after the restart", async () => {
  const disk = new HeldDisk();
  const n2 = otherReplica();
  // Incarnation 1: its epoch lands, then a write is issued and replicated, but its own copy is lost.
  const epoch1 = await openReady(disk);
  const before = await replicaOn(disk, "n1", epoch1).coordinateWrite(key, sibling("acknowledged"), undefined, siblings, { early: true });
  assert.ok(before.ok);
  assert.deepEqual(await n2.merge(key, before.set, siblings), { ok: true, durable: true });
  disk.crash();
  // Incarnation 2: holds nothing of the key and writes it again.
  const epoch2 = ActorEpoch.open(disk, "n1");
  const restarted = replicaOn(disk, "n1", epoch2);
  const pending = restarted.coordinateWrite(key, sibling("later"), undefined, siblings, { early: true });
  await disk.release(); // the epoch first
  const after = await pending;
  assert.ok(after.ok);
  assert.notDeepEqual(after.dot, before.dot, `dot ${String(after.dot)} was issued twice`);
  // The replica that holds the first write keeps both: neither replaces the other.
  await n2.merge(key, after.set, siblings);
  assert.deepEqual(texts(n2.fetch(key)), ["acknowledged", "later"]);
});

/** An early write that reached n2, whose own copy the disk will fail on its next release. */
async function replicatedWriteAboutToFail() {
  const disk = new HeldDisk();
  const epoch = await openReady(disk);
  const replica = replicaOn(disk, "n1", epoch);
  const n2 = otherReplica();
  const first = await replica.coordinateWrite(key, sibling("left"), undefined, siblings, { early: true });
  assert.ok(first.ok);
  await n2.merge(key, first.set, siblings);
  disk.failNext = true;
  return { disk, epoch, replica, n2, first };
}

test("an early write whose own copy fails moves the node to a new epoch before the key's next write", async () => {
  const { disk, epoch, replica, n2, first } = await replicatedWriteAboutToFail();
  const next = replica.coordinateWrite(key, sibling("again"), undefined, siblings, { early: true });
  await disk.release(); // the first write fails
  await assert.rejects(first.durable, /disk full/);
  assert.equal(epoch.epoch, 1);
  await new Promise((resolve) => setImmediate(resolve));
  await disk.release(); // the new epoch
  await new Promise((resolve) => setImmediate(resolve));
  await disk.release(); // the second write
  const second = await next;
  assert.ok(second.ok);
  assert.deepEqual(second.dot, ["n1:1", 1]);
  await n2.merge(key, second.set, siblings);
  assert.deepEqual(texts(n2.fetch(key)), ["again", "left"]);
});

test("without an epoch a write is durable before it answers, even when asked early", async () => {
  const disk = new HeldDisk();
  const replica = replicaOn(disk, "n1");
  let done = false;
  const pending = replica.coordinateWrite(key, sibling("a"), undefined, siblings, { early: true }).then((result) => {
    done = true;
    return result;
  });
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(done, false);
  await disk.release();
  const result = await pending;
  assert.ok(result.ok);
  assert.deepEqual(result.dot, ["n1", 1]);
});

test("a write whose timestamp no durable HLC floor covers yet is durable before it answers; later ones answer early", async () => {
  const disk = new HeldDisk();
  const epoch = await openReady(disk);
  const hlc = new HybridLogicalClock(new ManualClock(1_000_000), 60_000);
  const hints = HintStore.open({ storage: disk, isValue: isSibling, hintsPerTargetMax: 10 });
  const replica = new ReplicaService({ nodeId: "n1", storage: disk, hints, siblingsMax: 100, hlc, hlcFloor: new HlcFloor(disk, hlc), actorEpoch: epoch });
  let done = false;
  // The first stamped write carries the floor: a copy elsewhere must not outrun a floor that is not durable.
  const first = replica.coordinateWrite(key, sibling("a", hlc.now()), undefined, siblings, { early: true }).then((result) => {
    done = true;
    return result;
  });
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(done, false, "answered before the floor that covers its timestamp was durable");
  await disk.release();
  assert.ok((await first).ok);
  const second = await replica.coordinateWrite(key, sibling("b", hlc.now()), undefined, siblings, { early: true });
  assert.ok(second.ok);
  assert.equal(disk.pending, 1, "under the durable floor it answers while its write is held");
  await disk.release();
  await second.durable;
});

test("a clean stop keeps the epoch for the next start, which marks it in use again before its first dot; a crash after that moves on", async () => {
  const disk = new HeldDisk();
  const epoch1 = await openReady(disk);
  const replica1 = replicaOn(disk, "n1", epoch1);
  const first = await replica1.coordinateWrite(key, sibling("a"), undefined, siblings, { early: true });
  assert.ok(first.ok);
  const stopped = replica1.stopCoordinating();
  assert.equal(disk.pending, 1, "the stop waits for the write in flight before it marks the epoch clean");
  await disk.release(); // the write
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(disk.pending, 1, "then the clean mark");
  await disk.release();
  await stopped;
  const refused = await replica1.coordinateWrite(key, sibling("late"), undefined, siblings, { early: true });
  assert.ok(!refused.ok && refused.error === "overloaded", "a stopped replica issues no dot");
  // The next start coordinates under the same actor, after writing the epoch back unmarked.
  const epoch2 = ActorEpoch.open(disk, "n1");
  assert.equal(epoch2.actorId, "n1");
  const replica2 = replicaOn(disk, "n1", epoch2);
  const pending = replica2.coordinateWrite(key, sibling("b"), first.set.entries.length > 0 ? dvvset.join(first.set) : undefined, siblings, { early: true });
  await disk.release(); // the unmarked epoch
  const second = await pending;
  assert.ok(second.ok);
  assert.deepEqual(second.dot, ["n1", 2], "counters go on from the stored set under the kept actor");
  assert.equal(second.set.entries.length, 1, "the vector did not grow");
  // A crash now (no clean stop) moves the next start past the epoch.
  disk.crash();
  assert.equal(ActorEpoch.open(disk, "n1").actorId, "n1:1");
});

test("a stop while a write fails leaves the epoch unmarked, so the next start moves past it", async () => {
  const { disk, replica, first } = await replicatedWriteAboutToFail();
  const stopped = replica.stopCoordinating();
  await disk.release(); // the write fails: the dot may be on n2 only
  await assert.rejects(first.durable, /disk full/);
  await new Promise((resolve) => setImmediate(resolve));
  await disk.release(); // the renewed epoch's record
  await stopped;
  assert.equal(disk.pending, 0, "no clean mark was written");
  const next = ActorEpoch.open(disk, "n1");
  assert.ok(next.epoch >= 2, `epoch ${next.epoch} may reissue the lost write's dot`);
});

test("a stop of an epoch never made ready writes nothing; a clean record that is not one refuses to open", async () => {
  const disk = new MemoryStorageEngine();
  const unused = ActorEpoch.open(disk, "n1");
  await unused.stop(() => Promise.resolve());
  assert.equal(disk.get(actorEpochKey), undefined);
  await disk.write([{ type: "put", key: actorEpochKey, value: pack({ epoch: 3, clean: "yes" }) }], { durable: true });
  assert.throws(() => ActorEpoch.open(disk, "n1"), /replica\.actorEpoch holds \{"epoch":3,"clean":"yes"\}, not an epoch/);
  await disk.write([{ type: "put", key: actorEpochKey, value: pack({ epoch: 3, clean: true }) }], { durable: true });
  assert.equal(ActorEpoch.open(disk, "n1").actorId, "n1:3");
});
