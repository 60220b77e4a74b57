import { test, after } from "node:test";
import assert from "node:assert/strict";
import { fetch } from "undici";
import { createTable, itemUrl, put } from "../api/test-requests.js";
import { partitionOf } from "../ring/partition-hash.js";
import { decodeItemKey, encodeItemKey } from "../storage/item-key.js";
import { eventually } from "../testing/eventually.js";
import type { TestNode } from "./test-node.js";
import { ringOf, send, settled, TestNodeGroup } from "./node-group.test-support.js";

// Replacing a dead node (issue 6; paxos/README.md, "Replacing a dead node") on in-process nodes
// over real TCP and real timers: strong and eventual tables with n = 2 are refilled from their
// one surviving replica and the ring settles; a table with n = 1 whose only replica died makes
// the commit refuse (409 DataLoss, naming it) until it is forced, and then loses what it held.

const group = new TestNodeGroup();
after(() => group.closeAll());
const start = (id: string, seed?: TestNode): Promise<TestNode> => group.start(id, { seed });
const stop = (node: TestNode): Promise<void> => group.stop(node);
const ring = ringOf;

/** Keys whose value does not read back through `t` (strong: the one-round-trip get; eventual: R=2). */
async function unreadable(t: TestNode, table: string, keys: ReadonlyMap<string, string>, query = ""): Promise<string[]> {
  const wrong: string[] = [];
  for (const [key, value] of keys) {
    const res = await fetch(`${itemUrl(t.url, table, key)}${query}`);
    const text = await res.text();
    if (res.status !== 200 || text !== value) wrong.push(`${key}: ${res.status} ${text.slice(0, 60)}`);
  }
  return wrong;
}

const encoder = new TextEncoder();

test("replace of a killed node: strong and eventual n=2 tables are refilled from the survivor and the ring settles; an n=1 table makes the commit refuse until forced", async () => {
  const a = await start("a");
  const b = await start("b", a);
  const c = await start("c", a);
  await eventually("a settled ring of three", () => settled([a, b, c], 3), { deadlineMs: 30_000 });
  assert.equal((await send("POST", `${b.url}/v1/cluster/plan`, { mode: "manual" })).status, 200);
  await createTable(a.url, "strong2", { replication: { n: 2, r: 2, w: 2 }, consistency: "strong" });
  await createTable(a.url, "even2", { replication: { n: 2, r: 2, w: 2 } });
  await createTable(a.url, "one1", { replication: { n: 1, r: 1, w: 1 } });
  await createTable(a.url, "strong1", { replication: { n: 1, r: 1, w: 1 }, consistency: "strong" });
  const tables = ["strong2", "even2", "one1", "strong1"];
  await eventually("the tables on every node", () => [b, c].every((t) => tables.every((name) => t.node.catalog.get(name) !== undefined)));
  const acked = new Map<string, string>();
  const writers = [a, b, c];
  for (let i = 0; i < 40; i++) {
    for (const table of tables) {
      const res = await put(itemUrl(writers[i % 3]!.url, table, `k${i}`), `v${i}`);
      assert.ok(res.status === 200 || res.status === 201, `${table} k${i}: ${res.status} ${await res.text()}`);
    }
    acked.set(`k${i}`, `v${i}`);
  }
  const before = ring(a);
  await stop(c);
  await eventually("a to see c dead", () => ["suspect", "down"].includes(a.node.cluster.membership.member("c")?.state ?? ""));
  const d = await start("d", a);
  await eventually("a to see d joining", () => a.node.cluster.membership.member("d")?.state === "joining");
  assert.equal((await send("POST", `${b.url}/v1/cluster/plan`, { replace: ["c", "d"] })).status, 200);

  const refused = await send("POST", `${d.url}/v1/cluster/commit`);
  assert.equal(refused.status, 409, JSON.stringify(refused.body));
  assert.equal(refused.body.error.code, "DataLoss");
  assert.match(refused.body.error.message, /c is down/);
  assert.match(refused.body.error.message, /one1 \(n=1, eventual\), strong1 \(n=1, strong\)/);
  assert.doesNotMatch(refused.body.error.message, /strong2|even2/, "n=2 tables keep a replica that holds every acknowledged value");
  assert.equal(ring(a).version, before.version, "nothing was published");
  const badForce = await send("POST", `${d.url}/v1/cluster/commit?force=yes`);
  assert.equal(badForce.status, 400, JSON.stringify(badForce.body));
  assert.match(badForce.body.error.message, /force must be true or false/);

  const forced = await send("POST", `${d.url}/v1/cluster/commit?force=true`);
  assert.equal(forced.status, 200, JSON.stringify(forced.body));
  await eventually("the ring to settle with d in place of c", () => settled([a, b, d], 3), { deadlineMs: 40_000 });
  assert.deepEqual(ring(a).members.map((m) => m.id), ["a", "b", "d"]);

  for (const t of [a, b, d]) {
    assert.deepEqual(await unreadable(t, "strong2", acked), [], `strong n=2 through ${t.node.cluster.membership.self.id}: every acknowledged value`);
    assert.deepEqual(await unreadable(t, "even2", acked, "?r=2"), [], `eventual n=2 through ${t.node.cluster.membership.self.id}`);
  }
  // n = 1: what c held is gone, the rest stays; d reported the loss.
  const onC = (table: string, key: string) => before.owners[partitionOf(decodeItemKey(encodeItemKey(d.node.catalog.get(table)!.id, encoder.encode(key))).partitionKey, before.partitionCount)] === "c";
  for (const table of ["one1", "strong1"]) {
    const kept = new Map([...acked].filter(([key]) => !onC(table, key)));
    assert.ok(kept.size > 0 && kept.size < acked.size, `${table}: ${kept.size} of ${acked.size} keys were not on c`);
    assert.deepEqual(await unreadable(d, table, kept), [], `${table}: keys not on c read back`);
    for (const [key] of acked) if (onC(table, key)) assert.equal((await fetch(itemUrl(d.url, table, key)).then(async (res) => (await res.text(), res.status))), 404, `${table} ${key} was only on c`);
  }
  const losses = [...d.node.transfer.losses.values()].join("\n");
  assert.match(losses, /only c held/);
});
