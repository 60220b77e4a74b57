import { test } from "node:test";
import assert from "node:assert/strict";
import { HintStore } from "../handoff/hint-store.js";
import { partitionOf } from "../ring/partition-hash.js";
import { preferenceList } from "../ring/preference-list.js";
import { ringState, type RingState } from "../ring/ring-state.js";
import type { NodeId } from "../runtime/network.js";
import { MemoryStorageEngine } from "../storage/memory-storage-engine.js";
import type { StorageEngine, WriteOp } from "../storage/storage-engine.js";
import { encodeItemKey } from "../storage/item-key.js";
import * as dvvset from "../versioning/dotted-version-vector-set.js";
import { isSibling, type Sibling } from "../versioning/sibling.js";
import { scanMessage } from "./replica-messages.js";
import { ReplicaService } from "./replica-service.js";
import { tableRange } from "../handoff/ownership-transfer.js";

// Ring-version fencing on the replica (ring-fence.ts): a write placed on an older (or the same)
// ring for a node this replica's ring no longer places is refused with its version; transfer
// scans wait for the replica to hold the scanner's ring and for the writes it admitted.

const tableId = 7;
const partitionCount = 8;
const encoder = new TextEncoder();

// Version 6: n1 owns partitions 0-3, n2 owns 4-7 (n4 left); n = 1 so each key has one primary.
const ringNow: RingState = ringState({ version: 6, partitionCount, owners: ["n1", "n1", "n1", "n1", "n2", "n2", "n2", "n2"], members: [{ id: "n1" }, { id: "n2" }] });

function keyIn(owner: NodeId, ring: RingState): Uint8Array {
  for (let i = 0; ; i++) {
    const key = encodeItemKey(tableId, encoder.encode(`k${i}`));
    const partition = partitionOf(encoder.encode(`k${i}`), ring.partitionCount);
    if (preferenceList(ring, partition, 1)[0] === owner) return key;
  }
}

const sibling = (text: string): Sibling => ({ value: encoder.encode(text), contentType: "text/plain", metadata: [], timestamp: 1, tombstone: false, expiresAtMs: null });
const set = (text: string) => dvvset.update(dvvset.newValue(sibling(text)), dvvset.empty<Sibling>(), "n9");

function replicaOn(nodeId: NodeId, ring: () => RingState | undefined, storage: StorageEngine = new MemoryStorageEngine()) {
  const hints = HintStore.open({ storage, isValue: isSibling, hintsPerTargetMax: 10 });
  const replica = new ReplicaService({ nodeId, storage, hints, siblingsMax: 10, ringFence: { ring, nOf: (id) => (id === tableId ? 1 : undefined) } });
  return { replica, hints };
}

const merge = (key: Uint8Array, text: string, ringVersion: number | undefined, hintFor: NodeId | null = null) => ({
  type: "replica.merge",
  key,
  set: set(text),
  hintFor,
  lww: false,
  ...(ringVersion === undefined ? {} : { ringVersion }),
});

test("a replica refuses a write placed on an older ring that its ring no longer places it for, and stores nothing", async () => {
  const { replica } = replicaOn("n2", () => ringNow);
  const notMine = keyIn("n1", ringNow);
  for (const version of [4, 5]) {
    const reply = (await replica.handle("n3", merge(notMine, "lost?", version))) as { ok: boolean; error?: string; ringVersion?: number; message?: string };
    assert.equal(reply.ok, false);
    assert.equal(reply.error, "ring");
    assert.equal(reply.ringVersion, 6);
    assert.match(reply.message!, /ring 6 does not place n2/);
  }
  assert.equal(replica.fetch(notMine), undefined);
});

