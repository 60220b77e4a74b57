import { test, after } from "node:test";
import assert from "node:assert/strict";
import { fetch } from "undici";
import { createTable, itemUrl, put } from "../api/test-requests.js";
import { ringDiff } from "../ring/ring-diff.js";
import { partitionShares, partitionsOwnedBy } from "../ring/ring-state.js";
import { tableItemsPrefix } from "../storage/item-key.js";
import { eventually } from "../testing/eventually.js";
import type { TestNode } from "./test-node.js";
import { ringOf, send, settled, TestNodeGroup } from "./node-group.test-support.js";

// Staged membership plans on in-process nodes over real TCP and real timers (issue 6, item 2):
// manual joins, serialised commits, leave, replace of a dead node, and the API's refusals.

const group = new TestNodeGroup();
after(() => group.closeAll());
const start = (id: string, options: { seed?: TestNode; plan?: "auto" | "manual" } = {}): Promise<TestNode> => group.start(id, options);
const stop = (node: TestNode): Promise<void> => group.stop(node);
const ring = ringOf;

const stage = (t: TestNode, change: unknown) => send("POST", `${t.url}/v1/cluster/plan`, change);
const commit = (t: TestNode) => send("POST", `${t.url}/v1/cluster/commit`);
const planOf = (t: TestNode) => send("GET", `${t.url}/v1/cluster/plan`);

function storedKeys(t: TestNode, table: string): number {
  return [...t.storage.range({ prefix: tableItemsPrefix(t.node.catalog.get(table)!.id), limit: 10_000 })].length;
}

async function readAll(t: TestNode, table: string, keys: ReadonlyMap<string, string>): Promise<string[]> {
  const missing: string[] = [];
  for (const [key, value] of keys) {
    const res = await fetch(`${itemUrl(t.url, table, key)}?r=2`);
    const text = await res.text();
    if (res.status !== 200 || text !== value) missing.push(`${key}: ${res.status} ${text.slice(0, 40)}`);
  }
  return missing;
}

test("manual mode: a node started with --join stays joining and owns nothing until its join is committed; the commit moves its share only", async () => {
  const a = await start("a", { plan: "manual" });
  const b = await start("b", { seed: a });
  await createTable(a.url, "tab", { replication: { n: 1, r: 1, w: 1 } });
  const keys = new Map<string, string>();
  for (let i = 0; i < 60; i++) {
    keys.set(`k${i}`, `v${i}`);
    assert.equal((await put(itemUrl(a.url, "tab", `k${i}`), `v${i}`)).status, 201);
  }
  await eventually("a to see b joining", () => a.node.cluster.membership.member("b")?.state === "joining");
  // The plan sync takes a round trip to the leader after b's start: by then the leader has had
  // gossip rounds with b joining, which in auto mode claim it.
  await eventually("b to learn the manual mode from the leader", async () => (await planOf(b)).body?.mode === "manual");
  await eventually("the table to reach b", () => b.node.catalog.get("tab") !== undefined);
  assert.equal(ring(a).version, 1, "no ring was published for b");
  assert.equal(b.node.cluster.status().members.find((m) => m.id === "b")?.state, "joining");
  const before = ring(a);

  const staged = await stage(b, { join: "b" });
  assert.equal(staged.status, 200, JSON.stringify(staged.body));
  assert.deepEqual(staged.body.changes, [{ join: "b" }]);
  const view = (await planOf(b)).body;
  assert.equal(view.error, undefined);
  assert.equal(view.summary.find((s: { node: string }) => s.node === "b").owns, before.partitionCount / 2);
  assert.equal(ring(a).version, 1, "staging changes no ring");

  const committed = await commit(b);
  assert.equal(committed.status, 200, JSON.stringify(committed.body));
  assert.equal(committed.body.ringVersion, 2);
  await eventually("the ring of two to settle on both", () => settled([a, b], 2), { deadlineMs: 30_000 });
  const after = ring(a);
  const moved = ringDiff(before, after);
  assert.equal(moved.length, after.partitionCount / 2, "exactly b's half moves (1/N)");
  assert.ok(moved.every((m) => m.to === "b"));
  assert.deepEqual([...partitionShares(after).values()], [after.partitionCount / 2, after.partitionCount / 2]);
  assert.equal(b.node.cluster.status().members.find((m) => m.id === "b")?.state, "up");
  assert.ok(storedKeys(b, "tab") > 0, "b pulled the keys of its partitions");
  assert.equal(storedKeys(a, "tab") + storedKeys(b, "tab") >= keys.size, true);
  for (const [key, value] of keys) assert.equal(await (await fetch(itemUrl(b.url, "tab", key))).text(), value);
});

