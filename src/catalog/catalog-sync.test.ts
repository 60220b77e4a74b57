import { test } from "node:test";
import assert from "node:assert/strict";
import { catalogCluster, converged, listings, tableSpec, type CatalogCluster } from "./catalog-cluster.test-support.js";
import { liveIncarnation } from "./catalog-record.js";
import type { CatalogResult } from "./table-catalog.js";
import type { TableDefinition } from "./table-definition.js";

// The replicated catalog on a simulated three-node cluster (membership, catalog, catalog sync):
// what a client of any node sees, and how nodes that missed a change catch up.

const convergeWithinMs = 10_000;

async function waitForConvergence(cluster: CatalogCluster, withinMs = convergeWithinMs): Promise<void> {
  const result = await cluster.sim.runUntil(() => converged(cluster), { deadlineMs: cluster.sim.now() + withinMs });
  assert.equal(result.reason, "predicate", `catalogs did not converge: ${JSON.stringify(listings(cluster))}`);
}

/** Runs the world until `work` settles, failing (not hanging) if it needs more than 10 s of virtual time. */
function settle<T>(cluster: CatalogCluster, work: Promise<T>): Promise<T> {
  return cluster.sim.settle(work, { deadlineMs: cluster.sim.now() + 10_000 });
}

function create(cluster: CatalogCluster, id: string, name: string): Promise<CatalogResult<TableDefinition>> {
  return settle(cluster, cluster.node(id).catalog.create(tableSpec(name)));
}

/** Waits until `observer`'s failure detector no longer counts `target` as up. */
async function waitUntilDown(cluster: CatalogCluster, observer: string, target: string): Promise<void> {
  const result = await cluster.sim.runUntil(() => !cluster.node(observer).membership.isUp(target), { deadlineMs: cluster.sim.now() + 5_000 });
  assert.equal(result.reason, "predicate", `${observer} still counts ${target} as up`);
}

test("a table created on one node is on every node when the create returns", async () => {
  const cluster = await catalogCluster(1);
  const created = await create(cluster, "n1", "cart");
  assert.ok(created.ok, JSON.stringify(created));
  for (const id of cluster.ids) assert.deepEqual(cluster.node(id).catalog.get("cart"), created.value, id);
  const dropped = await settle(cluster, cluster.node("n2").catalog.drop("cart"));
  assert.ok(dropped.ok);
  for (const id of cluster.ids) {
    assert.equal(cluster.node(id).catalog.get("cart"), undefined, id);
    assert.equal(cluster.node(id).catalog.isLive(created.value.id), false, id);
    assert.deepEqual(cluster.node(id).catalog.droppedIds(), [created.value.id], id);
  }
});

test("an update of replication and extensions reaches every node before it returns", async () => {
  const cluster = await catalogCluster(2);
  const created = await settle(cluster, cluster.node("n1").catalog.create({ ...tableSpec("orders"), extensions: { keySchema: ["pk"] } }));
  assert.ok(created.ok);
  const updated = await settle(cluster, cluster.node("n3").catalog.update("orders", { replication: { n: 3, r: 1, w: 3 }, extensions: { keySchema: ["pk"], ttl: "expires" } }));
  assert.ok(updated.ok, JSON.stringify(updated));
  for (const id of cluster.ids) {
    const table = cluster.node(id).catalog.get("orders");
    assert.deepEqual(table?.replication, { n: 3, r: 1, w: 3 }, id);
    assert.deepEqual(table?.extensions, { keySchema: ["pk"], ttl: "expires" }, id);
    assert.equal(table?.id, created.value.id, id);
  }
});

test("a node that was down during create and drop converges once it is back", async () => {
  const cluster = await catalogCluster(3);
  assert.ok((await create(cluster, "n1", "old")).ok);
  cluster.sim.crash("n3");
  await waitUntilDown(cluster, "n1", "n3");
  await waitUntilDown(cluster, "n2", "n3");
  const created = await create(cluster, "n1", "users");
  assert.ok(created.ok, "a down member is not waited for");
  assert.ok((await settle(cluster, cluster.node("n2").catalog.drop("old"))).ok);
  await cluster.sim.restart("n3");
  assert.ok(cluster.node("n3").catalog.get("old") !== undefined, "n3 restarts from its own disk");
  await waitForConvergence(cluster);
  assert.deepEqual(cluster.node("n3").catalog.get("users"), created.value);
  assert.equal(cluster.node("n3").catalog.get("old"), undefined);
  assert.equal(cluster.node("n3").catalog.droppedIds().length, 1, "n3 queues the dropped table's items for purging");
});

