import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { fetch } from "undici";
import { startTestNode, type TestNode } from "../node/test-node.js";
import { createTable, errorCode, itemUrl, put } from "./test-requests.js";

let t: TestNode;
before(async () => {
  t = await startTestNode({ limits: { valueBytesMax: 1000, requestBodyBytesMax: 1000 } });
  await createTable(t.url, "cart");
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
  const replaced = await put(url, new TextEncoder().encode("two"));
  assert.equal(replaced.status, 200);
  assert.notEqual(replaced.headers.get("etag"), etag);
  const again = await fetch(url);
  assert.equal(again.headers.get("content-type"), "application/octet-stream");
  assert.equal(await again.text(), "two");
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

test("50 concurrent If-None-Match: * PUTs: exactly one wins and its value is stored", async () => {
  const url = itemUrl(t.url, "cart", "race");
  const results = await Promise.all(Array.from({ length: 50 }, (_, i) => put(url, `writer-${i}`, { "if-none-match": "*" })));
  const statuses = results.map((r) => r.status);
  assert.equal(statuses.filter((s) => s === 201).length, 1);
  assert.equal(statuses.filter((s) => s === 412).length, 49);
  const winner = results.findIndex((r) => r.status === 201);
  await Promise.all(results.map((r) => r.text()));
  assert.equal(await (await fetch(url)).text(), `writer-${winner}`);
});

test("concurrent If-Match writers from one version: exactly one wins", async () => {
  const url = itemUrl(t.url, "cart", "cas-race");
  const etag = (await put(url, "base")).headers.get("etag")!;
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => put(url, `w${i}`, { "if-match": etag })));
  assert.equal(results.filter((r) => r.status === 200).length, 1);
  assert.equal(results.filter((r) => r.status === 412).length, 19);
});