test("a replica takes writes for keys its ring places it for, from a newer ring, and without a version", async () => {
  const { replica } = replicaOn("n2", () => ringNow);
  const mine = keyIn("n2", ringNow);
  const notMine = keyIn("n1", ringNow);
  assert.deepEqual(await replica.handle("n3", merge(mine, "a", 4)), { ok: true, durable: true });
  // The sender's ring is newer: this replica's view is behind; the sender's placement decides.
  assert.deepEqual(await replica.handle("n3", merge(notMine, "b", 7)), { ok: true, durable: true });
  // A merge that names no version (a hint handed back, a repair) for a key its ring places it for.
  assert.deepEqual(await replica.handle("n3", merge(mine, "c", undefined)), { ok: true, durable: true });
  // A table whose n is unknown here is not fenced either.
  const unknownTable = encodeItemKey(8, encoder.encode("x"));
  assert.deepEqual(await replica.handle("n3", merge(unknownTable, "d", 2)), { ok: true, durable: true });
  assert.ok(replica.fetch(mine) !== undefined && replica.fetch(notMine) !== undefined);
});

test("a merge without a ring version (a late hint, a repair) for a key this node's ring does not place it for is refused with the ring version, under the key's lock, and stores nothing", async () => {
  const { replica, hints } = replicaOn("n2", () => ringNow);
  const notMine = keyIn("n1", ringNow);
  const reply = (await replica.handle("n3", merge(notMine, "late", undefined))) as { ok: boolean; error?: string; ringVersion?: number; message?: string };
  assert.deepEqual([reply.ok, reply.error, reply.ringVersion], [false, "ring", 6]);
  assert.match(reply.message!, /ring 6 does not place n2 .*without a ring version/);
  // The replica's own merge (anti-entropy repair, a re-targeted hint merged locally) is fenced the same way.
  const local = await replica.merge(notMine, set("repair"), { lww: false });
  assert.deepEqual([local.ok, (local as { error?: string }).error], [false, "ring"]);
  assert.equal(replica.fetch(notMine), undefined);
  // A draining node's hint for a primary this ring does not place is refused too; one for a placed primary is kept.
  const refused = (await replica.handle("n4", merge(notMine, "h", undefined, "n4"))) as { ok: boolean; error?: string };
  assert.deepEqual([refused.ok, refused.error], [false, "ring"]);
  assert.deepEqual(await replica.handle("n4", merge(notMine, "h", undefined, "n1")), { ok: true, durable: true });
  assert.ok(hints.get({ target: "n1", tableId, key: notMine }) !== undefined);
  // Without a ring (or for a table not known here) nothing can be said: taken.
  const { replica: ringless } = replicaOn("n2", () => undefined);
  assert.deepEqual(await ringless.handle("n3", merge(notMine, "x", undefined)), { ok: true, durable: true });
});

test("a fallback keeps a hint for a primary its ring still places and refuses one for a node it no longer places", async () => {
  const { replica, hints } = replicaOn("n3", () => ringNow);
  const ofN2 = keyIn("n2", ringNow);
  assert.deepEqual(await replica.handle("n1", merge(ofN2, "h", 5, "n2")), { ok: true, durable: true });
  assert.ok(hints.get({ target: "n2", tableId, key: ofN2 }) !== undefined);
  const refused = (await replica.handle("n1", merge(ofN2, "h", 5, "n4"))) as { ok: boolean; error?: string };
  assert.deepEqual([refused.ok, refused.error], [false, "ring"]);
  assert.equal(hints.get({ target: "n4", tableId, key: ofN2 }), undefined);
  // The same ring version: the sender placed it on this ring, nothing to check.
  assert.deepEqual(await replica.handle("n1", merge(ofN2, "h", 6, "n4")), { ok: true, durable: true });
});

