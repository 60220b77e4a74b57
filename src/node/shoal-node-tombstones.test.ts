import { test } from "node:test";
import assert from "node:assert/strict";
import { fetch } from "undici";
import { contextOf, createTable, itemUrl, put } from "../api/test-requests.js";
import { partitionOf } from "../ring/partition-hash.js";
import { preferenceList } from "../ring/preference-list.js";
import { encodeItemKey } from "../storage/item-key.js";
import type { StorageEngine } from "../storage/storage-engine.js";
import { eventually } from "../testing/eventually.js";
import * as dvvset from "../versioning/dotted-version-vector-set.js";
import type { NodeConfig } from "./node-config.js";
import { startTestNode, type TestNode } from "./test-node.js";

// Issue 6, "TTL and deletes never come back": in-process ShoalNodes over real TCP (manual
// clocks, real timers; tombstone GC grace 1 s), an item deleted, or superseded by a value that
// then expired, while one replica is down stays gone when that replica returns with its old
// value, through each repair path alone: anti-entropy (no reads), hinted handoff (anti-entropy
// off, no reads) and read repair (anti-entropy off, no fallback). Each time the clocks move far
// past the grace while the replica is down: tombstone GC must not collect then (the returning
// replica's old value would be all that is left), and collects everywhere once it holds the
// tombstone.

const graceMs = 1_000;
const ids = ["a1", "b2", "c3", "d4"];
const encoder = new TextEncoder();

interface Cluster {
  nodes: Map<string, TestNode>;
  /** Each node's latest start, closed or not: its replica reads its storage, which stays open. */
  last: Map<string, TestNode>;
  storages: Map<string, StorageEngine>;
  config: Partial<NodeConfig>;
  seed: string;
}

async function startCluster(size: number, config: Partial<NodeConfig>): Promise<Cluster> {
  const nodes = new Map<string, TestNode>();
  const first = await startTestNode({ config: { nodeId: ids[0]!, ...config }, tombstoneGraceMs: graceMs, antiEntropyIntervalMs: 100 });
  nodes.set(ids[0]!, first);
  const seed = `127.0.0.1:${first.node.peerPort}`;
  const cluster: Cluster = { nodes, last: new Map([[ids[0]!, first]]), storages: new Map([[ids[0]!, first.storage]]), config, seed };
  try {
    for (const id of ids.slice(1, size)) {
      const t = await startTestNode({ config: { nodeId: id, join: [seed], ...config }, tombstoneGraceMs: graceMs, antiEntropyIntervalMs: 100 });
      nodes.set(id, t);
      cluster.last.set(id, t);
      cluster.storages.set(id, t.storage);
    }
    await eventually("a settled ring of every node", () => [...nodes.values()].every((t) => t.node.cluster.size() === size && t.node.cluster.status().pendingTransfers === 0), { deadlineMs: 20_000 });
  } catch (error) {
    await stopCluster(cluster);
    throw error;
  }
  return cluster;
}

async function stopCluster(cluster: Cluster): Promise<void> {
  for (const t of [...cluster.nodes.values()].reverse()) await t.close();
  cluster.nodes.clear();
}

function up(cluster: Cluster): TestNode[] {
  return [...cluster.nodes.values()];
}

/** Closes `id`, keeping its storage (a process that stopped with its disk intact). */
async function stop(cluster: Cluster, id: string): Promise<void> {
  await cluster.nodes.get(id)!.close();
  cluster.nodes.delete(id);
  await eventually(`the others to see ${id} down`, () => up(cluster).every((t) => !t.node.cluster.membership.isUp(id)), { deadlineMs: 30_000 });
}

/** Starts `id` again over its old storage, its clock at the others' time. */
async function restart(cluster: Cluster, id: string): Promise<TestNode> {
  const nowMs = up(cluster)[0]!.clock.nowMs();
  const t = await startTestNode({ storage: cluster.storages.get(id)!, nowMs, config: { nodeId: id, join: [cluster.seed], ...cluster.config }, tombstoneGraceMs: graceMs, antiEntropyIntervalMs: 100 });
  cluster.nodes.set(id, t);
  cluster.last.set(id, t);
  await eventually(`every node to see ${id} up again`, () => up(cluster).every((other) => other.node.cluster.membership.isUp(id)), { deadlineMs: 30_000 });
  return t;
}

function advanceClocks(cluster: Cluster, ms: number): void {
  for (const t of up(cluster)) t.clock.advance(ms);
}

/** What `id`'s replica stores for the key: "absent", "tombstone" (only tombstones) or the live values it holds. */
function stored(cluster: Cluster, id: string, table: string, key: string): string {
  const tableId = up(cluster)[0]!.node.catalog.get(table)!.id;
  const set = cluster.last.get(id)!.node.items.replicas.fetch(encodeItemKey(tableId, encoder.encode(key)));
  if (set === undefined) return "absent";
  const live = dvvset.values(set).filter((s) => !s.tombstone);
  return live.length === 0 ? "tombstone" : live.map((s) => new TextDecoder().decode(s.value)).sort().join(",");
}

