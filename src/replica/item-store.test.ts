import { test } from "node:test";
import assert from "node:assert/strict";
import { MemoryStorageEngine } from "../storage/memory-storage-engine.js";
import { encodeItemKey, itemKeyPrefix } from "../storage/item-key.js";
import { createTestRuntime } from "../node/test-runtime.js";
import { unpack } from "msgpackr";
import { metaKey } from "../storage/keyspace.js";
import { ItemStore } from "./item-store.js";
import type { ItemWrite } from "./item-write.js";

const utf8 = new TextEncoder();
const key = (k: string) => encodeItemKey(1, utf8.encode(k));
const write = (value: string, expiresAtMs: number | null = null): ItemWrite => ({
  value: utf8.encode(value),
  contentType: "text/plain",
  metadata: { owner: "ana" },
  expiresAtMs,
});

function setup() {
  const storage = new MemoryStorageEngine();
  const runtime = createTestRuntime({ storage });
  return { storage, runtime, store: new ItemStore(runtime, { durableWrites: true }) };
}

test("put then read returns the bytes, metadata and a version naming the node", async () => {
  const { store } = setup();
  const put = await store.put(key("a"), write("hello"), {});
  assert.ok(put.ok);
  assert.equal(put.value.created, true);
  const record = store.read(key("a"));
  assert.ok(record);
  assert.equal(new TextDecoder().decode(record.value), "hello");
  assert.deepEqual(record.metadata, { owner: "ana" });
  assert.equal(record.version, put.value.record.version);
  assert.match(record.version, /-n1$/);
  const again = await store.put(key("a"), write("bye"), {});
  assert.ok(again.ok);
  assert.equal(again.value.created, false);
  assert.notEqual(again.value.record.version, put.value.record.version);
});

test("If-None-Match: * lets exactly one of 50 concurrent creators win", async () => {
  const { store } = setup();
  const results = await Promise.all(Array.from({ length: 50 }, (_, i) => store.put(key("race"), write(`v${i}`), { ifNoneMatch: "*" })));
  const winners = results.filter((r) => r.ok);
  assert.equal(winners.length, 1);
  for (const r of results) if (!r.ok) assert.equal(r.error.code, "PreconditionFailed");
});

test("If-Match replaces only the named version, and a refused write changes nothing", async () => {
  const { store } = setup();
  const first = await store.put(key("k"), write("one"), {});
  assert.ok(first.ok);
  const stale = await store.put(key("k"), write("two"), { ifMatch: ["nope"] });
  assert.ok(!stale.ok);
  assert.equal(stale.error.code, "PreconditionFailed");
  assert.equal(store.read(key("k"))?.version, first.value.record.version);
  const good = await store.put(key("k"), write("two"), { ifMatch: [first.value.record.version] });
  assert.ok(good.ok);
  const missing = await store.put(key("other"), write("x"), { ifMatch: "*" });
  assert.ok(!missing.ok);
  assert.equal(store.read(key("other")), undefined);
});

test("delete removes a live record, refuses a missing one, and honours If-Match", async () => {
  const { store } = setup();
  const put = await store.put(key("d"), write("x"), {});
  assert.ok(put.ok);
  const refused = await store.delete(key("d"), { ifMatch: ["other"] });
  assert.ok(!refused.ok);
  assert.equal(refused.error.code, "PreconditionFailed");
  assert.ok((await store.delete(key("d"), { ifMatch: [put.value.record.version] })).ok);
  assert.equal(store.read(key("d")), undefined);
  const again = await store.delete(key("d"), {});
  assert.ok(!again.ok);
  assert.equal(again.error.code, "ItemNotFound");
});

test("an expired record reads as absent at once and the sweeper removes it and its index entry", async () => {
  const { store, runtime, storage } = setup();
  const now = runtime.clock.nowMs();
  await store.put(key("e"), write("x", now + 1000), {});
  await store.put(key("keep"), write("y", now + 5000), {});
  assert.ok(store.read(key("e")));
  runtime.clock.advance(1000);
  assert.equal(store.read(key("e")), undefined);
  assert.ok(store.read(key("keep")));
  const swept = await store.sweepExpired(10);
  assert.deepEqual(swept, { processed: 1, expired: 1 });
  assert.equal(storage.get(key("e")), undefined);
  assert.deepEqual(await store.sweepExpired(10), { processed: 0, expired: 0 });
});

test("the sweeper keeps a record rewritten with a later expiry and drops only the stale index entry", async () => {
  const { store, runtime } = setup();
  const now = runtime.clock.nowMs();
  await store.put(key("r"), write("x", now + 1000), {});
  await store.put(key("r"), write("y", now + 9000), {});
  runtime.clock.advance(2000);
  // The first entry was replaced on rewrite, so nothing is due.
  assert.deepEqual(await store.sweepExpired(10), { processed: 0, expired: 0 });
  assert.ok(store.read(key("r")));
  runtime.clock.advance(8000);
  assert.deepEqual(await store.sweepExpired(10), { processed: 1, expired: 1 });
});

