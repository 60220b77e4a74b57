import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { fetch } from "undici";
import { startTestNode, type TestNode } from "../node/test-node.js";
import { contextOf, createTable, errorCode, itemUrl, json, put } from "./test-requests.js";

let t: TestNode;
before(async () => {
  t = await startTestNode({ limits: { valueBytesMax: 1000, requestBodyBytesMax: 1000 } });
  await createTable(t.url, "cart");
  await createTable(t.url, "strongcart", { consistency: "strong" });
});
after(() => t.close());

test("PUT stores the bytes as they are with their content type, and GET returns them with ETag and Last-Modified", async () => {
  const url = itemUrl(t.url, "cart", "plain");
  const bytes = Uint8Array.from([0, 1, 2, 255, 254, 0x0d, 0x0a, 0x22]);
  const created = await put(url, bytes, { "content-type": "application/x-odd" });
  assert.equal(created.status, 201);
  const etag = created.headers.get("etag");
  assert.match(etag ?? "", /^"[^"]+"$/);
  assert.equal(created.headers.get("last-modified"), new Date(t.clock.nowMs()).toUTCString());
  const got = await fetch(url);
  assert.equal(got.status, 200);
  assert.equal(got.headers.get("content-type"), "application/x-odd");
  assert.equal(got.headers.get("etag"), etag);
  assert.deepEqual(new Uint8Array(await got.arrayBuffer()), bytes);
  const context = created.headers.get("x-shoal-context");
  assert.ok(context !== null && context !== "", "a write answers its causal context");
  const replaced = await put(url, new TextEncoder().encode("two"), { "x-shoal-context": context });
  assert.equal(replaced.status, 200);
  assert.notEqual(replaced.headers.get("etag"), etag);
  const again = await fetch(url);
  assert.equal(again.headers.get("content-type"), "application/octet-stream");
  assert.equal(await again.text(), "two");
});

test("GET answers every byte value exactly as stored (the body leaves as latin1 text with the head)", async () => {
  const url = itemUrl(t.url, "cart", "bytes");
  const bytes = Uint8Array.from({ length: 768 }, (_, i) => (i * 7) % 256);
  assert.equal((await put(url, bytes)).status, 201);
  const got = await fetch(url);
  assert.equal(got.status, 200);
  assert.equal(got.headers.get("content-length"), "768");
  assert.deepEqual(new Uint8Array(await got.arrayBuffer()), bytes);
  const empty = itemUrl(t.url, "cart", "empty");
  assert.equal((await put(empty, new Uint8Array(0))).status, 201);
  const none = await fetch(empty);
  assert.equal(none.headers.get("content-length"), "0");
  assert.equal((await none.arrayBuffer()).byteLength, 0);
});

test("metadata headers round-trip lower-cased, and HEAD answers the same headers without a body", async () => {
  const url = itemUrl(t.url, "cart", "meta");
  assert.equal((await put(url, "v", { "X-Shoal-Meta-Owner": "Ana", "x-shoal-meta-color": "blue green" })).status, 201);
  const head = await fetch(url, { method: "HEAD" });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get("x-shoal-meta-owner"), "Ana");
  assert.equal(head.headers.get("x-shoal-meta-color"), "blue green");
  assert.equal(head.headers.get("content-length"), "1");
  assert.equal(await head.text(), "");
  const get = await fetch(url);
  assert.equal(get.headers.get("x-shoal-meta-owner"), "Ana");
  assert.equal(get.headers.get("etag"), head.headers.get("etag"));
});

test("keys with slashes, unicode and percent signs are one path segment each", async () => {
  for (const key of ["a/b/c", "ключ/😀", "100%", "sp ace+plus", "?q=1&x#frag"]) {
    const url = itemUrl(t.url, "cart", key);
    assert.equal((await put(url, key)).status, 201, key);
    assert.equal(await (await fetch(url)).text(), key);
  }
  assert.equal((await fetch(itemUrl(t.url, "cart", "a"))).status, 404);
});

test("a missing item is 404 ItemNotFound; DELETE removes with 204 and a second DELETE is 404", async () => {
  const url = itemUrl(t.url, "cart", "gone");
  const missing = await fetch(url);
  assert.equal(missing.status, 404);
  assert.equal(await errorCode(missing), "ItemNotFound");
  await put(url, "x");
  assert.equal((await fetch(url, { method: "DELETE" })).status, 204);
  assert.equal((await fetch(url)).status, 404);
  const again = await fetch(url, { method: "DELETE" });
  assert.equal(again.status, 404);
  assert.equal(await errorCode(again), "ItemNotFound");
});

test("an unknown table is 404 TableNotFound", async () => {
  const res = await put(itemUrl(t.url, "nosuch", "k"), "x");
  assert.equal(res.status, 404);
  assert.equal(await errorCode(res), "TableNotFound");
});

test("GET with If-None-Match of the current ETag is 304", async () => {
  const url = itemUrl(t.url, "cart", "cached");
  const etag = (await put(url, "x")).headers.get("etag")!;
  const notModified = await fetch(url, { headers: { "if-none-match": etag } });
  assert.equal(notModified.status, 304);
  assert.equal(notModified.headers.get("etag"), etag);
  assert.equal((await fetch(url, { headers: { "if-none-match": '"other"' } })).status, 200);
});

