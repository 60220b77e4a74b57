import { test } from "node:test";
import assert from "node:assert/strict";
import { pack } from "msgpackr";
import { catalogKey, metaKey } from "../storage/keyspace.js";
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

test("extensions are stored with the table, copied, and updated with replication", async () => {
  const storage = new MemoryStorageEngine();
  const catalog = TableCatalog.open(createTestRuntime({ storage }), options);
  const extensions = { keySchema: [{ name: "pk", type: "HASH" }], billingMode: "PAY_PER_REQUEST" };
  const created = await catalog.create({ ...spec("dyn"), extensions });
  assert.ok(created.ok);
  extensions.billingMode = "changed by the caller afterwards";
  assert.equal(catalog.get("dyn")?.extensions?.billingMode, "PAY_PER_REQUEST");
  const updated = await catalog.update("dyn", { extensions: { ttl: "expiresAt" } });
  assert.ok(updated.ok);
  assert.deepEqual(updated.value.extensions, { ttl: "expiresAt" });
  assert.deepEqual(updated.value.replication, { n: 3, r: 2, w: 2 }, "a patch without replication keeps it");
  const again = await catalog.update("dyn", { replication: { n: 5, r: 3, w: 3 } });
  assert.ok(again.ok);
  assert.deepEqual(again.value.extensions, { ttl: "expiresAt" }, "a patch without extensions keeps them");
  assert.equal(again.value.id, created.value.id);
  assert.deepEqual(TableCatalog.open(createTestRuntime({ storage }), options).get("dyn"), again.value);
  const missing = await catalog.update("nope", { replication: { n: 1, r: 1, w: 1 } });
  assert.ok(!missing.ok && missing.error.code === "TableNotFound");
});

test("extensions that are not plain JSON data or too large are refused", async () => {
  const catalog = TableCatalog.open(createTestRuntime({ storage: new MemoryStorageEngine() }), { ...options, extensionsBytesMax: 100 });
  const tooBig = await catalog.create({ ...spec("big"), extensions: { blob: "x".repeat(200) } });
  assert.ok(!tooBig.ok && tooBig.error.code === "InvalidTableOptions" && /limit is 100/.test(tooBig.error.message), JSON.stringify(tooBig));
  const notData = await catalog.create({ ...spec("odd"), extensions: { when: new Date(0) } });
  assert.ok(!notData.ok && notData.error.code === "InvalidTableOptions");
  const infinite = await catalog.create({ ...spec("inf"), extensions: { n: Number.POSITIVE_INFINITY } });
  assert.ok(!infinite.ok && infinite.error.code === "InvalidTableOptions");
  assert.deepEqual(catalog.list(), []);
});

test("a catalog written by the single-node version opens with its tables, ids and id range", async () => {
  const storage = new MemoryStorageEngine();
  const legacy = { name: "cart", id: 7, replication: { n: 3, r: 2, w: 2 }, consistency: "eventual", conflicts: "siblings", createdAtMs: Date.UTC(2025, 0, 1) };
  await storage.write([
    { type: "put", key: catalogKey("cart"), value: pack(legacy) },
    { type: "put", key: metaKey("catalog.nextTableId"), value: pack(9) },
  ]);
  const catalog = TableCatalog.open(createTestRuntime({ storage }), options);
  assert.deepEqual(catalog.get("cart"), legacy);
  const created = await catalog.create(spec("users"));
  assert.ok(created.ok && created.value.id !== 7);
  assert.ok((await catalog.drop("cart")).ok);
  assert.deepEqual(catalog.droppedIds(), [7]);
});

test("a drop tells the dropped-table listeners which ids to purge", async () => {
  const catalog = TableCatalog.open(createTestRuntime({ storage: new MemoryStorageEngine() }), options);
  const heard: number[][] = [];
  catalog.onDropped((ids) => heard.push([...ids]));
  const created = await catalog.create(spec("cart"));
  assert.ok(created.ok);
  assert.ok((await catalog.drop("cart")).ok);
  assert.deepEqual(heard, [[created.value.id]]);
});

test("a change a member did not acknowledge answers CatalogUnavailable naming it, and is kept", async () => {
  const catalog = TableCatalog.open(createTestRuntime({ storage: new MemoryStorageEngine() }), options);
  catalog.attach({ publish: () => Promise.resolve({ missing: ["n2", "n3"], replies: [] }) });
  const created = await catalog.create(spec("cart"));
  assert.ok(!created.ok && created.error.code === "CatalogUnavailable");
  assert.deepEqual(created.error.code === "CatalogUnavailable" && created.error.missing, ["n2", "n3"]);
  assert.match(created.error.message, /cannot create table "cart" on every node: 2 up member\(s\) did not acknowledge \(n2, n3\)/);
  assert.ok(catalog.get("cart") !== undefined, "the change is kept for catalog sync to finish");
});

test("isDropped stays true for a dropped id after the purge forgot it, and is false for unknown ids", async () => {
  const catalog = TableCatalog.open(createTestRuntime({ storage: new MemoryStorageEngine() }), options);
  const created = await catalog.create(spec("cart"));
  assert.ok(created.ok);
  assert.equal(catalog.isDropped(created.value.id), false);
  assert.ok((await catalog.drop("cart")).ok);
  assert.equal(catalog.isDropped(created.value.id), true);
  await catalog.forgetDropped(created.value.id);
  assert.equal(catalog.isDropped(created.value.id), true);
  assert.equal(catalog.isDropped(created.value.id ^ 1), false);
});