test("two commits through two nodes at once publish one ring: one answers 200, the other 409", async () => {
  const a = await start("a", { plan: "manual" });
  const b = await start("b", { seed: a });
  await eventually("a to see b joining", () => a.node.cluster.membership.member("b")?.state === "joining");
  assert.equal((await stage(a, { join: "b" })).status, 200);
  await eventually("b to receive the staged plan", async () => (await planOf(b)).body?.changes?.length === 1);
  const answers = await Promise.all([commit(a), commit(b)]);
  const statuses = answers.map((x) => x.status).sort();
  assert.deepEqual(statuses, [200, 409], JSON.stringify(answers.map((x) => x.body)));
  const loser = answers.find((x) => x.status === 409)!;
  assert.ok(["RingInTransition", "PlanEmpty"].includes(loser.body.error.code), JSON.stringify(loser.body));
  await eventually("one settled ring on both", () => settled([a, b], 2), { deadlineMs: 30_000 });
  assert.equal(ring(a).version, 3, "one transition (v2) and its settling (v3): no second ring");
  assert.deepEqual(ring(a), ring(b));
});

test("bad plan requests: 400 naming what is wrong, 405, 409 for an empty plan; none changes the plan", async () => {
  const a = await start("a");
  const cases: Array<[unknown, string]> = [
    [[1, 2], "InvalidPlanChange"],
    [{ join: "x", leave: "y" }, "InvalidPlanChange"],
    [{ jion: "x" }, "InvalidPlanChange"],
    [{ replace: ["a"] }, "InvalidPlanChange"],
    [{ replace: ["a", "a"] }, "InvalidPlanChange"],
    [{ join: "" }, "InvalidPlanChange"],
    [{ leave: "b", zone: "z" }, "InvalidPlanChange"],
    [{ mode: "sometimes" }, "InvalidPlanMode"],
    [{ mode: "manual", join: "x" }, "InvalidPlanChange"],
    [{ join: "nobody" }, "UnknownNode"],
    [{ leave: "nobody" }, "UnknownNode"],
    [{ leave: "a" }, "PlanUnplaceable"],
  ];
  for (const [body, code] of cases) {
    const res = await stage(a, body);
    assert.equal(res.status, 400, JSON.stringify(body));
    assert.equal(res.body.error.code, code, JSON.stringify([body, res.body]));
    assert.ok(res.body.error.message.length > 10);
  }
  const notJson = await fetch(`${a.url}/v1/cluster/plan`, { method: "POST", headers: { "content-type": "application/json" }, body: "{" });
  assert.equal(notJson.status, 400);
  assert.equal((await fetch(`${a.url}/v1/cluster/plan`, { method: "PUT" })).status, 405);
  assert.equal((await fetch(`${a.url}/v1/cluster/commit`, { method: "GET" })).status, 405);
  const empty = await commit(a);
  assert.deepEqual([empty.status, empty.body.error.code], [409, "PlanEmpty"]);
  const view = (await planOf(a)).body;
  assert.deepEqual([view.mode, view.changes, view.ringVersion, view.error], ["auto", [], 1, "no changes are staged"]);
  assert.equal((await send("POST", `${a.url}/v1/cluster/plan`, { mode: "manual" })).status, 200);
  assert.equal((await planOf(a)).body.mode, "manual");
  assert.equal((await send("DELETE", `${a.url}/v1/cluster/plan`)).status, 200);
});

