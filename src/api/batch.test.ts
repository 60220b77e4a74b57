import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { fetch } from "undici";
import { startTestNode, type TestNode } from "../node/test-node.js";
import { createTable, errorCode, itemUrl, json, postJson, put } from "./test-requests.js";

let t: TestNode;
before(async () => {
  t = await startTestNode({ limits: { batchGetsMax: 3, batchWritesMax: 4, valueBytesMax: 100, requestBodyBytesMax: 100 } });
  await createTable(t.url, "bat");
});
after(() => t.close());

const batch = (body: unknown) => postJson(`${t.url}/v1/tables/bat/batch`, body);
const text = async (key: string) => {
  const res = await fetch(itemUrl(t.url, "bat", key));
  return res.status === 200 ? await res.text() : res.status;
};

test("a batch answers gets and applies puts and deletes", async () => {
  await put(itemUrl(t.url, "bat", "old"), "old value", { "content-type": "text/plain", "x-shoal-meta-m": "1" });
  await put(itemUrl(t.url, "bat", "doomed"), "x");
  const res = await batch({
    get: ["old", "missing"],
    put: [
      { key: "text", value: "héllo", contentType: "text/plain", metadata: { owner: "ana" } },
      { key: "bin", valueBase64: "AAH/", ttl: 60 },
    ],
    delete: ["doomed", "never-was"],
  });
  assert.equal(res.status, 200);
  const body = await json(res);
  assert.equal(body.get[0].key, "old");
  assert.equal(body.get[0].found, true);
  assert.equal(body.get[0].value, "old value");
  assert.equal(body.get[0].valueBase64, Buffer.from("old value").toString("base64"));
  assert.deepEqual(body.get[0].metadata, { m: "1" });
  assert.deepEqual(body.get[1], { key: "missing", found: false });
  assert.deepEqual(body.put.map((p: { key: string }) => p.key), ["text", "bin"]);
  assert.deepEqual(body.delete, [{ key: "doomed", deleted: true }, { key: "never-was", deleted: false }]);
  const textItem = await fetch(itemUrl(t.url, "bat", "text"));
  assert.equal(await textItem.text(), "héllo");
  assert.equal(textItem.headers.get("x-shoal-meta-owner"), "ana");
  assert.equal(textItem.headers.get("etag"), body.put[0].etag);
  const bin = await fetch(itemUrl(t.url, "bat", "bin"));
  assert.deepEqual(new Uint8Array(await bin.arrayBuffer()), Uint8Array.from([0, 1, 255]));
  assert.equal(bin.headers.get("x-shoal-expires-at"), new Date(t.clock.nowMs() + 60_000).toISOString());
  assert.equal(await text("doomed"), 404);
});

test("a batch with one invalid write changes nothing", async () => {
  await put(itemUrl(t.url, "bat", "keep"), "kept");
  const invalid: Array<[unknown, string]> = [
    [{ put: [{ key: "n1", value: "x" }, { key: "", value: "x" }], delete: ["keep"] }, "InvalidKey"],
    [{ put: [{ key: "n1", value: "x" }, { key: "n2", valueBase64: "not base64!" }], delete: ["keep"] }, "InvalidBatch"],
    [{ put: [{ key: "n1", value: "x" }, { key: "n2", value: "y".repeat(101) }], delete: ["keep"] }, "ValueTooLarge"],
    [{ put: [{ key: "n1", value: "x" }, { key: "n2", value: "x", metadata: { Upper: "x" } }], delete: ["keep"] }, "InvalidMetadata"],
    [{ put: [{ key: "n1", value: "x" }, { key: "n2", value: "x", ttl: 0 }], delete: ["keep"] }, "InvalidTtl"],
    [{ put: [{ key: "n1", value: "x" }, { key: "n2", value: "x", valueBase64: "AA==" }], delete: ["keep"] }, "InvalidBatch"],
    [{ put: [{ key: "n1", value: "x", extra: 1 }], delete: ["keep"] }, "InvalidBatch"],
    [{ put: [{ key: "n1", value: "x" }], delete: ["keep", "n1"] }, "DuplicateKey"],
    [{ put: [{ key: "n1", value: "x" }, { key: "n1", value: "y" }] }, "DuplicateKey"],
    [{ put: [{ key: "n1", value: "x" }], delete: ["keep"], upsert: [] }, "InvalidBatch"],
    [{ put: { key: "n1" } }, "InvalidBatch"],
    [{ get: [1] }, "InvalidBatch"],
    [[], "InvalidBatch"],
  ];
  for (const [body, code] of invalid) {
    const res = await batch(body);
    assert.equal(res.status, code === "ValueTooLarge" ? 413 : 400, JSON.stringify(body));
    assert.equal(await errorCode(res), code, JSON.stringify(body));
  }
  assert.equal(await text("keep"), "kept");
  assert.equal(await text("n1"), 404);
  assert.equal(await text("n2"), 404);
});

test("batch limits: batchGetsMax gets and batchWritesMax writes pass, one more is refused naming the limit", async () => {
  assert.equal((await batch({ get: ["a", "b", "c"] })).status, 200);
  const gets = await batch({ get: ["a", "b", "c", "d"] });
  assert.equal(gets.status, 400);
  assert.deepEqual(await json(gets), { error: { code: "BatchTooLarge", message: "batch has 4 gets; the limit is 3 (limits.batchGetsMax)" } });
  assert.equal((await batch({ put: [{ key: "w1", value: "1" }, { key: "w2", value: "2" }], delete: ["w3", "w4"] })).status, 200);
  const writes = await batch({ put: [{ key: "w5", value: "1" }, { key: "w6", value: "2" }], delete: ["w7", "w8", "w9"] });
  assert.equal(writes.status, 400);
  assert.match((await json(writes)).error.message, /5 puts and deletes; the limit is 4/);
  assert.equal(await text("w5"), 404);
});

test("a batch on an unknown table is 404 and an empty batch is a no-op", async () => {
  const res = await postJson(`${t.url}/v1/tables/nope/batch`, { get: ["a"] });
  assert.equal(res.status, 404);
  assert.equal(await errorCode(res), "TableNotFound");
  assert.deepEqual(await json(await batch({})), { get: [], put: [], delete: [] });
});
