import assert from "node:assert/strict";
import { test } from "node:test";
import { CommitGate, type IssuedWrite } from "./commit-gate.js";

/** A fake lmdb-js: writes issued before `startTurn()` form one transaction, committed and flushed by hand. */
function fakeDisk() {
  interface Txn {
    writes: string[];
    commit: { resolve: () => void; reject: (error: Error) => void };
    flush: () => void;
    committed: Promise<unknown>;
    flushed: Promise<unknown>;
  }
  const txns: Txn[] = [];
  let forming: Txn | undefined;
  const ends: Array<() => void> = [];
  const applied: string[] = [];
  const newTxn = (): Txn => {
    let commit!: Txn["commit"];
    let flush!: () => void;
    const committed = new Promise<unknown>((resolve, reject) => (commit = { resolve: () => resolve(true), reject }));
    const flushed = new Promise<unknown>((resolve) => (flush = () => resolve(true)));
    committed.catch(() => undefined);
    return { writes: [], commit, flush, committed, flushed };
  };
  const gate = new CommitGate<string>({
    issue(write): IssuedWrite {
      if (write === "throws") throw new Error("bad write");
      forming ??= newTxn();
      forming.writes.push(write);
      return { committed: forming.committed, flushed: forming.flushed };
    },
    endOfTurn: (callback) => ends.push(callback),
    queuedMax: 3,
  });
  return {
    gate,
    txns,
    applied,
    /** lmdb-js starts the turn's transaction, then the gate's end-of-turn callbacks run. */
    endTurn() {
      if (forming !== undefined) txns.push(forming);
      forming = undefined;
      for (const end of ends.splice(0)) end();
    },
    async commitAndFlush(txn: Txn) {
      applied.push(...txn.writes);
      txn.commit.resolve();
      await tick();
      txn.flush();
      await tick();
    },
  };
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

test("writes during the turn that started a transaction join it; later ones wait for its flush and then go together, in order", async () => {
  const disk = fakeDisk();
  const done: string[] = [];
  const w = (name: string, durable = true) => void disk.gate.write(name, durable).then(() => done.push(name));
  w("a");
  w("b");
  disk.endTurn();
  assert.deepEqual(disk.txns.map((t) => t.writes), [["a", "b"]]);
  w("c");
  w("d", false);
  disk.endTurn();
  // c and d wait: the first transaction is not flushed yet.
  assert.equal(disk.txns.length, 1);
  assert.equal(disk.gate.queued, 2);
  await disk.commitAndFlush(disk.txns[0]!);
  assert.deepEqual(done, ["a", "b"]);
  disk.endTurn();
  assert.deepEqual(disk.txns.map((t) => t.writes), [["a", "b"], ["c", "d"]]);
  await disk.commitAndFlush(disk.txns[1]!);
  // d is not durable: it resolves at its commit, before c's flush.
  assert.deepEqual(done, ["a", "b", "d", "c"]);
  assert.deepEqual(disk.applied, ["a", "b", "c", "d"]);
  assert.deepEqual(disk.gate.stats, { batches: 2, writes: 4, waited: 2 });
});

test("a durable write resolves only once flushed; a plain one once committed", async () => {
  const disk = fakeDisk();
  const done: string[] = [];
  void disk.gate.write("durable", true).then(() => done.push("durable"));
  void disk.gate.write("plain", false).then(() => done.push("plain"));
  disk.endTurn();
  disk.txns[0]!.commit.resolve();
  await tick();
  assert.deepEqual(done, ["plain"]);
  disk.txns[0]!.flush();
  await tick();
  assert.deepEqual(done, ["plain", "durable"]);
});

test("a failed transaction fails the writes it carried and the gate goes on with the next", async () => {
  const disk = fakeDisk();
  const first = disk.gate.write("a", true);
  disk.endTurn();
  const second = disk.gate.write("b", true);
  disk.txns[0]!.commit.reject(new Error("disk full"));
  await assert.rejects(first, /disk full/);
  await tick();
  disk.endTurn();
  assert.deepEqual(disk.txns.map((t) => t.writes), [["a"], ["b"]]);
  await disk.commitAndFlush(disk.txns[1]!);
  await second;
});

test("a write that throws when issued fails alone, also from the queue", async () => {
  const disk = fakeDisk();
  assert.throws(() => void disk.gate.write("throws", true), /bad write/);
  const a = disk.gate.write("a", true);
  disk.endTurn();
  const bad = assert.rejects(disk.gate.write("throws", true), /bad write/);
  const b = disk.gate.write("b", true);
  await disk.commitAndFlush(disk.txns[0]!);
  await a;
  await bad;
  disk.endTurn();
  await disk.commitAndFlush(disk.txns[1]!);
  await b;
  assert.deepEqual(disk.applied, ["a", "b"]);
});

test("the queue is bounded: past queuedMax a write is refused with the limit and nothing is written", async () => {
  const disk = fakeDisk();
  void disk.gate.write("a", true);
  disk.endTurn();
  const queued = ["b", "c", "d"].map((name) => disk.gate.write(name, true));
  await assert.rejects(disk.gate.write("e", true), (error: { code?: string; status?: number; message: string }) => {
    assert.equal(error.code, "StorageBusy");
    assert.equal(error.status, 503);
    assert.match(error.message, /cannot write: 3 writes wait for the disk; the limit is 3/);
    return true;
  });
  await disk.commitAndFlush(disk.txns[0]!);
  disk.endTurn();
  await disk.commitAndFlush(disk.txns[1]!);
  await Promise.all(queued);
  assert.deepEqual(disk.applied, ["a", "b", "c", "d"]);
});

test("whenDrained waits for the queue and the transaction in flight", async () => {
  const disk = fakeDisk();
  let drained = false;
  await disk.gate.whenDrained();
  void disk.gate.write("a", true);
  disk.endTurn();
  void disk.gate.write("b", true);
  void disk.gate.whenDrained().then(() => (drained = true));
  await disk.commitAndFlush(disk.txns[0]!);
  assert.equal(drained, false);
  disk.endTurn();
  await disk.commitAndFlush(disk.txns[1]!);
  assert.equal(drained, true);
});
