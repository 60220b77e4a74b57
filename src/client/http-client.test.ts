import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ShoalHttpClient } from "./http-client.js";
import { ShoalError } from "../errors.js";

/** What the fake node saw: the client's side of the REST contract is what these tests pin. */
interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: Buffer;
}

const seen: Seen[] = [];
let server: Server;
let client: ShoalHttpClient;

function reply(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? "" : JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(text);
}

function route(req: Seen, res: ServerResponse): void {
  if (req.url === "/v1/tables" && req.method === "GET") return reply(res, 200, { tables: [{ name: "cart" }] });
  if (req.url === "/v1/tables" && req.method === "POST") return reply(res, 201, { name: JSON.parse(req.body.toString()).name });
  if (req.url === "/v1/tables/cart" && req.method === "DELETE") return reply(res, 204, undefined);
  if (req.url?.startsWith("/v1/tables/cart/items/a%2Fb") && req.method === "PUT") {
    return reply(res, 200, {}, { etag: '"v1"', "last-modified": "Sun, 22 Nov 2026 01:00:00 GMT", "x-shoal-context": "ctx-2" });
  }
  if (req.url?.startsWith("/v1/tables/cart/items/sib") && req.method === "GET") {
    const siblings = [
      { value: "héllo", encoding: "utf8", contentType: "text/plain", metadata: { a: "1" }, lastModified: "Sun, 22 Nov 2026 01:00:00 GMT", etag: '"v1"', expiresAt: null },
      { value: "AAH/", encoding: "base64", contentType: "application/octet-stream", metadata: {}, lastModified: "Sun, 22 Nov 2026 01:00:00 GMT", etag: '"v2"', expiresAt: null },
    ];
    return reply(res, 300, { siblings }, { "x-shoal-context": "ctx-9" });
  }
  if (req.url === "/v1/tables/cart/items/gone" && req.method === "GET") {
    return reply(res, 404, { error: { code: "ItemNotFound", message: "no such item" } }, { "x-shoal-context": "ctx-tomb" });
  }
  if (req.url?.startsWith("/v1/tables/cart/items/gone") && req.method === "DELETE") return reply(res, 204, undefined);
  if (req.url?.startsWith("/v1/tables/cart/items/n/increment")) return reply(res, 200, { value: 7 }, { etag: '"v7"' });
  if (req.url === "/v1/tables/cart/items/a%2Fb" && req.method === "GET") {
    res.writeHead(200, { "content-type": "image/png", etag: '"v1"', "x-shoal-meta-color": "red", "x-shoal-context": "ctx-1", "x-shoal-stale-max-ms": "250" });
    return void res.end(Buffer.from([0, 1, 2, 255]));
  }
  if (req.url?.startsWith("/v1/tables/cart/items?")) {
    const cursor = new URL(req.url, "http://x").searchParams.get("cursor");
    return reply(res, 200, cursor === null ? { items: [{ key: "a" }], cursor: "c1" } : { items: [{ key: "b" }], cursor: null });
  }
  if (req.url === "/v1/tables/loop/items") return reply(res, 200, { items: [{ key: "x" }], cursor: "again" });
  if (req.url?.startsWith("/v1/tables/loop/items?")) return reply(res, 200, { items: [{ key: "x" }], cursor: "again" });
  if (req.url === "/v1/tables/teapot") {
    res.writeHead(418, { "content-type": "text/plain" });
    return void res.end("short and stout");
  }
  return reply(res, 404, { error: { code: "TableNotFound", message: `table ${req.url} does not exist` } });
}