/** The key's primaries on the ring (n of them). */
function primaries(cluster: Cluster, key: string, n: number): string[] {
  const ring = up(cluster)[0]!.node.cluster.membership.ring()!;
  return preferenceList(ring, partitionOf(encoder.encode(key), ring.partitionCount), n);
}

async function status(url: string): Promise<number> {
  const res = await fetch(url);
  await res.text();
  return res.status;
}

/** Waits for `predicate`, failing at once if a node that was up all along ever stores a live value. */
async function eventuallyNeverLive(cluster: Cluster, what: string, table: string, key: string, watched: string[], predicate: () => boolean, deadlineMs = 20_000): Promise<void> {
  await eventually(what, () => {
    for (const id of watched) {
      const now = stored(cluster, id, table, key);
      assert.ok(now === "tombstone" || now === "absent", `${id} holds "${now}" for ${key}: the deleted value came back`);
    }
    return predicate();
  }, { deadlineMs });
}

/**
 * The common story: `old` written to all three primaries, the victim stopped, the value
 * deleted (or superseded by a value with a 1 s TTL that then expires) through the others, the
 * clocks moved far past the grace with the victim still down (GC must keep the tombstones),
 * the victim restarted with `old` on disk.
 */
async function missedWhileDown(cluster: Cluster, table: string, key: string, victim: string, how: "delete" | "ttl", whileDown?: () => void): Promise<string[]> {
  const others = up(cluster).map((t) => t.node.nodeId).filter((id) => id !== victim);
  const via = cluster.nodes.get(others[0]!)!;
  assert.equal((await put(`${itemUrl(via.url, table, key)}?w=3`, "old")).status, 201);
  for (const id of primaries(cluster, key, 3)) assert.equal(stored(cluster, id, table, key), "old", `${id} holds the first write`);
  await stop(cluster, victim);
  const url = itemUrl(via.url, table, key);
  if (how === "delete") {
    const context = await contextOf(url);
    assert.equal((await fetch(`${url}?w=2`, { method: "DELETE", headers: { "x-shoal-context": context } })).status, 204);
  } else {
    const context = await contextOf(url);
    assert.ok([200, 201, 204].includes((await put(`${url}?w=2`, "short-lived", { "x-shoal-context": context, "x-shoal-expires-in": "1" })).status));
    advanceClocks(cluster, 2_000);
    const swept = primaries(cluster, key, 3).filter((id) => id !== victim);
    await eventually("the expiry sweep to turn the expired value into tombstones", () => swept.every((id) => stored(cluster, id, table, key) === "tombstone"), { deadlineMs: 10_000 });
  }
  assert.equal(await status(url), 404);
  const holders = primaries(cluster, key, 3).filter((id) => id !== victim);
  const looked = () => holders.map((id) => cluster.nodes.get(id)!.node.items.reaper.stats).map((stats) => stats.attempted + stats.blockedPasses);
  const before = looked();
  advanceClocks(cluster, 10 * graceMs);
  await eventually("tombstone GC on every holder to run again (and hold back)", () => looked().every((count, i) => count > before[i]!), { deadlineMs: 10_000 });
  for (const id of holders) assert.equal(stored(cluster, id, table, key), "tombstone", `${id} keeps the tombstone while ${victim} is down`);
  whileDown?.();
  assert.equal(stored(cluster, victim, table, key), "old", `${victim} comes back with the old value on disk`);
  await restart(cluster, victim);
  return holders;
}

test("a delete missed by a replica that was down past the grace stays gone: anti-entropy alone repairs it, then GC collects it", async () => {
  const cluster = await startCluster(3, { antiEntropyIntervalMs: 100 });
  try {
    await createTable(cluster.nodes.get("a1")!.url, "tbl", { replication: { n: 3, r: 2, w: 2 } });
    await eventually("the table everywhere", () => up(cluster).every((t) => t.node.catalog.get("tbl") !== undefined));
    const holders = await missedWhileDown(cluster, "tbl", "gone", "c3", "delete");
    // No reads from here on: only anti-entropy can bring c3 the tombstone.
    await eventuallyNeverLive(cluster, "anti-entropy to bring c3 the tombstone, and GC to collect it everywhere", "tbl", "gone", holders, () => ids.slice(0, 3).every((id) => stored(cluster, id, "tbl", "gone") === "absent"));
    for (const t of up(cluster)) assert.equal(await status(`${itemUrl(t.url, "tbl", "gone")}?r=3`), 404, `read through ${t.node.nodeId}`);
    for (const id of ids.slice(0, 3)) assert.equal(stored(cluster, id, "tbl", "gone"), "absent");
  } finally {
    await stopCluster(cluster);
  }
});

