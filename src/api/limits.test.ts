import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { fetch } from "undici";
import { startTestNode, type TestNode } from "../node/test-node.js";
import { createTable, errorCode, itemUrl, json, postJson, put } from "./test-requests.js";

// Each limit at its boundary and one past it; a refused request leaves the stored item as it was.
const valueBytesMax = 1000;
let t: TestNode;
before(async () => {
  t = await startTestNode({ limits: { valueBytesMax, requestBodyBytesMax: valueBytesMax, jsonBodyBytesMax: 20_000 } });
  // Last-writer-wins: these tests overwrite items blind, and are about limits, not siblings.
  await createTable(t.url, "lim", { conflicts: "lww" });
});
after(() => t.close());

async function expectUnchanged(url: string, value: string): Promise<void> {
  assert.equal(await (await fetch(url)).text(), value);
}

test("a key of 1024 UTF-8 bytes is accepted and 1025 is 400 KeyTooLong naming both numbers", async () => {
  assert.equal((await put(itemUrl(t.url, "lim", "é".repeat(512)), "ok")).status, 201);
  const res = await put(itemUrl(t.url, "lim", `${"é".repeat(512)}x`), "no");
  assert.equal(res.status, 400);
  const body = await json(res);
  assert.deepEqual(body, { error: { code: "KeyTooLong", message: "key is 1025 bytes; the limit is 1024" } });
});

test("a key dense in NUL bytes that would encode past the storage key limit is 400 KeyTooLong on write and read", async () => {
  const dense = itemUrl(t.url, "lim", "\u0000".repeat(1000));
  const res = await put(dense, "no");
  assert.equal(res.status, 400);
  const body = (await json(res)) as { error: { code: string; message: string } };
  assert.equal(body.error.code, "KeyTooLong");
  assert.match(body.error.message, /key is 1000 bytes but encodes to \d+ \(each NUL byte counts twice\); the limit is 1969 encoded bytes/);
  assert.equal((await fetch(dense)).status, 400, "a read of the same key is refused the same way");
  const ok = itemUrl(t.url, "lim", "\u0000".repeat(900));
  assert.equal((await put(ok, "ok")).status, 201, "900 NULs encode to 1809 bytes and fit");
  assert.equal(await (await fetch(ok)).text(), "ok");
});

test("a list prefix dense in NUL bytes past the encoded key limit is 400 KeyTooLong", async () => {
  const res = await fetch(`${t.url}/v1/tables/lim/items?prefix=${"%00".repeat(1000)}`);
  assert.equal(res.status, 400);
  assert.equal(await errorCode(res), "KeyTooLong");
  assert.equal((await fetch(`${t.url}/v1/tables/lim/items?prefix=${"%00".repeat(900)}`)).status, 200);
});

test("an empty key and a malformed percent-encoding are 400 InvalidKey", async () => {
  for (const path of ["/v1/tables/lim/items/", "/v1/tables/lim/items/%E0%A4%A", "/v1/tables/lim/items/%ED%A0%80"]) {
    const res = await fetch(`${t.url}${path}`, { method: "PUT", body: "x" });
    assert.equal(res.status, 400, path);
    assert.equal(await errorCode(res), "InvalidKey");
  }
});

test("a value of valueBytesMax is stored and one byte more is 413 ValueTooLarge, changing nothing", async () => {
  const url = itemUrl(t.url, "lim", "big");
  assert.equal((await put(url, "a".repeat(valueBytesMax))).status, 201);
  const res = await put(url, "b".repeat(valueBytesMax + 1));
  assert.equal(res.status, 413);
  assert.equal(await errorCode(res), "ValueTooLarge");
  await expectUnchanged(url, "a".repeat(valueBytesMax));
});

test("a chunked value is counted while it streams and refused with 413 past the limit", async () => {
  const url = itemUrl(t.url, "lim", "chunked");
  await put(url, "before");
  const chunk = new Uint8Array(300).fill(0x61);
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= 10) return controller.close();
      sent++;
      controller.enqueue(chunk);
    },
  });
  const res = await fetch(url, { method: "PUT", body, duplex: "half" });
  assert.equal(res.status, 413);
  assert.equal(await errorCode(res), "ValueTooLarge");
  await expectUnchanged(url, "before");
  // A chunked body within the limit is stored.
  const small = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(chunk);
      controller.enqueue(chunk);
      controller.close();
    },
  });
  assert.equal((await fetch(url, { method: "PUT", body: small, duplex: "half" })).status, 200);
  assert.equal((await (await fetch(url)).arrayBuffer()).byteLength, 600);
});

test("metadata of 1024 bytes in all is accepted and 1025 is 400 MetadataTooLarge", async () => {
  const url = itemUrl(t.url, "lim", "meta");
  assert.equal((await put(url, "ok", { "x-shoal-meta-ab": "v".repeat(1022) })).status, 201);
  const res = await put(url, "no", { "x-shoal-meta-ab": "v".repeat(1000), "x-shoal-meta-cd": "v".repeat(21) });
  assert.equal(res.status, 400);
  assert.deepEqual(await json(res), { error: { code: "MetadataTooLarge", message: "metadata is 1025 bytes; the limit is 1024" } });
  await expectUnchanged(url, "ok");
});

