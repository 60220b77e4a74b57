import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { parseHead, postHead, RawHttpConnection, withBody } from "./raw-http.js";

/**
 * The minimal client against a scripted TCP server: it answers each request with whatever bytes
 * the test sets, in the pieces the test chooses, so split answers, chunked answers, a closed
 * connection and a silent server are each injected.
 */
let server: Server;
let port: number;
const sockets = new Set<Socket>();
let requests = 0;
/** The answer to the next request, as pieces written one after another; "close" closes instead. */
let script: (request: string) => (string | "close" | "silence")[] = () => [ok("{}")];

function ok(body: string, status = "200 OK"): string {
  return `HTTP/1.1 ${status}\r\ncontent-type: application/x-amz-json-1.0\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

before(async () => {
  server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    let text = "";
    socket.setEncoding("latin1").on("data", (chunk: string) => {
      text += chunk;
      const head = text.indexOf("\r\n\r\n");
      if (head < 0) return;
      const length = Number(/content-length: (\d+)/i.exec(text.slice(0, head))?.[1] ?? 0);
      if (text.length < head + 4 + length) return;
      const request = text.slice(0, head + 4 + length);
      text = text.slice(head + 4 + length);
      requests++;
      for (const piece of script(request)) {
        if (piece === "close") socket.destroy();
        else if (piece !== "silence") socket.write(piece, "latin1");
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});
after(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function request(connection: RawHttpConnection, body = '{"TableName":"t"}'): Promise<{ status: number; bodyBytes: number; errorText: string }> {
  return connection.request(withBody(postHead(connection.hostHeader, { "x-amz-target": "DynamoDB_20120810.GetItem" }), body));
}

test("a request goes out as written and answers are read across split chunks on one kept-alive connection", async () => {
  let seen = "";
  script = (req) => {
    seen = req;
    const answer = ok('{"Item":{"pk":{"S":"a"}}}');
    return [answer.slice(0, 10), answer.slice(10, 60), answer.slice(60)];
  };
  const connection = RawHttpConnection.forUrl(`http://127.0.0.1:${port}`, 5000);
  try {
    const before = sockets.size;
    for (let i = 0; i < 3; i++) assert.deepEqual(await request(connection), { status: 200, bodyBytes: 25, errorText: "" });
    assert.equal(sockets.size, before + 1);
    assert.equal(seen, `POST / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nx-amz-target: DynamoDB_20120810.GetItem\r\nContent-Length: 17\r\n\r\n{"TableName":"t"}`);
  } finally {
    connection.close();
    script = () => [ok("{}")];
  }
});

test("an error status keeps the start of its body", async () => {
  script = () => [ok('{"__type":"x#ValidationException","message":"bad"}', "400 Bad Request")];
  const connection = RawHttpConnection.forUrl(`http://127.0.0.1:${port}`, 5000);
  try {
    assert.deepEqual(await request(connection), { status: 400, bodyBytes: 50, errorText: '{"__type":"x#ValidationException","message":"bad"}' });
  } finally {
    connection.close();
    script = () => [ok("{}")];
  }
});

test("a chunked answer, a closed connection and a silent server fail the request, and the next request reconnects", async () => {
  const connection = RawHttpConnection.forUrl(`http://127.0.0.1:${port}`, 300);
  try {
    script = () => ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"];
    await assert.rejects(request(connection), /Transfer-Encoding chunked is not supported/);
    script = () => [ok("{}").slice(0, 20), "close"];
    await assert.rejects(request(connection), /the server closed the connection/);
    script = () => ["silence"];
    await assert.rejects(request(connection), /no answer within 300 ms/);
    script = () => [ok("{}") + ok("{}")];
    await assert.rejects(request(connection), /bytes after the answer's body/);
    script = () => [ok("{}")];
    const served = requests;
    assert.equal((await request(connection)).status, 200);
    assert.equal(requests, served + 1);
  } finally {
    connection.close();
    script = () => [ok("{}")];
  }
});

test("one request at a time per connection; a closed client fails what is pending", async () => {
  script = () => ["silence"];
  const connection = RawHttpConnection.forUrl(`http://127.0.0.1:${port}`, 5000);
  const first = request(connection);
  await assert.rejects(request(connection), /one request at a time per connection/);
  connection.close();
  await assert.rejects(first, /connection closed by the client/);
  script = () => [ok("{}")];
});

test("parseHead reads the status and Content-Length, and says what it cannot read", () => {
  assert.deepEqual(parseHead("HTTP/1.1 200 OK\r\nContent-Length: 12\r\nX-A: b"), { status: 200, contentLength: 12 });
  assert.deepEqual(parseHead("HTTP/1.0 404 Not Found\r\ncontent-length:0"), { status: 404, contentLength: 0 });
  assert.equal(parseHead("SSH-2.0-OpenSSH"), 'not an HTTP/1.x status line: "SSH-2.0-OpenSSH"');
  assert.equal(parseHead("HTTP/1.1 200 OK\r\nConnection: close"), "an answer without Content-Length");
  assert.equal(parseHead("HTTP/1.1 200 OK\r\nContent-Length: -1"), 'bad Content-Length "-1"');
  assert.throws(() => RawHttpConnection.forUrl("https://127.0.0.1:1", 10), /raw HTTP needs an http:\/\/ url; got https:\/\/127.0.0.1:1/);
});