test("a value that expired while a replica was down does not bring back the value it replaced (anti-entropy alone)", async () => {
  const cluster = await startCluster(3, { antiEntropyIntervalMs: 100 });
  try {
    await createTable(cluster.nodes.get("a1")!.url, "tbl", { replication: { n: 3, r: 2, w: 2 } });
    await eventually("the table everywhere", () => up(cluster).every((t) => t.node.catalog.get("tbl") !== undefined));
    const holders = await missedWhileDown(cluster, "tbl", "session", "c3", "ttl");
    await eventuallyNeverLive(cluster, "anti-entropy to bring c3 the tombstone, and GC to collect it everywhere", "tbl", "session", holders, () => ids.slice(0, 3).every((id) => stored(cluster, id, "tbl", "session") === "absent"));
    for (const t of up(cluster)) assert.equal(await status(`${itemUrl(t.url, "tbl", "session")}?r=3`), 404, `read through ${t.node.nodeId}`);
  } finally {
    await stopCluster(cluster);
  }
});

test("a delete missed by a replica that was down stays gone through hinted handoff alone (anti-entropy off, no reads)", async () => {
  const cluster = await startCluster(4, { antiEntropy: "off" });
  try {
    await createTable(cluster.nodes.get("a1")!.url, "tbl", { replication: { n: 3, r: 2, w: 2 } });
    await eventually("the table everywhere", () => up(cluster).every((t) => t.node.catalog.get("tbl") !== undefined));
    const key = "handed";
    const victim = primaries(cluster, key, 3).find((id) => id !== "a1")!;
    const hintsHeld = () => up(cluster).reduce((sum, t) => sum + t.node.items.hints.count(victim), 0);
    const holders = await missedWhileDown(cluster, "tbl", key, victim, "delete", () => assert.ok(hintsHeld() > 0, "a fallback holds the delete as a hint for the victim"));
    await eventuallyNeverLive(cluster, "the hint to reach the victim, and GC to collect everywhere", "tbl", key, holders, () => hintsHeld() === 0 && ids.every((id) => stored(cluster, id, "tbl", key) === "absent"));
    for (const t of up(cluster)) assert.equal(await status(`${itemUrl(t.url, "tbl", key)}?r=3`), 404, `read through ${t.node.nodeId}`);
  } finally {
    await stopCluster(cluster);
  }
});

test("a delete missed by a replica that was down stays gone through read repair (anti-entropy off, no fallback)", async () => {
  const cluster = await startCluster(3, { antiEntropy: "off" });
  try {
    await createTable(cluster.nodes.get("a1")!.url, "tbl", { replication: { n: 3, r: 2, w: 2 } });
    await eventually("the table everywhere", () => up(cluster).every((t) => t.node.catalog.get("tbl") !== undefined));
    const holders = await missedWhileDown(cluster, "tbl", "read", "c3", "delete");
    const attempted = () => holders.map((id) => cluster.nodes.get(id)!.node.items.reaper.stats.attempted);
    const before = attempted();
    await eventually("tombstone GC to look at the key with c3 back", () => attempted().every((count, i) => count > before[i]!), { deadlineMs: 10_000 });
    assert.equal(stored(cluster, "c3", "tbl", "read"), "old", "without anti-entropy or hints, c3 keeps the old value until a read");
    for (const id of holders) assert.equal(stored(cluster, id, "tbl", "read"), "tombstone", `GC waits for c3 on ${id}`);
    assert.equal(await status(`${itemUrl(cluster.nodes.get("c3")!.url, "tbl", "read")}?r=3`), 404, "the read through the stale replica");
    await eventuallyNeverLive(cluster, "read repair to bring c3 the tombstone, and GC to collect everywhere", "tbl", "read", holders, () => ids.slice(0, 3).every((id) => stored(cluster, id, "tbl", "read") === "absent"));
    for (const t of up(cluster)) assert.equal(await status(`${itemUrl(t.url, "tbl", "read")}?r=3`), 404, `read through ${t.node.nodeId}`);
  } finally {
    await stopCluster(cluster);
  }
});

test("strong tables: an item deleted, or one that expired, while a replica was down stays gone when it returns", async () => {
  const cluster = await startCluster(3, { antiEntropyIntervalMs: 100 });
  try {
    const a = cluster.nodes.get("a1")!;
    await createTable(a.url, "strong1", { consistency: "strong", replication: { n: 3 } });
    await eventually("the table everywhere", () => up(cluster).every((t) => t.node.catalog.get("strong1") !== undefined));
    assert.equal((await put(itemUrl(a.url, "strong1", "deleted"), "old")).status, 201);
    assert.equal((await put(itemUrl(a.url, "strong1", "expiring"), "old", { "x-shoal-expires-in": "1" })).status, 201);
    await stop(cluster, "c3");
    assert.equal((await fetch(itemUrl(a.url, "strong1", "deleted"), { method: "DELETE" })).status, 204);
    advanceClocks(cluster, 10 * graceMs);
    const c = await restart(cluster, "c3");
    for (const t of [c, ...up(cluster)]) {
      assert.equal(await status(itemUrl(t.url, "strong1", "deleted")), 404, `deleted, read through ${t.node.nodeId}`);
      assert.equal(await status(itemUrl(t.url, "strong1", "expiring")), 404, `expired, read through ${t.node.nodeId}`);
    }
  } finally {
    await stopCluster(cluster);
  }
});