test("a create an up member cannot acknowledge answers CatalogUnavailable naming it, and sync finishes it", async () => {
  const cluster = await catalogCluster(4);
  cluster.sim.network.isolate("n3");
  const created = await create(cluster, "n1", "cart");
  assert.ok(!created.ok && created.error.code === "CatalogUnavailable", JSON.stringify(created));
  assert.ok(created.error.code === "CatalogUnavailable" && created.error.missing.includes("n3"));
  assert.ok(created.error.message.includes("n3"), created.error.message);
  assert.ok(cluster.node("n2").catalog.get("cart") !== undefined, "reachable members have it");
  assert.equal(cluster.node("n3").catalog.get("cart"), undefined);
  cluster.sim.network.heal();
  await waitForConvergence(cluster);
  assert.equal(cluster.node("n3").catalog.get("cart")?.id, cluster.node("n1").catalog.get("cart")?.id);
});

test("two concurrent creates of one name: exactly one answers created, and every node keeps that one", async () => {
  const cluster = await catalogCluster(5);
  const [a, b] = await settle(cluster, Promise.all([cluster.node("n1").catalog.create(tableSpec("cart")), cluster.node("n2").catalog.create(tableSpec("cart"))]));
  assert.equal([a, b].filter((r) => r.ok).length, 1, JSON.stringify([a, b]));
  const winner = [a, b].find((r) => r.ok);
  const loser = [a, b].find((r) => !r.ok);
  assert.ok(winner?.ok && loser !== undefined && !loser.ok && loser.error.code === "TableExists");
  await waitForConvergence(cluster);
  for (const id of cluster.ids) assert.equal(cluster.node(id).catalog.get("cart")?.id, winner.value.id, id);
});

test("concurrent creates on two sides of a partition converge to the earlier one, and the other's id is purged", async () => {
  const cluster = await catalogCluster(6);
  cluster.sim.network.partition(["n1"], ["n2", "n3"]);
  const first = await create(cluster, "n1", "cart");
  await cluster.sim.runUntil(cluster.sim.now() + 50);
  const second = await create(cluster, "n2", "cart");
  // Each side answered (201, or 503 while the detector still counted the other side as up) and
  // kept its own table.
  for (const result of [first, second]) assert.ok(result.ok || result.error.code === "CatalogUnavailable", JSON.stringify(result));
  const firstId = cluster.node("n1").catalog.get("cart")!.id;
  const secondId = cluster.node("n2").catalog.get("cart")!.id;
  assert.notEqual(firstId, secondId);
  cluster.sim.network.heal();
  await waitForConvergence(cluster);
  for (const id of cluster.ids) {
    assert.equal(cluster.node(id).catalog.get("cart")?.id, firstId, id);
    assert.equal(cluster.node(id).catalog.isLive(secondId), false, id);
  }
  assert.ok(cluster.node("n2").catalog.droppedIds().includes(secondId), "the losing table's items get purged");
});

test("a drop beats a concurrent create stamped before it, even one the dropping node never saw", async () => {
  const cluster = await catalogCluster(7);
  cluster.sim.network.partition(["n1", "n2"], ["n3"]);
  await create(cluster, "n3", "cart");
  assert.ok(cluster.node("n3").catalog.get("cart") !== undefined);
  await cluster.sim.runUntil(cluster.sim.now() + 50);
  await create(cluster, "n1", "cart");
  await cluster.sim.runUntil(cluster.sim.now() + 50);
  const dropped = await settle(cluster, cluster.node("n1").catalog.drop("cart"));
  assert.ok(dropped.ok || dropped.error.code === "CatalogUnavailable", JSON.stringify(dropped));
  assert.equal(cluster.node("n1").catalog.get("cart"), undefined);
  cluster.sim.network.heal();
  await waitForConvergence(cluster);
  for (const id of cluster.ids) assert.equal(cluster.node(id).catalog.get("cart"), undefined, id);
  assert.equal(cluster.node("n3").catalog.record("cart")?.incarnations.every((i) => i.dead), true);
});

