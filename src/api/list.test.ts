import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { fetch } from "undici";
import { startTestNode, type TestNode } from "../node/test-node.js";
import { contextOf, createTable, errorCode, itemUrl, json, put } from "./test-requests.js";

let t: TestNode;
// Odd keys: a NUL, control characters, unicode, slashes, percent, keys that prefix each other.
const oddKeys = ["\u0000", "\u0000\u0000", "a", "a\u0000b", "a/", "a/b", "a/b/c", "ab", "é", "ключ", "😀", "%41", " ", "\u007f"];
const keys = [...oddKeys, ...Array.from({ length: 40 }, (_, i) => `user/${String(i).padStart(3, "0")}`)];

before(async () => {
  t = await startTestNode({ limits: { listPageItemsMax: 7, listPageItemsDefault: 5 } });
  await createTable(t.url, "list");
  await createTable(t.url, "other");
  for (const key of keys) assert.equal((await put(itemUrl(t.url, "list", key), key)).status, 201);
  await put(itemUrl(t.url, "other", "a"), "not mine");
});
after(() => t.close());

const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

async function listAll(query: string): Promise<{ keys: string[]; pages: number }> {
  const seen: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const url = `${t.url}/v1/tables/list/items?${query}${cursor ? `&cursor=${cursor}` : ""}`;
    const res = await fetch(url);
    assert.equal(res.status, 200);
    const body = await json(res);
    seen.push(...body.items.map((i: { key: string }) => i.key));
    cursor = body.cursor;
    pages++;
    assert.ok(pages < 100, "cursor never ended");
  } while (cursor !== null);
  return { keys: seen, pages };
}

test("following cursors returns every key exactly once, in byte order, over many pages", async () => {
  const { keys: seen, pages } = await listAll("limit=4");
  assert.ok(pages > 2);
  assert.deepEqual(seen, [...keys].sort(byteOrder));
});

test("the default page size applies and the cursor is null only at the end", async () => {
  const body = await json(await fetch(`${t.url}/v1/tables/list/items`));
  assert.equal(body.items.length, 5);
  assert.equal(typeof body.cursor, "string");
});

test("a prefix lists only its keys, still exactly once across pages", async () => {
  assert.deepEqual((await listAll(`prefix=${encodeURIComponent("a")}&limit=2`)).keys, ["a", "a\u0000b", "a/", "a/b", "a/b/c", "ab"]);
  assert.deepEqual((await listAll(`prefix=${encodeURIComponent("a/")}&limit=1`)).keys, ["a/", "a/b", "a/b/c"]);
  assert.deepEqual((await listAll(`prefix=${encodeURIComponent("\u0000")}&limit=1`)).keys, ["\u0000", "\u0000\u0000"]);
  const users = await listAll("prefix=user%2F&limit=7");
  assert.equal(users.keys.length, 40);
  assert.equal(users.pages, 6);
  assert.deepEqual((await listAll("prefix=zzz")).keys, []);
});

test("items carry size, content type, metadata, expiry, ETag and Last-Modified", async () => {
  const url = itemUrl(t.url, "list", "ab");
  await put(url, "ab", { "content-type": "text/plain", "x-shoal-meta-k": "v", "x-shoal-expires-in": "30", "x-shoal-context": await contextOf(url) });
  const body = await json(await fetch(`${t.url}/v1/tables/list/items?prefix=ab`));
  const head = await fetch(itemUrl(t.url, "list", "ab"), { method: "HEAD" });
  assert.deepEqual(body.items, [
    {
      key: "ab",
      size: 2,
      contentType: "text/plain",
      metadata: { k: "v" },
      expiresAt: new Date(t.clock.nowMs() + 30_000).toISOString(),
      etag: head.headers.get("etag"),
      lastModified: new Date(t.clock.nowMs()).toISOString(),
    },
  ]);
});

test("a bad limit is 400 InvalidLimit and a forged or foreign cursor is 400 InvalidCursor", async () => {
  for (const limit of ["0", "8", "-1", "x", "1.5"]) {
    const res = await fetch(`${t.url}/v1/tables/list/items?limit=${limit}`);
    assert.equal(res.status, 400, limit);
    assert.equal(await errorCode(res), "InvalidLimit");
  }
  const first = await json(await fetch(`${t.url}/v1/tables/list/items?prefix=user%2F&limit=2`));
  for (const cursor of ["!!!", "AA", "Ag", "AXVzZXI=", first.cursor + "x"]) {
    const res = await fetch(`${t.url}/v1/tables/list/items?cursor=${encodeURIComponent(cursor)}`);
    assert.equal(res.status, 400, cursor);
    assert.equal(await errorCode(res), "InvalidCursor");
  }
  const foreign = await fetch(`${t.url}/v1/tables/list/items?prefix=a&cursor=${first.cursor}`);
  assert.equal(foreign.status, 400);
  assert.equal(await errorCode(foreign), "InvalidCursor");
});

test("expired items are left out of a list at once", async () => {
  await createTable(t.url, "exp");
  await put(itemUrl(t.url, "exp", "short"), "x", { "x-shoal-expires-in": "1" });
  await put(itemUrl(t.url, "exp", "long"), "x", { "x-shoal-expires-in": "100" });
  t.clock.advance(1000);
  const body = await json(await fetch(`${t.url}/v1/tables/exp/items`));
  assert.deepEqual(body.items.map((i: { key: string }) => i.key), ["long"]);
});