test("a transfer scan is refused while the source's ring is older than the scanner's, then served", async () => {
  let ring: RingState = ringState({ ...ringNow, version: 4 });
  const { replica } = replicaOn("n2", () => ring);
  await replica.merge(keyIn("n2", ringNow), set("v"), { lww: false });
  const scan = scanMessage("replica.list", tableRange(tableId, undefined, 10), "siblings", 5);
  const behind = (await replica.handle("n3", scan)) as { ok: boolean; error?: string; ringVersion?: number };
  assert.deepEqual([behind.ok, behind.error, behind.ringVersion], [false, "ring-behind", 4]);
  ring = ringNow;
  const served = (await replica.handle("n3", scan)) as { ok: boolean; entries: unknown[] };
  assert.equal(served.ok, true);
  assert.equal(served.entries.length, 1);
  // A scan without a version (list, query) is never refused.
  ring = ringState({ ...ringNow, version: 1 });
  assert.equal(((await replica.handle("n3", scanMessage("replica.list", tableRange(tableId, undefined, 10)))) as { ok: boolean }).ok, true);
});

test("a transfer scan answers only after the writes admitted before it are stored, so it lists them", async () => {
  const memory = new MemoryStorageEngine();
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let held = true;
  // Storage whose durable writes wait on the gate while `held` (a slow fsync).
  const slow: StorageEngine = Object.assign(Object.create(memory) as StorageEngine, {
    write: async (ops: WriteOp[], options?: { durable?: boolean }) => {
      if (held) await gate;
      return memory.write(ops, options);
    },
  });
  const { replica } = replicaOn("n2", () => ringNow, slow);
  const key = keyIn("n2", ringNow);
  const writing = replica.handle("n3", merge(key, "late", 6));
  const scan = replica.handle("n3", scanMessage("replica.list", tableRange(tableId, undefined, 10), "siblings", 6));
  let answered = false;
  void scan.then(() => (answered = true));
  for (let i = 0; i < 20; i++) await Promise.resolve();
  assert.equal(answered, false, "the scan waited for the write in flight");
  held = false;
  release();
  assert.deepEqual(await writing, { ok: true, durable: true });
  const served = (await scan) as { ok: boolean; entries: [Uint8Array, unknown][] };
  assert.equal(served.ok, true);
  assert.deepEqual(served.entries.map(([k]) => Buffer.from(k).toString("hex")), [Buffer.from(key).toString("hex")]);
});

test("a sender that placed with a larger n than the table's n here is fenced by its n, not refused for the difference", async () => {
  const { replica } = replicaOn("n2", () => ringNow);
  const notMine = keyIn("n1", ringNow);
  // At n = 2 both members are primaries of every key (the table's n here is 1).
  assert.deepEqual(await replica.handle("n3", { ...merge(notMine, "wide", 5), n: 2 }), { ok: true, durable: true });
  const refused = (await replica.handle("n3", { ...merge(notMine, "narrow", 5), n: 1 })) as { ok: boolean; error?: string };
  assert.deepEqual([refused.ok, refused.error], [false, "ring"]);
});

// Reads (issue 6): a fetch or a query placed on an older ring for a node this replica's ring no
// longer places is refused like a write, instead of answering "not found" from what it released.

const fetch = (key: Uint8Array, ringVersion: number | undefined, extra: Record<string, unknown> = {}) => ({
  type: "replica.fetch",
  key,
  hintFor: null,
  ...(ringVersion === undefined ? {} : { ringVersion }),
  ...extra,
});

test("a replica refuses a fetch placed on an older ring that its ring no longer places it for, record or set alike", async () => {
  const { replica } = replicaOn("n2", () => ringNow);
  const notMine = keyIn("n1", ringNow);
  for (const extra of [{}, { record: true }]) {
    const reply = (await replica.handle("n3", fetch(notMine, 5, extra))) as { ok: boolean; error?: string; ringVersion?: number; message?: string };
    assert.deepEqual([reply.ok, reply.error, reply.ringVersion], [false, "ring", 6]);
    assert.match(reply.message!, /ring 6 does not place n2 for partition \d+ \(the read was placed on ring 5\)/);
  }
});