test("leave: the committed ring drops the leaver, which serves until the ring settles, then announces leaving and resolves left; no acknowledged write is lost", async () => {
  const a = await start("a");
  const b = await start("b", { seed: a });
  const c = await start("c", { seed: a });
  await eventually("a settled ring of three", () => settled([a, b, c], 3), { deadlineMs: 30_000 });
  await createTable(a.url, "tab", { replication: { n: 2, r: 2, w: 2 } });
  await eventually("the table on every node", () => [b, c].every((t) => t.node.catalog.get("tab") !== undefined));
  const acked = new Map<string, string>();
  const write = async (via: TestNode, key: string) => {
    const res = await put(itemUrl(via.url, "tab", key), `v-${key}`);
    if (res.status === 201 || res.status === 200) acked.set(key, `v-${key}`);
  };
  for (let i = 0; i < 40; i++) await write([a, b, c][i % 3]!, `before${i}`);
  assert.equal(acked.size, 40);
  let leftAt: number | undefined;
  void c.node.left.then(() => (leftAt = ring(a).version));

  const staged = await stage(a, { leave: "c" });
  assert.equal(staged.status, 200, JSON.stringify(staged.body));
  const committed = await commit(b);
  assert.equal(committed.status, 200, JSON.stringify(committed.body));
  // Writes keep going through every node, the leaver included, while partitions move.
  let i = 0;
  while (leftAt === undefined && i < 400) {
    await write([a, b, c][i % 3]!, `during${i}`);
    i++;
  }
  await c.node.left;
  assert.ok(i > 0, "some writes ran during the handoff");
  assert.equal(ring(c).previous, undefined, "the leaver left only once the ring settled");
  assert.ok(!ring(c).members.some((m) => m.id === "c"));
  assert.equal(c.node.cluster.membership.self.state, "leaving");
  // The commit listed c as departing (ring-state.ts): a and b recorded it, and c reported a clean departure before it left.
  assert.deepEqual(ring(c).departing, ["c"]);
  const cleanOf = (t: TestNode) => t.node.items.departures.get("c") ?? { placedUpTo: 0, cleanAt: -1 };
  await eventually("a and b to hold c's departure as clean", () => [a, b].every((t) => cleanOf(t).cleanAt > cleanOf(t).placedUpTo));
  await stop(c);
  await eventually("a and b to agree on a settled ring of two", () => settled([a, b], 2));
  assert.deepEqual(await readAll(a, "tab", acked), [], "every acknowledged write is readable at R=2");
  assert.deepEqual(await readAll(b, "tab", acked), []);
});

test("replace of a killed node: the new node takes exactly its partitions, filled from the surviving replicas (n=3, and n=2 where one of two old replicas is dead)", async () => {
  const a = await start("a");
  const b = await start("b", { seed: a });
  const c = await start("c", { seed: a });
  await eventually("a settled ring of three", () => settled([a, b, c], 3), { deadlineMs: 30_000 });
  assert.equal((await send("POST", `${b.url}/v1/cluster/plan`, { mode: "manual" })).status, 200);
  await createTable(a.url, "tab", { replication: { n: 3, r: 2, w: 2 } });
  await createTable(a.url, "two", { replication: { n: 2, r: 2, w: 2 } });
  await eventually("the tables on every node", () => [b, c].every((t) => t.node.catalog.get("tab") !== undefined && t.node.catalog.get("two") !== undefined));
  const acked = new Map<string, string>();
  for (let i = 0; i < 50; i++) {
    assert.equal((await put(itemUrl(a.url, "tab", `k${i}`), `v${i}`)).status, 201);
    assert.equal((await put(itemUrl(a.url, "two", `k${i}`), `v${i}`)).status, 201);
    acked.set(`k${i}`, `v${i}`);
  }
  const before = ring(a);
  await stop(c);
  await eventually("a to see c dead", () => ["suspect", "down"].includes(a.node.cluster.membership.member("c")?.state ?? ""));
  const d = await start("d", { seed: a });
  await eventually("a to see d joining", () => a.node.cluster.membership.member("d")?.state === "joining");
  assert.equal(ring(a).version, before.version, "manual mode: d is not claimed");
  const staged = await stage(b, { replace: ["c", "d"] });
  assert.equal(staged.status, 200, JSON.stringify(staged.body));
  const committed = await commit(d);
  assert.equal(committed.status, 200, JSON.stringify(committed.body));
  await eventually("the ring to settle with d in place of c", () => settled([a, b, d], 3), { deadlineMs: 40_000 });
  const after = ring(a);
  assert.deepEqual(after.members.map((m) => m.id), ["a", "b", "d"]);
  assert.deepEqual(partitionsOwnedBy(after, "d"), partitionsOwnedBy(before, "c"), "d owns exactly c's partitions");
  assert.ok(ringDiff(before, after).every((t) => t.from === "c" && t.to === "d"), "nothing else moved");
  assert.equal(storedKeys(d, "tab"), acked.size, "n=3 on three nodes: d holds every key, pulled from a and b");
  assert.deepEqual(await readAll(d, "tab", acked), []);
  assert.ok(storedKeys(d, "two") > 0, "d pulled the n=2 keys of c's partitions from their one live old replica");
  assert.deepEqual(await readAll(d, "two", acked), [], "n=2 at R=2: every key is on its two new replicas");
  assert.equal(after.departing, undefined, "a replace lists no departure");
  for (const t of [a, b, d]) assert.equal(t.node.items.departures.get("c"), undefined, `${t.node.nodeId} waits for no report from the replaced c`);
});