before(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const entry = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks) };
      seen.push(entry);
      route(entry, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  client = new ShoalHttpClient({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
});

after(async () => {
  await client.close();
  await new Promise((resolve) => server.close(resolve));
});

test("putItem sends the bytes, content type, metadata, expiry and conditions as headers on an encoded key", async () => {
  const result = await client.putItem("cart", "a/b", Uint8Array.from([9, 8, 7]), {
    contentType: "application/x-test",
    metadata: { Color: "red" },
    ttlSeconds: 60,
    ifNoneMatch: "*",
  });
  const request = seen.at(-1)!;
  assert.equal(request.url, "/v1/tables/cart/items/a%2Fb");
  assert.deepEqual([...request.body], [9, 8, 7]);
  assert.equal(request.headers["content-type"], "application/x-test");
  assert.equal(request.headers["x-shoal-meta-color"], "red");
  assert.equal(request.headers["x-shoal-expires-in"], "60");
  assert.equal(request.headers["if-none-match"], "*");
  assert.deepEqual(result, { etag: '"v1"', lastModified: "Sun, 22 Nov 2026 01:00:00 GMT", context: "ctx-2" });
});

test("putItem sends the context header and the write quorum as query parameters", async () => {
  await client.putItem("cart", "a/b", Uint8Array.from([1]), { context: "ctx-1", w: 3, dw: 2, pw: 1 });
  const request = seen.at(-1)!;
  assert.equal(request.url, "/v1/tables/cart/items/a%2Fb?w=3&dw=2&pw=1");
  assert.equal(request.headers["x-shoal-context"], "ctx-1");
});

test("readItem returns every sibling with its bytes decoded and the one context", async () => {
  const read = await client.readItem("cart", "sib", { r: 2, consistency: "eventual" });
  assert.equal(seen.at(-1)!.url, "/v1/tables/cart/items/sib?r=2&consistency=eventual");
  assert.equal(read.context, "ctx-9");
  assert.equal(read.siblings.length, 2);
  assert.equal(Buffer.from(read.siblings[0]!.value).toString(), "héllo");
  assert.deepEqual([...read.siblings[1]!.value], [0, 1, 255]);
  assert.equal(read.siblings[1]!.etag, '"v2"');
  assert.equal(read.siblings[1]!.context, "ctx-9");
  await assert.rejects(client.getItem("cart", "sib"), (error) => error instanceof ShoalError && error.code === "Siblings" && error.status === 300);
});

test("readItem of a deleted item finds nothing but keeps the tombstone's context; getItem is 404", async () => {
  assert.deepEqual(await client.readItem("cart", "gone"), { siblings: [], context: "ctx-tomb" });
  await assert.rejects(client.getItem("cart", "gone"), (error) => error instanceof ShoalError && error.status === 404);
  await assert.rejects(client.readItem("nope", "x"), (error) => error instanceof ShoalError && error.code === "TableNotFound");
});

test("deleteItem sends the context, If-Match and the quorum; incrementItem answers the new value", async () => {
  await client.deleteItem("cart", "gone", { context: "ctx-tomb", ifMatch: '"v1"', w: 1 });
  const request = seen.at(-1)!;
  assert.equal(request.url, "/v1/tables/cart/items/gone?w=1");
  assert.equal(request.headers["x-shoal-context"], "ctx-tomb");
  assert.equal(request.headers["if-match"], '"v1"');
  assert.deepEqual(await client.incrementItem("cart", "n", 3), { value: 7, etag: '"v7"' });
  assert.equal(seen.at(-1)!.url, "/v1/tables/cart/items/n/increment?by=3");
  assert.equal(seen.at(-1)!.method, "POST");
});

test("getItem returns the exact bytes with content type, etag and metadata", async () => {
  const item = await client.getItem("cart", "a/b");
  assert.deepEqual([...item.value], [0, 1, 2, 255]);
  assert.equal(item.contentType, "image/png");
  assert.equal(item.etag, '"v1"');
  assert.deepEqual(item.metadata, { color: "red" });
  assert.equal(item.context, "ctx-1");
  assert.equal((await client.readItem("cart", "a/b")).staleMaxMs, 250);
});

test("a server error becomes a ShoalError with the server's code, status and message", async () => {
  await assert.rejects(client.describeTable("nope"), (error) => {
    assert.ok(error instanceof ShoalError);
    assert.equal(error.code, "TableNotFound");
    assert.equal(error.status, 404);
    assert.match(error.message, /does not exist/);
    return true;
  });
});

test("an error without the JSON shape still names the status and the body", async () => {
  await assert.rejects(client.describeTable("teapot"), (error) => error instanceof ShoalError && error.code === "Http418" && /short and stout/.test(error.message));
});

test("tables are listed, created and deleted through /v1/tables", async () => {
  assert.deepEqual(await client.listTables(), [{ name: "cart" }]);
  assert.deepEqual(await client.createTable({ name: "cart", replication: { n: 3 } }), { name: "cart" });
  assert.deepEqual(JSON.parse(seen.at(-1)!.body.toString()), { name: "cart", replication: { n: 3 } });
  await client.deleteTable("cart");
});

test("listAllItems follows cursors to the end and stops a cursor that never ends", async () => {
  const keys: string[] = [];
  for await (const item of client.listAllItems("cart", { prefix: "", pagesMax: 10 })) keys.push(item.key);
  assert.deepEqual(keys, ["a", "b"]);
  const looping = async () => {
    for await (const _ of client.listAllItems("loop", { pagesMax: 3 })) continue;
  };
  await assert.rejects(looping(), (error) => error instanceof ShoalError && error.code === "TooManyPages");
});

test("an unreachable node is an Unreachable error naming the address", async () => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  const lonely = new ShoalHttpClient({ url: `http://127.0.0.1:${port}` });
  try {
    await assert.rejects(lonely.health(), (error) => error instanceof ShoalError && error.code === "Unreachable" && error.message.includes(`127.0.0.1:${port}`));
  } finally {
    await lonely.close();
  }
});
