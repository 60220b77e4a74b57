import { test } from "node:test";
import assert from "node:assert/strict";
import { MemoryStorageEngine } from "../storage/memory-storage-engine.js";
import { createTestRuntime } from "../node/test-runtime.js";
import { TableCatalog } from "./table-catalog.js";
import type { TableSpec } from "./table-definition.js";

const spec = (name: string): TableSpec => ({ name, replication: { n: 3, r: 2, w: 2 }, consistency: "eventual", conflicts: "siblings" });
const options = { tablesMax: 3, durableWrites: true };

test("create stores a definition that survives reopening, with a fresh id per table", async () => {
  const storage = new MemoryStorageEngine();
  const catalog = TableCatalog.open(createTestRuntime({ storage }), options);
  const cart = await catalog.create(spec("cart"));
  const users = await catalog.create(spec("users"));
  assert.ok(cart.ok && users.ok);
  assert.notEqual(cart.value.id, users.value.id);
  const reopened = TableCatalog.open(createTestRuntime({ storage }), options);
  assert.deepEqual(reopened.list().map((t) => t.name), ["cart", "users"]);
  assert.deepEqual(reopened.get("cart"), cart.value);
});

test("a second create of one name fails, even when both run concurrently", async () => {
  const catalog = TableCatalog.open(createTestRuntime({ storage: new MemoryStorageEngine() }), options);
  const [a, b] = await Promise.all([catalog.create(spec("cart")), catalog.create(spec("cart"))]);
  assert.equal([a, b].filter((r) => r.ok).length, 1);
  const failed = [a, b].find((r) => !r.ok);
  assert.ok(failed && !failed.ok);
  assert.equal(failed.error.code, "TableExists");
});

test("tablesMax bounds the catalog", async () => {
  const catalog = TableCatalog.open(createTestRuntime({ storage: new MemoryStorageEngine() }), options);
  for (const name of ["aaa", "bbb", "ccc"]) assert.ok((await catalog.create(spec(name))).ok);
  const fourth = await catalog.create(spec("ddd"));
  assert.ok(!fourth.ok);
  assert.equal(fourth.error.code, "TooManyTables");
});

test("drop removes the definition, queues the id for purging, and ids are never reused", async () => {
  const storage = new MemoryStorageEngine();
  const catalog = TableCatalog.open(createTestRuntime({ storage }), options);
  const first = await catalog.create(spec("cart"));
  assert.ok(first.ok);
  assert.ok((await catalog.drop("cart")).ok);
  assert.equal(catalog.get("cart"), undefined);
  assert.deepEqual(catalog.droppedIds(), [first.value.id]);
  const reopened = TableCatalog.open(createTestRuntime({ storage }), options);
  assert.deepEqual(reopened.droppedIds(), [first.value.id]);
  const second = await reopened.create(spec("cart"));
  assert.ok(second.ok);
  assert.notEqual(second.value.id, first.value.id);
  assert.equal(reopened.isLive(first.value.id), false);
  assert.equal(reopened.isLive(second.value.id), true);
  await reopened.forgetDropped(first.value.id);
  assert.deepEqual(TableCatalog.open(createTestRuntime({ storage }), options).droppedIds(), []);
  const missing = await reopened.drop("nope");
  assert.ok(!missing.ok);
  assert.equal(missing.error.code, "TableNotFound");
});

test("opening a catalog that holds more than tablesMax tables fails loudly instead of hiding some", async () => {
  const storage = new MemoryStorageEngine();
  const catalog = TableCatalog.open(createTestRuntime({ storage }), options);
  for (const name of ["aaa", "bbb", "ccc"]) assert.ok((await catalog.create(spec(name))).ok);
  assert.throws(() => TableCatalog.open(createTestRuntime({ storage }), { ...options, tablesMax: 2 }), /more than 2 tables/);
});
