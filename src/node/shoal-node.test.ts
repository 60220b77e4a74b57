import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:net";
import { fetch } from "undici";
import { MemoryStorageEngine } from "../storage/memory-storage-engine.js";
import { LmdbStorageEngine } from "../storage/lmdb-storage-engine.js";
import { tableItemsPrefix } from "../storage/item-key.js";
import type { StorageEngine } from "../storage/storage-engine.js";
import { createTable, itemUrl, json, put } from "../api/test-requests.js";
import { startTestNode, type TestNode } from "./test-node.js";
import { decodeSiblingRecord } from "../replica/sibling-record.js";
import * as dvvset from "../versioning/dotted-version-vector-set.js";
import { eventually } from "../testing/eventually.js";

function storedItems(storage: StorageEngine, tableId: number): number {
  return [...storage.range({ prefix: tableItemsPrefix(tableId), limit: 10_000 })].length;
}

/** Stored keys of a table that still hold a live (not tombstone) sibling, expired or not. */
function storedLive(storage: StorageEngine, tableId: number): number {
  const records = [...storage.range({ prefix: tableItemsPrefix(tableId), limit: 10_000 })];
  return records.filter((entry) => dvvset.values(decodeSiblingRecord(entry.value)).some((sibling) => !sibling.tombstone)).length;
}

function tableId(t: TestNode, name: string): number {
  const table = t.node.catalog.get(name);
  assert.ok(table !== undefined, `table ${name} exists`);
  return table.id;
}

test("GET /health is 200 with the node id when ready; the node answers on the url it reports", async () => {
  const t = await startTestNode({ config: { nodeId: "node-a" } });
  try {
    assert.match(t.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(t.node.nodeId, "node-a");
    const res = await fetch(`${t.url}/health`);
    assert.equal(res.status, 200);
    assert.deepEqual(await json(res), { status: "ok", nodeId: "node-a" });
    const post = await fetch(`${t.url}/health`, { method: "POST" });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get("allow"), "GET, HEAD");
  } finally {
    await t.close();
  }
});