test("If-None-Match: * creates only, and a refused PUT changes nothing", async () => {
  const url = itemUrl(t.url, "cart", "once");
  assert.equal((await put(url, "first", { "if-none-match": "*" })).status, 201);
  const refused = await put(url, "second", { "if-none-match": "*" });
  assert.equal(refused.status, 412);
  assert.equal(await errorCode(refused), "PreconditionFailed");
  assert.equal(await (await fetch(url)).text(), "first");
});

test("If-Match replaces only the named version, on PUT and DELETE", async () => {
  const url = itemUrl(t.url, "cart", "cas");
  const v1 = (await put(url, "one")).headers.get("etag")!;
  const v2 = (await put(url, "two", { "if-match": v1 })).headers.get("etag")!;
  const stale = await put(url, "three", { "if-match": v1 });
  assert.equal(stale.status, 412);
  assert.equal(await (await fetch(url)).text(), "two");
  assert.equal((await fetch(url, { method: "DELETE", headers: { "if-match": v1 } })).status, 412);
  assert.equal((await fetch(url)).status, 200);
  assert.equal((await fetch(url, { method: "DELETE", headers: { "if-match": v2 } })).status, 204);
  assert.equal((await put(itemUrl(t.url, "cart", "never"), "x", { "if-match": v2 })).status, 412);
  assert.equal((await fetch(itemUrl(t.url, "cart", "never"))).status, 404);
});

// Conditional writes are atomic on strong tables only (CASPaxos checks the condition inside the
// round); on eventual tables they are checked against a quorum read just before the write.
test("50 concurrent If-None-Match: * PUTs on a strong table: exactly one wins and its value is stored", async () => {
  const url = itemUrl(t.url, "strongcart", "race");
  const results = await Promise.all(Array.from({ length: 50 }, (_, i) => put(url, `writer-${i}`, { "if-none-match": "*" })));
  const statuses = results.map((r) => r.status);
  assert.equal(statuses.filter((s) => s === 201).length, 1);
  assert.equal(statuses.filter((s) => s === 412).length, 49);
  const winner = results.findIndex((r) => r.status === 201);
  await Promise.all(results.map((r) => r.text()));
  assert.equal(await (await fetch(url)).text(), `writer-${winner}`);
});

test("concurrent If-Match writers from one version on a strong table: exactly one wins", async () => {
  const url = itemUrl(t.url, "strongcart", "cas-race");
  const etag = (await put(url, "base")).headers.get("etag")!;
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => put(url, `w${i}`, { "if-match": etag })));
  assert.equal(results.filter((r) => r.status === 200).length, 1);
  assert.equal(results.filter((r) => r.status === 412).length, 19);
});

test("two blind writes on a siblings table are both kept: GET answers 300 and a write with the context resolves them", async () => {
  const url = itemUrl(t.url, "cart", "conflict");
  assert.equal((await put(url, "left", { "content-type": "text/plain" })).status, 201);
  assert.equal((await put(url, "right", { "content-type": "text/plain" })).status, 200);
  const read = await fetch(url);
  assert.equal(read.status, 300);
  const context = read.headers.get("x-shoal-context")!;
  const values = (await json(read)).siblings.map((s: { value: string }) => s.value).sort();
  assert.deepEqual(values, ["left", "right"]);
  assert.equal((await put(url, "left+right", { "x-shoal-context": context })).status, 200);
  const resolved = await fetch(url);
  assert.equal(resolved.status, 200);
  assert.equal(await resolved.text(), "left+right");
});

test("a read after a delete is 404 with the context of the tombstone", async () => {
  const url = itemUrl(t.url, "cart", "tombstoned");
  await put(url, "x");
  assert.equal((await fetch(url, { method: "DELETE", headers: { "x-shoal-context": await contextOf(url) } })).status, 204);
  const gone = await fetch(url);
  assert.equal(gone.status, 404);
  assert.ok((gone.headers.get("x-shoal-context") ?? "") !== "");
});

test("quorum parameters beyond the table's n are refused by the coordinator with 400", async () => {
  const url = itemUrl(t.url, "cart", "quorum");
  await put(url, "x");
  assert.equal((await fetch(`${url}?r=1`)).status, 200);
  const tooMany = await fetch(`${url}?r=4`);
  assert.equal(tooMany.status, 400);
  assert.match((await json(tooMany)).error.message, /r=4 exceeds n=3/);
  const junk = await put(`${url}?w=many`, "y");
  assert.equal(junk.status, 400);
  assert.equal(await errorCode(junk), "InvalidArgument");
});

test("increment counts on a strong table and is refused on an eventual one", async () => {
  const counter = `${itemUrl(t.url, "strongcart", "counter")}/increment`;
  assert.deepEqual(await json(await fetch(`${counter}?by=2`, { method: "POST" })), { value: 2 });
  assert.deepEqual(await json(await fetch(counter, { method: "POST" })), { value: 3 });
  assert.equal(await (await fetch(itemUrl(t.url, "strongcart", "counter"))).text(), "3");
  const eventual = await fetch(`${itemUrl(t.url, "cart", "counter")}/increment`, { method: "POST" });
  assert.equal(eventual.status, 400);
  assert.equal(await errorCode(eventual), "BadRequest");
});
