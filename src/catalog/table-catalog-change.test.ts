import { test } from "node:test";
import assert from "node:assert/strict";
import { catalogCluster, converged, tableSpec, type CatalogCluster } from "./catalog-cluster.test-support.js";
import { MemoryStorageEngine } from "../storage/memory-storage-engine.js";
import { createTestRuntime } from "../node/test-runtime.js";
import type { CatalogPublisher, PublishOutcome } from "./catalog-publisher.js";
import type { NameRecord } from "./catalog-record.js";
import { TableCatalog, changeAttemptsMax } from "./table-catalog.js";
import type { TableDefinition, TablePatch } from "./table-definition.js";

// TableCatalog.change: read-modify-writes of a table's settings through different nodes at the
// same moment must all land (UpdateTable and UpdateTimeToLive of one DynamoDB table).

async function setup(seed: number): Promise<CatalogCluster> {
  const cluster = await catalogCluster(seed);
  const created = await cluster.sim.settle(cluster.node("n1").catalog.create({ ...tableSpec("orders"), extensions: { a: 0, b: 0 } }));
  assert.ok(created.ok, JSON.stringify(created));
  return cluster;
}

const setField =
  (field: string, value: number, calls: { n: number }) =>
  (current: TableDefinition): TablePatch => {
    calls.n++;
    return { extensions: { ...current.extensions, [field]: value } };
  };

async function settledExtensions(cluster: CatalogCluster): Promise<unknown[]> {
  const done = await cluster.sim.runUntil(() => converged(cluster), { deadlineMs: cluster.sim.now() + 10_000 });
  assert.equal(done.reason, "predicate", "catalogs did not converge");
  return cluster.ids.map((id) => cluster.node(id).catalog.get("orders")?.extensions);
}

test("two concurrent changes of different fields through different nodes both land on every node", async () => {
  for (const seed of [31, 32, 33, 34]) {
    const cluster = await setup(seed);
    const calls = [{ n: 0 }, { n: 0 }];
    const results = await cluster.sim.settle(
      Promise.all([cluster.node("n1").catalog.change("orders", setField("a", 1, calls[0]!)), cluster.node("n2").catalog.change("orders", setField("b", 2, calls[1]!))]),
    );
    assert.ok(results.every((r) => r.ok), JSON.stringify(results));
    for (const extensions of await settledExtensions(cluster)) assert.deepEqual(extensions, { a: 1, b: 2 }, `seed ${seed}`);
    assert.ok(calls[0]!.n + calls[1]!.n > 2 && calls[0]!.n + calls[1]!.n <= 2 * changeAttemptsMax, "the loser decided again on top of the winner");
  }
});

test("the blind update (last writer wins) loses one of the two, which is why change exists", async () => {
  const cluster = await setup(35);
  const read = (id: string) => cluster.node(id).catalog.get("orders")!.extensions!;
  const [first, second] = [read("n1"), read("n2")];
  await cluster.sim.settle(Promise.all([cluster.node("n1").catalog.update("orders", { extensions: { ...first, a: 1 } }), cluster.node("n2").catalog.update("orders", { extensions: { ...second, b: 2 } })]));
  const extensions = await settledExtensions(cluster);
  assert.notDeepEqual(extensions[0], { a: 1, b: 2 });
});

test("a decision that refuses changes nothing; a change of a missing table is TableNotFound", async () => {
  const cluster = await setup(36);
  const refused = await cluster.sim.settle(cluster.node("n3").catalog.change("orders", () => ({ code: "InvalidTableOptions", message: "no" })));
  assert.deepEqual(refused, { ok: false, error: { code: "InvalidTableOptions", message: "no" } });
  assert.deepEqual(cluster.node("n3").catalog.get("orders")?.extensions, { a: 0, b: 0 });
  const missing = await cluster.sim.settle(cluster.node("n3").catalog.change("nope", (t) => ({ extensions: t.extensions ?? {} })));
  assert.ok(!missing.ok && missing.error.code === "TableNotFound");
});

test("a change already in effect after losing its stamp answers success instead of trading stamps with its twin until it gives up", async () => {
  // Two nodes that decide again on top of each other's identical result can keep outbidding each
  // other's stamp (CI saw an UpdateTable answer 503 for a change that had landed; the SDK's retry
  // then got "will not change"). This publisher plays that twin: every record published comes
  // back with the same settings under a higher stamp from another node.
  const catalog = TableCatalog.open(createTestRuntime({ storage: new MemoryStorageEngine() }), { tablesMax: 8, durableWrites: true });
  const created = await catalog.create({ ...tableSpec("orders"), extensions: { a: 0 } });
  assert.ok(created.ok);
  let publishes = 0;
  const twin: CatalogPublisher = {
    publish(records: readonly NameRecord[]): Promise<PublishOutcome> {
      publishes++;
      const replies = records.map((record) => ({
        ...record,
        incarnations: record.incarnations.map((i) => ({ ...i, settings: { ...i.settings, stamp: { at: i.settings.stamp.at + 1, by: "twin" } } })),
      }));
      return Promise.resolve({ missing: [], replies });
    },
  };
  catalog.attach(twin);
  const calls = { n: 0 };
  const changed = await catalog.change("orders", setField("a", 1, calls));
  assert.ok(changed.ok, JSON.stringify(changed));
  assert.deepEqual(changed.value.extensions, { a: 1 });
  assert.equal(publishes, 1, "the second decision found its result in effect and wrote nothing");
  assert.equal(calls.n, 2);
});