test("GET /metrics has request counts by route pattern and status, latency histograms, storage size and expired items", async () => {
  const t = await startTestNode();
  try {
    await createTable(t.url, "met");
    await put(itemUrl(t.url, "met", "some/raw/key"), "x");
    await fetch(itemUrl(t.url, "met", "absent"));
    const res = await fetch(`${t.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/plain/);
    const text = await res.text();
    assert.match(text, /shoal_http_requests_total\{route="\/v1\/tables\/\{table\}\/items\/\{key\}",method="PUT",status="201",node="n1"\} 1/);
    assert.match(text, /shoal_http_requests_total\{route="\/v1\/tables\/\{table\}\/items\/\{key\}",method="GET",status="404",node="n1"\} 1/);
    assert.match(text, /shoal_http_request_duration_seconds_bucket\{[^}]*route="\/v1\/tables",method="POST"/);
    assert.match(text, /shoal_storage_size_bytes\{node="n1"\} [1-9]\d*/);
    assert.match(text, /shoal_items_expired_total\{node="n1"\} 0/);
    assert.doesNotMatch(text, /some\/raw\/key/);
  } finally {
    await t.close();
  }
});

test("expired items are hidden at once, and the sweeper turns them into tombstones that keep their context", async () => {
  const t = await startTestNode({ config: { expirySweepIntervalMs: 5 }, limits: { expirySweepBatchMax: 3 } });
  try {
    await createTable(t.url, "ttl");
    for (let i = 0; i < 10; i++) await put(itemUrl(t.url, "ttl", `k${i}`), "x", { "x-shoal-expires-in": "10" });
    await put(itemUrl(t.url, "ttl", "forever"), "x");
    const first = await put(itemUrl(t.url, "ttl", "rewritten"), "x", { "x-shoal-expires-in": "10" });
    await put(itemUrl(t.url, "ttl", "rewritten"), "y", { "x-shoal-expires-in": "1000", "x-shoal-context": first.headers.get("x-shoal-context")! });
    const id = tableId(t, "ttl");
    assert.equal(storedLive(t.storage, id), 12);
    t.clock.advance(10_000);
    assert.equal((await fetch(itemUrl(t.url, "ttl", "k0"))).status, 404);
    await eventually("the sweeper to turn 10 expired items into tombstones", () => storedLive(t.storage, id) === 2);
    assert.equal(storedItems(t.storage, id), 12, "a swept key stays as a tombstone until tombstone GC");
    assert.equal(await (await fetch(itemUrl(t.url, "ttl", "rewritten"))).text(), "y");
    assert.equal((await fetch(itemUrl(t.url, "ttl", "k3"))).status, 404);
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    assert.match(metrics, /shoal_items_expired_total\{node="n1"\} 10/);
  } finally {
    await t.close();
  }
});

test("dropping a table removes its definition at once and its items in the background, in bounded chunks", async () => {
  const t = await startTestNode({ limits: { dropTableBatchMax: 7 } });
  try {
    await createTable(t.url, "big");
    await createTable(t.url, "kept");
    const batch = { put: Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: "v", ttl: 100 })) };
    const res = await fetch(`${t.url}/v1/tables/big/batch`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(batch) });
    assert.equal(res.status, 200);
    await put(itemUrl(t.url, "kept", "k0"), "stays");
    const id = tableId(t, "big");
    assert.equal(storedItems(t.storage, id), 50);
    assert.equal((await fetch(`${t.url}/v1/tables/big`, { method: "DELETE" })).status, 204);
    assert.equal((await fetch(itemUrl(t.url, "big", "k0"))).status, 404);
    await eventually("the purge of the dropped table", () => storedItems(t.storage, id) === 0);
    // Expiry-index entries went too; the other table is untouched; a new table of the same name is empty.
    assert.equal([...t.storage.range({ prefix: Uint8Array.of(0x03) })].length, 0);
    assert.equal(await (await fetch(itemUrl(t.url, "kept", "k0"))).text(), "stays");
    await createTable(t.url, "big");
    assert.deepEqual((await json(await fetch(`${t.url}/v1/tables/big/items`))).items, []);
  } finally {
    await t.close();
  }
});

test("close drains an in-flight request before returning, and then the port refuses connections", async () => {
  const t = await startTestNode();
  await createTable(t.url, "drain");
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  const pending = fetch(itemUrl(t.url, "drain", "slow"), {
    method: "PUT",
    duplex: "half",
    body: new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) }),
  });
  controller!.enqueue(new Uint8Array([1, 2, 3]));
  await eventually("the PUT to be in flight", async () => (await t.node.metrics.text()).includes('shoal_http_requests_in_flight{node="n1"} 1'));
  const closing = t.close();
  controller!.close();
  assert.equal((await pending).status, 201);
  await closing;
  await assert.rejects(fetch(`${t.url}/health`));
  // The write was acknowledged, so it is in storage.
  const restarted = await startTestNode({ storage: t.storage });
  try {
    assert.deepEqual(new Uint8Array(await (await fetch(itemUrl(restarted.url, "drain", "slow"))).arrayBuffer()), Uint8Array.from([1, 2, 3]));
  } finally {
    await restarted.close();
  }
});

test("a restart over the same storage keeps tables and items, and versions keep increasing even if the clock went back", async () => {
  const storage = new MemoryStorageEngine();
  const first = await startTestNode({ storage, nowMs: Date.UTC(2026, 5, 1) });
  await createTable(first.url, "keep");
  const v1 = (await put(itemUrl(first.url, "keep", "k"), "one")).headers.get("etag");
  await first.close();
  const second = await startTestNode({ storage, nowMs: Date.UTC(2026, 4, 1) });
  try {
    const got = await fetch(itemUrl(second.url, "keep", "k"));
    assert.equal(got.headers.get("etag"), v1);
    const res = await put(itemUrl(second.url, "keep", "k"), "two", { "if-match": v1! });
    assert.equal(res.status, 200);
    const lastModified = Date.parse(res.headers.get("last-modified")!);
    assert.ok(lastModified >= Date.UTC(2026, 5, 1) - 1000, "Last-Modified did not go backwards");
  } finally {
    await second.close();
  }
});

test("against LMDB: items, metadata, expiry and tables survive closing and reopening the database", async () => {
  const dir = await mkdtemp(join(tmpdir(), "shoal-node-"));
  try {
    const storage = await LmdbStorageEngine.open({ path: join(dir, "lmdb") });
    const first = await startTestNode({ storage });
    await createTable(first.url, "disk");
    const etag = (await put(itemUrl(first.url, "disk", "a/ключ"), Uint8Array.from([0, 1, 2]), { "x-shoal-meta-m": "v", "x-shoal-expires-in": "60" })).headers.get("etag");
    const res = await fetch(`${first.url}/v1/tables/disk/batch`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ put: [{ key: "b1", value: "1" }, { key: "b2", value: "2" }] }),
    });
    assert.equal(res.status, 200);
    await first.close();
    await storage.close();
    const reopened = await LmdbStorageEngine.open({ path: join(dir, "lmdb") });
    const second = await startTestNode({ storage: reopened });
    try {
      const got = await fetch(itemUrl(second.url, "disk", "a/ключ"));
      assert.equal(got.headers.get("etag"), etag);
      assert.equal(got.headers.get("x-shoal-meta-m"), "v");
      assert.ok(got.headers.get("x-shoal-expires-at"));
      assert.deepEqual(new Uint8Array(await got.arrayBuffer()), Uint8Array.from([0, 1, 2]));
      const list = await json(await fetch(`${second.url}/v1/tables/disk/items`));
      assert.deepEqual(list.items.map((i: { key: string }) => i.key), ["a/ключ", "b1", "b2"]);
      const race = await Promise.all(Array.from({ length: 20 }, (_, i) => put(itemUrl(second.url, "disk", "race"), `w${i}`, { "if-none-match": "*" })));
      assert.equal(race.filter((r) => r.status === 201).length, 1);
    } finally {
      await second.close();
      await reopened.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("against LMDB: a clean close keeps the node's actor, so a key written before and after the restart has one vector entry", async () => {
  const dir = await mkdtemp(join(tmpdir(), "shoal-node-"));
  try {
    const actors = async (storage: StorageEngine, t: TestNode) => {
      const [entry] = [...storage.range({ prefix: tableItemsPrefix(tableId(t, "epochs")), limit: 10 })];
      return decodeSiblingRecord(entry!.value).entries.map(([actor]) => actor);
    };
    const storage = await LmdbStorageEngine.open({ path: join(dir, "lmdb") });
    const first = await startTestNode({ storage });
    await createTable(first.url, "epochs");
    assert.equal((await put(itemUrl(first.url, "epochs", "k"), "one")).status, 201);
    const before = await actors(storage, first);
    await first.close();
    await storage.close();
    const reopened = await LmdbStorageEngine.open({ path: join(dir, "lmdb") });
    const second = await startTestNode({ storage: reopened });
    try {
      const context = (await fetch(itemUrl(second.url, "epochs", "k"))).headers.get("x-shoal-context")!;
      assert.equal((await put(itemUrl(second.url, "epochs", "k"), "two", { "x-shoal-context": context })).status, 200);
      assert.deepEqual(await actors(reopened, second), before, "the restart after a clean close coordinated under a new actor");
    } finally {
      await second.close();
      await reopened.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("while shutting down, requests on an open connection get 503 (health says stopping) and the connection closes", async () => {
  const t = await startTestNode();
  await createTable(t.url, "stop");
  const { port } = new URL(t.url);
  const socket = connect(Number(port), "127.0.0.1");
  let received = "";
  socket.setEncoding("latin1");
  socket.on("data", (chunk: string) => (received += chunk));
  const ended = new Promise<void>((resolve) => socket.on("close", () => resolve()));
  socket.write("PUT /v1/tables/stop/items/k HTTP/1.1\r\nhost: x\r\ncontent-length: 3\r\n\r\na");
  await eventually("the PUT to be in flight", async () => (await t.node.metrics.text()).includes('shoal_http_requests_in_flight{node="n1"} 1'));
  const closing = t.close();
  // The PUT completes; the pipelined requests arrive while the node is stopping.
  socket.write("bc");
  socket.write("GET /health HTTP/1.1\r\nhost: x\r\n\r\nGET /v1/tables/stop/items/k HTTP/1.1\r\nhost: x\r\n\r\n");
  await closing;
  await ended;
  const statuses = [...received.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]);
  assert.deepEqual(statuses, ["201", "503", "503"]);
  assert.match(received, /"status":"stopping"/);
  assert.match(received, /"code":"ShuttingDown"/);
});

test("against LMDB: the expiry sweep tombstones expired items and a table drop removes its items from disk", async () => {
  const dir = await mkdtemp(join(tmpdir(), "shoal-node-"));
  const storage = await LmdbStorageEngine.open({ path: join(dir, "lmdb") });
  const t = await startTestNode({ storage, config: { expirySweepIntervalMs: 5 }, limits: { dropTableBatchMax: 4, expirySweepBatchMax: 4 } });
  try {
    await createTable(t.url, "short");
    await createTable(t.url, "gone");
    for (let i = 0; i < 9; i++) {
      await put(itemUrl(t.url, "short", `s${i}`), "x", { "x-shoal-expires-in": "5" });
      await put(itemUrl(t.url, "gone", `g${i}`), "x");
    }
    const short = tableId(t, "short");
    const gone = tableId(t, "gone");
    assert.equal(storedLive(storage, short), 9);
    assert.equal(storedItems(storage, gone), 9);
    t.clock.advance(5000);
    assert.equal((await fetch(`${t.url}/v1/tables/gone`, { method: "DELETE" })).status, 204);
    await eventually("sweep and purge on LMDB", () => storedLive(storage, short) === 0 && storedItems(storage, gone) === 0);
  } finally {
    await t.close();
    await storage.close();
    await rm(dir, { recursive: true, force: true });
  }
});
