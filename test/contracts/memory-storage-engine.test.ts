import { test } from "node:test";
import assert from "node:assert/strict";
import { MemoryStorageEngine } from "../../src/storage/memory-storage-engine.js";
import { storageEngineContract } from "./storage-engine.contract.js";

storageEngineContract("memory", async () => {
  const engine = new MemoryStorageEngine();
  return { engine, cleanup: () => engine.close() };
});

const text = (value: string) => new TextEncoder().encode(value);

test("memory engine: a crash loses writes that were never made durable", async () => {
  const engine = new MemoryStorageEngine();
  await engine.write([{ type: "put", key: text("kept"), value: text("1") }], { durable: true });
  await engine.write([
    { type: "put", key: text("lost"), value: text("2") },
    { type: "put", key: text("kept"), value: text("overwritten") },
  ]);
  await engine.write([{ type: "delete", key: text("kept") }]);
  assert.equal(engine.get(text("kept")), undefined);
  engine.crash();
  assert.deepEqual(engine.get(text("kept")), text("1"));
  assert.equal(engine.get(text("lost")), undefined);
  assert.deepEqual(engine.stats(), { sizeBytes: 5, entries: 1 });
});

test("memory engine: sync makes every earlier write survive a crash", async () => {
  const engine = new MemoryStorageEngine();
  await engine.write([{ type: "put", key: text("a"), value: text("1") }]);
  await engine.write([{ type: "put", key: text("b"), value: text("2") }]);
  await engine.sync();
  await engine.write([{ type: "put", key: text("c"), value: text("3") }]);
  engine.crash();
  assert.deepEqual([...engine.range({})].map(({ key }) => new TextDecoder().decode(key)), ["a", "b"]);
});

test("memory engine: a durable write makes earlier plain writes durable too", async () => {
  const engine = new MemoryStorageEngine();
  const plain = engine.write([{ type: "put", key: text("a"), value: text("1") }]);
  await engine.write([{ type: "put", key: text("b"), value: text("2") }], { durable: true });
  await plain;
  assert.equal(engine.unsyncedOps(), 0);
  engine.crash();
  assert.deepEqual(engine.get(text("a")), text("1"));
});

test("memory engine: writes still queued at a crash never commit and never settle", async () => {
  const engine = new MemoryStorageEngine();
  let settled = false;
  void engine.write([{ type: "put", key: text("queued"), value: text("1") }]).finally(() => {
    settled = true;
  });
  engine.crash();
  await engine.write([{ type: "put", key: text("after"), value: text("2") }]);
  assert.equal(engine.get(text("queued")), undefined);
  assert.deepEqual(engine.get(text("after")), text("2"));
  assert.equal(settled, false);
});

test("memory engine: a crashed engine reopens with its durable state, even after close", async () => {
  const engine = new MemoryStorageEngine();
  await engine.write([{ type: "put", key: text("a"), value: text("1") }], { durable: true });
  await engine.write([{ type: "put", key: text("b"), value: text("2") }]);
  await engine.close();
  engine.crash();
  assert.deepEqual([...engine.range({})].map(({ key }) => new TextDecoder().decode(key)), ["a"]);
});

test("memory engine: past unsyncedOpsMax the engine writes back on its own, so a crash keeps those", async () => {
  const engine = new MemoryStorageEngine({ unsyncedOpsMax: 3 });
  await engine.write(["a", "b", "c", "d"].map((k) => ({ type: "put" as const, key: text(k), value: text(k) })));
  assert.equal(engine.unsyncedOps(), 0);
  await engine.write([{ type: "put", key: text("e"), value: text("e") }]);
  engine.crash();
  assert.equal([...engine.range({})].length, 4);
});

test("memory engine: a write is invisible until it commits on a later microtask", async () => {
  const engine = new MemoryStorageEngine();
  const pending = engine.write([{ type: "put", key: text("a"), value: text("1") }]);
  assert.equal(engine.get(text("a")), undefined);
  await pending;
  assert.deepEqual(engine.get(text("a")), text("1"));
});

test("memory engine: a range survives writes between its steps", async () => {
  const engine = new MemoryStorageEngine();
  await engine.write(Array.from({ length: 2000 }, (_, i) => ({ type: "put" as const, key: text(`k${String(i).padStart(5, "0")}`), value: text("v") })));
  const seen: string[] = [];
  for (const { key } of engine.range({})) {
    const name = new TextDecoder().decode(key);
    seen.push(name);
    if (seen.length % 100 === 0) {
      // Delete the next key and add one far ahead; the scan must skip the first, see the second.
      await engine.write([
        { type: "delete", key: text(`k${String(seen.length).padStart(5, "0")}`) },
        { type: "put", key: text(`k${String(seen.length).padStart(5, "0")}x`), value: text("v") },
      ]);
    }
  }
  // Every change landed ahead of the scan, so it saw exactly the final contents, in order.
  assert.deepEqual(seen, [...engine.range({})].map(({ key }) => new TextDecoder().decode(key)));
  assert.equal(seen.length, 2000 - 19 + 20);
  assert.ok(seen.includes("k00100x") && !seen.includes("k00100"));
});