test("a new node started with --join and --plan manual switches the cluster to manual before it is seen, and stays joining", async () => {
  const a = await start("a");
  const b = await start("b", { seed: a, plan: "manual" });
  assert.equal(a.node.cluster.plan.mode(), "manual", "the mode reached the leader before b's start returned");
  await eventually("a to see b joining", () => a.node.cluster.membership.member("b")?.state === "joining");
  await eventually("b to hold the manual plan", () => b.node.cluster.plan.mode() === "manual");
  assert.equal(ring(a).version, 1);
  assert.deepEqual(ring(a).members.map((m) => m.id), ["a"]);
});

test("replace of a running node: the new node takes its partitions and the old one, no longer placed, leaves by itself", async () => {
  const a = await start("a", { plan: "manual" });
  const b = await start("b", { seed: a });
  await eventually("a to see b joining", () => a.node.cluster.membership.member("b")?.state === "joining");
  assert.equal((await stage(a, { join: "b" })).status, 200);
  assert.equal((await commit(a)).status, 200);
  await eventually("a settled ring of two", () => settled([a, b], 2), { deadlineMs: 30_000 });
  const before = ring(a);
  const c = await start("c", { seed: a });
  await eventually("a to see c joining", () => a.node.cluster.membership.member("c")?.state === "joining");
  const replaced = await send("POST", `${c.url}/v1/cluster/plan`, { replace: ["b", "c"] });
  assert.equal(replaced.status, 200, JSON.stringify(replaced.body));
  assert.equal((await commit(c)).status, 200);
  await b.node.left;
  assert.deepEqual(partitionsOwnedBy(ring(b), "c"), partitionsOwnedBy(before, "b"));
  // Running when replaced, b departs like a leaver (GC waits for it) and reported clean before it left.
  assert.deepEqual(ring(b).departing, ["b"]);
  const cleanOf = (t: TestNode) => t.node.items.departures.get("b") ?? { placedUpTo: 0, cleanAt: -1 };
  await eventually("a and c to hold b's departure as clean", () => [a, c].every((t) => cleanOf(t).cleanAt > cleanOf(t).placedUpTo));
  await stop(b);
  await eventually("a and c on the settled ring", () => settled([a, c], 2));
  assert.deepEqual(ring(a).members.map((m) => m.id), ["a", "c"]);
});

test("the ring leader itself leaves: it settles its own leave, exits, and the next leader holds the plan", async () => {
  const a = await start("a");
  const b = await start("b", { seed: a });
  const c = await start("c", { seed: a });
  await eventually("a settled ring of three", () => settled([a, b, c], 3), { deadlineMs: 30_000 });
  assert.equal(b.node.cluster.membership.leader(), "a");
  assert.equal((await send("POST", `${c.url}/v1/cluster/plan`, { mode: "manual" })).status, 200);
  assert.equal((await stage(b, { leave: "a" })).status, 200);
  assert.equal((await commit(c)).status, 200);
  await a.node.left;
  await stop(a);
  await eventually("b and c on a settled ring of two", () => settled([b, c], 2));
  await eventually("b to lead", () => b.node.cluster.membership.leader() === "b" && c.node.cluster.membership.leader() === "b");
  const view = await planOf(c);
  assert.deepEqual([view.body.mode, view.body.changes], ["manual", []], "the mode set through the old leader survives it");
  const d = await start("d", { seed: b });
  await eventually("b to see d joining", () => b.node.cluster.membership.member("d")?.state === "joining");
  assert.equal((await stage(c, { join: "d" })).status, 200);
  assert.equal((await commit(c)).status, 200);
  await eventually("d in a settled ring of three", () => settled([b, c, d], 3), { deadlineMs: 30_000 });
});
