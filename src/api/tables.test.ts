import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { fetch } from "undici";
import { startTestNode, type TestNode } from "../node/test-node.js";
import { eventually } from "../testing/eventually.js";
import { errorCode, json, postJson } from "./test-requests.js";

let t: TestNode;
before(async () => {
  t = await startTestNode({ limits: { tablesMax: 5 } });
});
after(() => t.close());

test("POST /v1/tables creates with defaults and describes configured and effective replication", async () => {
  const res = await postJson(`${t.url}/v1/tables`, { name: "cart" });
  assert.equal(res.status, 201);
  assert.equal(res.headers.get("location"), "/v1/tables/cart");
  const body = await json(res);
  assert.deepEqual(body, {
    name: "cart",
    replication: { n: 3, r: 2, w: 2 },
    effectiveReplication: { n: 1, r: 1, w: 1 },
    consistency: "eventual",
    conflicts: "siblings",
    createdAt: new Date(t.clock.nowMs()).toISOString(),
  });
  assert.deepEqual(await json(await fetch(`${t.url}/v1/tables/cart`)), body);
  const again = await postJson(`${t.url}/v1/tables`, { name: "cart" });
  assert.equal(again.status, 409);
  assert.equal(await errorCode(again), "TableExists");
});

test("options are stored as given", async () => {
  const res = await postJson(`${t.url}/v1/tables`, { name: "strong.tbl_1", replication: { n: 5, r: 3, w: 4 }, consistency: "strong", conflicts: "lww" });
  assert.equal(res.status, 201);
  const body = await json(await fetch(`${t.url}/v1/tables/strong.tbl_1`));
  assert.deepEqual(body.replication, { n: 5, r: 3, w: 4 });
  assert.equal(body.consistency, "strong");
  assert.equal(body.conflicts, "lww");
  const majority = await json(await postJson(`${t.url}/v1/tables`, { name: "five", replication: { n: 5 } }));
  assert.deepEqual(majority.replication, { n: 5, r: 3, w: 3 });
});

test("table names must be 3 to 255 characters of [A-Za-z0-9_.-]", async () => {
  assert.equal((await postJson(`${t.url}/v1/tables`, { name: "abc" })).status, 201);
  assert.equal((await postJson(`${t.url}/v1/tables`, { name: "x".repeat(255) })).status, 201);
  for (const name of ["ab", "x".repeat(256), "has space", "slash/name", "ünï", "", 42, null]) {
    const res = await postJson(`${t.url}/v1/tables`, { name });
    assert.equal(res.status, 400, String(name));
    assert.equal(await errorCode(res), "InvalidTableName");
  }
});

test("invalid options are 400 InvalidTableOptions and create nothing", async () => {
  const bad = [
    { replication: { n: 0 } },
    { replication: { n: 3, r: 4 } },
    { replication: { n: 3, w: 0 } },
    { replication: { n: 2.5 } },
    { replication: { n: "3" } },
    { replication: { n: 17 } },
    { replication: { n: 3, q: 1 } },
    { consistency: "linearizable" },
    { conflicts: "merge" },
    { ttl: 5 },
  ];
  for (const options of bad) {
    const res = await postJson(`${t.url}/v1/tables`, { name: "badopts", ...options });
    assert.equal(res.status, 400, JSON.stringify(options));
    assert.equal(await errorCode(res), "InvalidTableOptions");
  }
  assert.equal((await fetch(`${t.url}/v1/tables/badopts`)).status, 404);
});

test("GET /v1/tables lists by name; tablesMax bounds creation", async () => {
  const body = await json(await fetch(`${t.url}/v1/tables`));
  const names = body.tables.map((x: { name: string }) => x.name);
  assert.deepEqual(names, [...names].sort());
  assert.ok(names.includes("cart"));
  const res = await postJson(`${t.url}/v1/tables`, { name: "onetoomany" });
  assert.equal(names.length, 5);
  assert.equal(res.status, 400);
  assert.equal(await errorCode(res), "TooManyTables");
});

test("DELETE /v1/tables/{name} drops (204); then it is 404", async () => {
  assert.equal((await fetch(`${t.url}/v1/tables/abc`, { method: "DELETE" })).status, 204);
  assert.equal((await fetch(`${t.url}/v1/tables/abc`)).status, 404);
  const again = await fetch(`${t.url}/v1/tables/abc`, { method: "DELETE" });
  assert.equal(again.status, 404);
  assert.equal(await errorCode(again), "TableNotFound");
});

test("extensions are stored at create and shown back; anything but a small JSON object is 400", async () => {
  const extensions = { keySchema: [{ attributeName: "pk", keyType: "HASH" }], billingMode: "PAY_PER_REQUEST" };
  const res = await postJson(`${t.url}/v1/tables`, { name: "with_ext", extensions });
  assert.equal(res.status, 201);
  assert.deepEqual((await json(res)).extensions, extensions);
  assert.deepEqual((await json(await fetch(`${t.url}/v1/tables/with_ext`))).extensions, extensions);
  for (const bad of [["not", "an", "object"], "text", { blob: "x".repeat(20_000) }]) {
    const refused = await postJson(`${t.url}/v1/tables`, { name: "bad_ext", extensions: bad });
    assert.equal(refused.status, 400, JSON.stringify(bad).slice(0, 40));
    assert.equal(await errorCode(refused), "InvalidTableOptions");
  }
  assert.equal((await fetch(`${t.url}/v1/tables/bad_ext`)).status, 404);
});

test("on a three-node cluster a table created through one node answers on the others as soon as the create returns", async () => {
  const first = await startTestNode({ config: { nodeId: "t1" } });
  const seed = [`127.0.0.1:${first.node.peerPort}`];
  const others = [await startTestNode({ config: { nodeId: "t2", join: seed } }), await startTestNode({ config: { nodeId: "t3", join: seed } })];
  const all = [first, ...others];
  try {
    await eventually("three nodes up on every node", () => all.every((n) => n.node.cluster.status().members.filter((m) => m.state === "up").length === 3));
    const created = await postJson(`${first.url}/v1/tables`, { name: "shared", extensions: { owner: "t1" } });
    assert.equal(created.status, 201);
    const description = await json(created);
    assert.deepEqual(description.effectiveReplication, { n: 3, r: 2, w: 2 });
    for (const n of others) assert.deepEqual(await json(await fetch(`${n.url}/v1/tables/shared`)), description);
    assert.equal((await fetch(`${others[1]!.url}/v1/tables/shared`, { method: "DELETE" })).status, 204);
    for (const n of all) assert.equal((await fetch(`${n.url}/v1/tables/shared`)).status, 404);
  } finally {
    await Promise.all(all.map((n) => n.close()));
  }
});
