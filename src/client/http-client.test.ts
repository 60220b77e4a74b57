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
  if (req.url === "/v1/tables/cart/items/a%2Fb" && req.method === "PUT") return reply(res, 200, {}, { etag: '"v1"', "last-modified": "Sun, 22 Nov 2026 01:00:00 GMT" });
  if (req.url === "/v1/tables/cart/items/a%2Fb" && req.method === "GET") {
    res.writeHead(200, { "content-type": "image/png", etag: '"v1"', "x-shoal-meta-color": "red" });
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
  assert.deepEqual(result, { etag: '"v1"', lastModified: "Sun, 22 Nov 2026 01:00:00 GMT" });
});

test("getItem returns the exact bytes with content type, etag and metadata", async () => {
  const item = await client.getItem("cart", "a/b");
  assert.deepEqual([...item.value], [0, 1, 2, 255]);
  assert.equal(item.contentType, "image/png");
  assert.equal(item.etag, '"v1"');
  assert.deepEqual(item.metadata, { color: "red" });
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
