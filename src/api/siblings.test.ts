import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { fetch } from "undici";
import type { TableDefinition } from "../catalog/table-definition.js";
import type { ItemWrite } from "../replica/item-write.js";
import { startFakeApi, type FakeApi } from "./fake-api-server.js";
import { createTable, errorCode, itemUrl, json, postJson, put } from "./test-requests.js";

// The REST rendering of siblings and causal contexts (issue 3 item 4), over a fake coordinator.
let api: FakeApi;
let table: TableDefinition;
before(async () => {
  api = await startFakeApi({ limits: { siblingsWarn: 3, siblingsMax: 5 } });
  await createTable(api.url, "sib");
  table = api.table("sib");
});
after(() => api.close());

const text = (value: string, contentType = "text/plain"): ItemWrite => ({ value: Buffer.from(value), contentType, metadata: {}, expiresAtMs: null });
const key = (k: string) => ({ partitionKey: new Uint8Array(Buffer.from(k)) });

test("one version answers 200 with its bytes and the causal context in X-Shoal-Context", async () => {
  const written = await put(itemUrl(api.url, "sib", "one"), "hello", { "content-type": "text/plain" });
  assert.equal(written.status, 201);
  const context = written.headers.get("x-shoal-context");
  assert.ok(context !== null && context !== "");
  const got = await fetch(itemUrl(api.url, "sib", "one"));
  assert.equal(got.status, 200);
  assert.equal(await got.text(), "hello");
  assert.equal(got.headers.get("x-shoal-context"), context);
});

test("concurrent versions answer 300 with every sibling, text as UTF-8 and bytes as base64, and one context", async () => {
  api.items.seedSiblings(table, key("two"), [
    { ...text("héllo", "text/plain; charset=utf-8"), metadata: { owner: "ana" } },
    text("\u0000\u00ff binary", "application/octet-stream"),
    { value: Uint8Array.from([0xff, 0xfe]), contentType: "application/json", metadata: {}, expiresAtMs: api.clock.nowMs() + 5000 },
  ]);
  const res = await fetch(itemUrl(api.url, "sib", "two"));
  assert.equal(res.status, 300);
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
  assert.equal(res.headers.get("x-shoal-context"), "c.3");
  const body = await json(res);
  const lastModified = new Date(api.clock.nowMs()).toUTCString();
  assert.deepEqual(body, {
    siblings: [
      { value: "héllo", encoding: "utf8", contentType: "text/plain; charset=utf-8", metadata: { owner: "ana" }, lastModified, etag: '"v1"', expiresAt: null },
      {
        value: Buffer.from("\u0000\u00ff binary").toString("base64"),
        encoding: "base64",
        contentType: "application/octet-stream",
        metadata: {},
        lastModified,
        etag: '"v2"',
        expiresAt: null,
      },
      // JSON content type but not valid UTF-8: base64, so the bytes survive.
      { value: "//4=", encoding: "base64", contentType: "application/json", metadata: {}, lastModified, etag: '"v3"', expiresAt: new Date(api.clock.nowMs() + 5000).toISOString() },
    ],
  });
  const head = await fetch(itemUrl(api.url, "sib", "two"), { method: "HEAD" });
  assert.equal(head.status, 300);
  assert.equal(head.headers.get("x-shoal-context"), "c.3");
  assert.equal(await head.text(), "");
});

test("a write carrying the context replaces exactly the siblings it saw; a blind write adds one", async () => {
  api.items.seedSiblings(table, key("merge"), [text("a"), text("b")]);
  const read = await fetch(itemUrl(api.url, "sib", "merge"));
  assert.equal(read.status, 300);
  const context = read.headers.get("x-shoal-context")!;
  await read.text();
  api.items.seedSiblings(table, key("merge"), [text("concurrent")]);
  const resolved = await put(itemUrl(api.url, "sib", "merge"), "a+b", { "content-type": "text/plain", "x-shoal-context": context });
  assert.equal(resolved.status, 200);
  assert.equal(api.items.calls.at(-1)?.write?.context, context);
  const after = await json(await fetch(itemUrl(api.url, "sib", "merge")));
  assert.deepEqual(after.siblings.map((s: { value: string }) => s.value), ["concurrent", "a+b"], "the write saw a and b, not the concurrent one");
  const next = resolved.headers.get("x-shoal-context")!;
  assert.equal((await put(itemUrl(api.url, "sib", "merge"), "blind", { "content-type": "text/plain" })).status, 200);
  assert.equal((await json(await fetch(itemUrl(api.url, "sib", "merge")))).siblings.length, 3);
  const deleted = await fetch(itemUrl(api.url, "sib", "merge"), { method: "DELETE", headers: { "x-shoal-context": next } });
  assert.equal(deleted.status, 204);
  const left = await fetch(itemUrl(api.url, "sib", "merge"));
  assert.equal(left.status, 200, "only the blind write, which the delete's context had not seen, is left");
  assert.equal(await left.text(), "blind");
});