test("a replica answers a fetch for a key its ring places it for, from the same or a newer ring, without a version, or with a larger n", async () => {
  const { replica } = replicaOn("n2", () => ringNow);
  const mine = keyIn("n2", ringNow);
  const notMine = keyIn("n1", ringNow);
  await replica.merge(mine, set("here"), { lww: false });
  assert.equal(((await replica.handle("n3", fetch(mine, 4))) as { ok: boolean; set: unknown }).set !== null, true);
  for (const message of [fetch(notMine, 6), fetch(notMine, 7), fetch(notMine, undefined), { ...fetch(notMine, 5), n: 2 }, { ...fetch(notMine, 5, { record: true }), n: 2 }]) {
    const reply = (await replica.handle("n3", message)) as { ok: boolean };
    assert.equal(reply.ok, true, JSON.stringify(message));
  }
});

test("a fallback refuses a hinted fetch for a primary its newer ring no longer places, and answers one for a primary it does", async () => {
  const { replica } = replicaOn("n3", () => ringNow);
  const ofN2 = keyIn("n2", ringNow);
  assert.deepEqual(await replica.handle("n1", fetch(ofN2, 5, { hintFor: "n2" })), { ok: true, set: null });
  const refused = (await replica.handle("n1", fetch(ofN2, 5, { hintFor: "n4" }))) as { ok: boolean; error?: string };
  assert.deepEqual([refused.ok, refused.error], [false, "ring"]);
});

test("a replica refuses a query placed on an older ring for a partition key its ring no longer places it for, and answers otherwise", async () => {
  const { replica } = replicaOn("n2", () => ringNow);
  const mine = keyIn("n2", ringNow);
  const notMine = keyIn("n1", ringNow);
  await replica.merge(mine, set("here"), { lww: false });
  const query = (key: Uint8Array, ringVersion: number) => scanMessage("replica.query", { prefix: key, reverse: false, limit: 10 }, "siblings", undefined, { ringVersion, n: 1 });
  const refused = (await replica.handle("n3", query(notMine, 5))) as { ok: boolean; error?: string; ringVersion?: number };
  assert.deepEqual([refused.ok, refused.error, refused.ringVersion], [false, "ring", 6]);
  const served = (await replica.handle("n3", query(mine, 5))) as { ok: boolean; entries: unknown[] };
  assert.deepEqual([served.ok, served.entries.length], [true, 1]);
  assert.equal(((await replica.handle("n3", query(notMine, 6))) as { ok: boolean }).ok, true);
  assert.equal(((await replica.handle("n3", scanMessage("replica.query", { prefix: notMine, reverse: false, limit: 10 }))) as { ok: boolean }).ok, true);
});

test("a scan's placement is checked: a malformed version or n, or one on a list, is a clear error", async () => {
  const { replica } = replicaOn("n2", () => ringNow);
  const key = keyIn("n2", ringNow);
  const query = scanMessage("replica.query", { prefix: key, reverse: false, limit: 10 });
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ ...query, placedRingVersion: -1, n: 1 }, /placedRingVersion -1 is not a non-negative integer/],
    [{ ...query, placedRingVersion: 3 }, /n undefined is not a positive integer/],
  ];
  for (const [message, error] of cases) {
    const reply = (await replica.handle("n3", message)) as { ok: boolean; error?: string };
    assert.equal(reply.ok, false);
    assert.match(reply.error!, error);
  }
});

test("a list placed on an older ring is refused by a replica on a newer one, whatever it holds, and answered on the same ring", async () => {
  const { replica } = replicaOn("n2", () => ringNow);
  const list = (ringVersion: number) => scanMessage("replica.list", tableRange(tableId, undefined, 10), "siblings", undefined, { ringVersion, n: 1 });
  const refused = (await replica.handle("n3", list(5))) as { ok: boolean; error?: string; ringVersion?: number; message?: string };
  assert.deepEqual([refused.ok, refused.error, refused.ringVersion], [false, "ring", 6]);
  assert.match(refused.message!, /newer than ring 5 the list was placed on/);
  assert.equal(((await replica.handle("n3", list(6))) as { ok: boolean }).ok, true);
  assert.equal(((await replica.handle("n3", list(7))) as { ok: boolean }).ok, true);
});