test("a batch applies every write or none and answers gets", async () => {
  const { store } = setup();
  await store.put(key("g"), write("got"), {});
  await store.put(key("del"), write("bye"), {});
  const result = await store.batch(
    [key("g"), key("absent")],
    [
      { type: "put", itemKey: key("p"), write: write("new") },
      { type: "delete", itemKey: key("del") },
      { type: "delete", itemKey: key("never") },
    ],
  );
  assert.ok(result.ok);
  assert.equal(new TextDecoder().decode(result.value.gets[0]!.value), "got");
  assert.equal(result.value.gets[1], undefined);
  assert.deepEqual(
    result.value.writes.map((w) => (w.type === "delete" ? w.existed : "put")),
    ["put", true, false],
  );
  assert.ok(store.read(key("p")));
  assert.equal(store.read(key("del")), undefined);
});

test("scan pages through a prefix in key order, every key exactly once", async () => {
  const { store } = setup();
  const names = Array.from({ length: 23 }, (_, i) => `k${String(i).padStart(2, "0")}`);
  for (const n of names) await store.put(key(n), write(n), {});
  await store.put(key("other"), write("o"), {});
  const seen: string[] = [];
  let after: Uint8Array | undefined;
  for (let pages = 0; pages < 10; pages++) {
    const page = store.scan({ prefix: itemKeyPrefix(1, utf8.encode("k")), limit: 5, ...(after ? { after } : {}) });
    for (const e of page.entries) seen.push(new TextDecoder().decode(e.record.value));
    if (page.resumeAfter === null) break;
    after = page.resumeAfter;
  }
  assert.deepEqual(seen, names);
});

test("purgeStep removes a table's items in bounded chunks", async () => {
  const { store, storage } = setup();
  for (let i = 0; i < 7; i++) await store.put(key(`x${i}`), write("v", 10 ** 13), {});
  assert.equal(await store.purgeStep(itemKeyPrefix(1, new Uint8Array(0)), 5), 5);
  assert.equal(await store.purgeStep(itemKeyPrefix(1, new Uint8Array(0)), 5), 2);
  assert.equal([...storage.range({ prefix: Uint8Array.of(0x01) })].length, 0);
  // Their expiry-index entries went with them.
  assert.equal([...storage.range({ prefix: Uint8Array.of(0x03) })].length, 0);
});

test("restoreClock keeps timestamps increasing across a restart", async () => {
  const { store, storage, runtime } = setup();
  const put = await store.put(key("t"), write("v"), {});
  assert.ok(put.ok);
  const restarted = createTestRuntime({ storage, nowMs: runtime.clock.nowMs() - 60_000 });
  new ItemStore(restarted, { durableWrites: true }).restoreClock();
  assert.ok(restarted.hlc.now() > put.value.record.timestamp);
});

test("the persisted clock floor stays above every stored timestamp and is rewritten about once per lease", async () => {
  const { store, storage, runtime } = setup();
  const floorKey = metaKey("replica.hlcFloor");
  const floor = (): number => unpack(storage.get(floorKey)!) as number;
  const floors = new Set<number>();
  for (let i = 0; i < 200; i++) {
    const put = await store.put(key(`k${i}`), write("v"), {});
    assert.ok(put.ok);
    assert.ok(put.value.record.timestamp < floor(), `write ${i}: timestamp ${put.value.record.timestamp} is not below the floor ${floor()}`);
    floors.add(floor());
    runtime.clock.advance(20); // 200 writes over 4 s of wall time
  }
  // A floor leases 1 s ahead, so 4 s of writes need about 4-5 floors, not 200.
  assert.ok(floors.size >= 4 && floors.size <= 6, `floors written: ${floors.size}`);
});

test("a write that waited while its table was dropped is refused and stores nothing", async () => {
  const storage = new MemoryStorageEngine();
  const runtime = createTestRuntime({ storage });
  // Live for the first write's check only: the table is dropped while the others wait.
  let checks = 0;
  const store = new ItemStore(runtime, { durableWrites: true, isTableLive: () => checks++ === 0 });
  const first = store.put(key("w"), write("first"), {});
  const waiting = store.put(key("w"), write("second"), {});
  const batch = store.batch([], [{ type: "put", itemKey: key("other"), write: write("x") }]);
  assert.ok((await first).ok);
  const refused = await waiting;
  assert.ok(!refused.ok);
  assert.equal(refused.error.code, "TableNotFound");
  const refusedBatch = await batch;
  assert.ok(!refusedBatch.ok);
  assert.equal(new TextDecoder().decode(store.read(key("w"))!.value), "first");
  assert.equal(store.read(key("other")), undefined);
});