test("a missing item is 404 and still carries the context when tombstones were seen", async () => {
  const never = await fetch(itemUrl(api.url, "sib", "never"));
  assert.equal(never.status, 404);
  assert.equal(never.headers.get("x-shoal-context"), null);
  assert.equal(await errorCode(never), "ItemNotFound");
  await put(itemUrl(api.url, "sib", "tomb"), "x");
  assert.equal((await fetch(itemUrl(api.url, "sib", "tomb"), { method: "DELETE" })).status, 204);
  const gone = await fetch(itemUrl(api.url, "sib", "tomb"));
  assert.equal(gone.status, 404);
  assert.equal(gone.headers.get("x-shoal-context"), "c.2");
  assert.equal(await errorCode(gone), "ItemNotFound");
});

test("from siblingsWarn siblings on the answer carries a Warning header; past siblingsMax a write is 409 TooManySiblings", async () => {
  api.items.seedSiblings(table, key("many"), [text("1"), text("2")]);
  const two = await fetch(itemUrl(api.url, "sib", "many"));
  assert.equal(two.headers.get("warning"), null);
  await two.text();
  api.items.seedSiblings(table, key("many"), [text("3")]);
  const three = await fetch(itemUrl(api.url, "sib", "many"));
  assert.match(three.headers.get("warning") ?? "", /^199 shoal "3 siblings .*X-Shoal-Context"$/);
  await three.text();
  api.items.seedSiblings(table, key("many"), [text("4"), text("5")]);
  const refused = await put(itemUrl(api.url, "sib", "many"), "6");
  assert.equal(refused.status, 409);
  assert.equal(await errorCode(refused), "TooManySiblings");
});

test("If-None-Match with the ETag of the only version is 304 with the context", async () => {
  const etag = (await put(itemUrl(api.url, "sib", "cached"), "x")).headers.get("etag")!;
  const res = await fetch(itemUrl(api.url, "sib", "cached"), { headers: { "if-none-match": etag } });
  assert.equal(res.status, 304);
  assert.equal(res.headers.get("x-shoal-context"), "c.1");
});

test("a list shows one-version items as before and lists the siblings of the others", async () => {
  await createTable(api.url, "listsib");
  const listTable = api.table("listsib");
  await put(itemUrl(api.url, "listsib", "a"), "plain", { "content-type": "text/plain" });
  api.items.seedSiblings(listTable, key("b"), [text("x"), text("y")]);
  const body = await json(await fetch(`${api.url}/v1/tables/listsib/items`));
  assert.equal(body.items.length, 2);
  assert.equal(body.items[0].key, "a");
  assert.equal(body.items[0].size, 5);
  assert.equal(body.items[0].siblings, undefined);
  assert.equal(body.items[1].key, "b");
  assert.deepEqual(body.items[1].siblings.map((s: { value: string; encoding: string }) => [s.value, s.encoding]), [["x", "utf8"], ["y", "utf8"]]);
  assert.equal(body.cursor, null);
});

test("batch gets show one version as before, siblings as a list, and the context of each", async () => {
  await createTable(api.url, "batsib");
  const batchTable = api.table("batsib");
  await put(itemUrl(api.url, "batsib", "one"), "single", { "content-type": "text/plain" });
  api.items.seedSiblings(batchTable, key("two"), [text("x"), text("y")]);
  const res = await postJson(`${api.url}/v1/tables/batsib/batch`, { get: ["one", "two", "none"] });
  assert.equal(res.status, 200);
  const [one, two, none] = (await json(res)).get;
  assert.equal(one.value, "single");
  assert.equal(one.context, "c.1");
  assert.equal(two.found, true);
  assert.deepEqual(two.siblings.map((s: { value: string }) => s.value), ["x", "y"]);
  assert.equal(two.context, "c.2");
  assert.deepEqual(none, { key: "none", found: false });
});