test("a create stamped after a concurrent drop survives it", async () => {
  const cluster = await catalogCluster(8);
  assert.ok((await create(cluster, "n1", "cart")).ok);
  cluster.sim.network.partition(["n1", "n2"], ["n3"]);
  await settle(cluster, cluster.node("n1").catalog.drop("cart"));
  await cluster.sim.runUntil(cluster.sim.now() + 50);
  // n3 never saw that drop: its own drop, then a create stamped later than n1's drop.
  assert.ok(cluster.node("n3").catalog.get("cart") !== undefined);
  await settle(cluster, cluster.node("n3").catalog.drop("cart"));
  await create(cluster, "n3", "cart");
  const id = cluster.node("n3").catalog.get("cart")!.id;
  cluster.sim.network.heal();
  await waitForConvergence(cluster);
  for (const node of cluster.ids) assert.equal(cluster.node(node).catalog.get("cart")?.id, id, node);
});

test("table ids are unique across the cluster, live or dropped", async () => {
  const cluster = await catalogCluster(9);
  const work = [];
  for (let i = 0; i < 12; i++) work.push(cluster.node(cluster.ids[i % 3]!).catalog.create(tableSpec(`t${i}`)));
  const results = await settle(cluster, Promise.all(work));
  assert.ok(results.every((r) => r.ok));
  for (let i = 0; i < 12; i += 3) assert.ok((await settle(cluster, cluster.node("n2").catalog.drop(`t${i}`))).ok);
  for (let i = 0; i < 12; i += 3) assert.ok((await create(cluster, "n3", `t${i}`)).ok);
  await waitForConvergence(cluster);
  const ids: number[] = [];
  for (let i = 0; i < 12; i++) for (const incarnation of cluster.node("n1").catalog.record(`t${i}`)!.incarnations) ids.push(incarnation.id);
  assert.equal(ids.length, 16);
  assert.equal(new Set(ids).size, 16, "no id used twice");
});

test("the catalog survives a crash and restart from its own disk", async () => {
  const cluster = await catalogCluster(10);
  const created = await settle(cluster, cluster.node("n2").catalog.create({ ...tableSpec("kept"), extensions: { billing: "PAY_PER_REQUEST" } }));
  assert.ok(created.ok);
  cluster.sim.crash("n2");
  await cluster.sim.restart("n2");
  const record = cluster.node("n2").catalog.record("kept");
  assert.ok(record !== undefined);
  assert.deepEqual(cluster.node("n2").catalog.get("kept"), created.value);
  assert.equal(liveIncarnation(record)?.id, created.value.id);
});

test("a node that missed many changes converges even when one sync message holds only a few records", async () => {
  const cluster = await catalogCluster(11, ["n1", "n2", "n3"], { messageBytesMax: 600 });
  cluster.sim.crash("n3");
  await waitUntilDown(cluster, "n1", "n3");
  await waitUntilDown(cluster, "n2", "n3");
  const work = [];
  for (let i = 0; i < 40; i++) work.push(cluster.node(i % 2 === 0 ? "n1" : "n2").catalog.create(tableSpec(`table${i}`)));
  assert.ok((await settle(cluster, Promise.all(work))).every((r) => r.ok));
  await cluster.sim.restart("n3");
  // About two records per message and a round per node per second: 40 records take rounds.
  await waitForConvergence(cluster, 60_000);
  assert.equal(cluster.node("n3").catalog.list().length, 40);
});

test("one seed, run twice, gives the same trace", async () => {
  async function run(): Promise<string> {
    const cluster = await catalogCluster(12);
    cluster.sim.network.isolate("n2");
    await settle(cluster, Promise.all([cluster.node("n1").catalog.create(tableSpec("a")), cluster.node("n3").catalog.create(tableSpec("b"))]));
    cluster.sim.network.heal();
    await waitForConvergence(cluster);
    return cluster.sim.traceHash();
  }
  assert.equal(await run(), await run());
});