test("expiry must be a whole number of seconds from 1 to ttlSecondsMax, by header or query, not both", async () => {
  const url = itemUrl(t.url, "lim", "ttl");
  const max = 100 * 365 * 24 * 3600;
  for (const bad of ["0", "-1", "1.5", "abc", String(max + 1), ""]) {
    const res = await put(url, "x", { "x-shoal-expires-in": bad });
    assert.equal(res.status, 400, bad);
    assert.equal(await errorCode(res), "InvalidTtl");
  }
  assert.equal((await fetch(url)).status, 404);
  assert.equal((await put(url, "x", { "x-shoal-expires-in": String(max) })).status, 201);
  const viaQuery = await fetch(`${url}?ttl=60`, { method: "PUT", body: "y" });
  assert.equal(viaQuery.status, 200);
  assert.equal((await fetch(url)).headers.get("x-shoal-expires-at"), new Date(t.clock.nowMs() + 60_000).toISOString());
  const both = await fetch(`${url}?ttl=60`, { method: "PUT", body: "z", headers: { "x-shoal-expires-in": "60" } });
  assert.equal(both.status, 400);
  await expectUnchanged(url, "y");
});

test("unknown routes are 404 RouteNotFound and wrong methods 405 with Allow", async () => {
  for (const path of ["/", "/v1", "/v2/tables", "/v1/tables/lim/items/a/b", "/v1/tables/lim/other", "/v1/tables/"]) {
    const res = await fetch(`${t.url}${path}`);
    assert.equal(res.status, 404, path);
    assert.equal(await errorCode(res), "RouteNotFound");
  }
  const patch = await fetch(itemUrl(t.url, "lim", "k"), { method: "PATCH", body: "x" });
  assert.equal(patch.status, 405);
  assert.equal(patch.headers.get("allow"), "GET, HEAD, PUT, DELETE");
  assert.equal(await errorCode(patch), "MethodNotAllowed");
  const putTables = await fetch(`${t.url}/v1/tables`, { method: "PUT" });
  assert.equal(putTables.status, 405);
  assert.equal(putTables.headers.get("allow"), "GET, HEAD, POST");
});

test("JSON endpoints refuse other media types (415), malformed JSON (400) and bodies over the cap (413)", async () => {
  const notJson = await fetch(`${t.url}/v1/tables`, { method: "POST", headers: { "content-type": "text/plain" }, body: '{"name":"abc"}' });
  assert.equal(notJson.status, 415);
  assert.equal(await errorCode(notJson), "UnsupportedMediaType");
  const malformed = await fetch(`${t.url}/v1/tables/lim/batch`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"get": [' });
  assert.equal(malformed.status, 400);
  assert.equal(await errorCode(malformed), "InvalidJson");
  const huge = await postJson(`${t.url}/v1/tables/lim/batch`, { put: [{ key: "k", value: "x".repeat(20_000) }] });
  assert.equal(huge.status, 413);
  assert.equal(await errorCode(huge), "RequestTooLarge");
  assert.equal((await fetch(`${t.url}/v1/tables/abc`)).status, 404);
});

test("past httpInFlightMax requests in flight the node answers 503 Overloaded", async () => {
  const small = await startTestNode({ limits: { httpInFlightMax: 2 } });
  try {
    await createTable(small.url, "busy");
    const held: Array<ReadableStreamDefaultController<Uint8Array>> = [];
    const pending = [0, 1].map((i) =>
      fetch(itemUrl(small.url, "busy", `slow${i}`), {
        method: "PUT",
        duplex: "half",
        body: new ReadableStream<Uint8Array>({ start: (c) => void held.push(c) }),
      }),
    );
    for (const c of held) c.enqueue(new Uint8Array([1]));
    const deadline = Date.now() + 15_000;
    let res = await fetch(itemUrl(small.url, "busy", "x"));
    while (res.status !== 503 && Date.now() < deadline) {
      await res.text();
      await new Promise((r) => setTimeout(r, 10));
      res = await fetch(itemUrl(small.url, "busy", "x"));
    }
    assert.equal(res.status, 503);
    assert.equal(await errorCode(res), "Overloaded");
    for (const c of held) c.close();
    assert.deepEqual((await Promise.all(pending)).map((r) => r.status), [201, 201]);
    assert.equal((await fetch(itemUrl(small.url, "busy", "slow0"))).status, 200);
  } finally {
    await small.close();
  }
});

test("with Expect: 100-continue an over-limit upload is refused before the body is sent, and a fitting one is invited", async () => {
  const { port } = new URL(t.url);
  const exchange = (head: string, body?: string) =>
    new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), "127.0.0.1");
      let received = "";
      socket.setEncoding("latin1");
      socket.on("data", (chunk: string) => {
        received += chunk;
        if (body !== undefined && received.startsWith("HTTP/1.1 100")) {
          socket.write(body);
          body = undefined;
        }
        if (/HTTP\/1\.1 [2-5]\d\d[\s\S]*\r\n\r\n/.test(received)) socket.end();
      });
      socket.on("error", reject);
      socket.on("close", () => resolve(received));
      socket.write(head);
    });
  const path = "/v1/tables/lim/items/expect";
  const refused = await exchange(`PUT ${path} HTTP/1.1\r\nhost: x\r\nexpect: 100-continue\r\ncontent-length: ${valueBytesMax + 1}\r\n\r\n`);
  assert.match(refused, /^HTTP\/1\.1 413 /);
  assert.doesNotMatch(refused, /100 Continue/);
  const invited = await exchange(`PUT ${path} HTTP/1.1\r\nhost: x\r\nexpect: 100-continue\r\ncontent-length: 5\r\nconnection: close\r\n\r\n`, "hello");
  assert.match(invited, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 201 /);
  await expectUnchanged(itemUrl(t.url, "lim", "expect"), "hello");
});
