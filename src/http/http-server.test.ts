import assert from "node:assert/strict";
import { connect, type AddressInfo, type Socket } from "node:net";
import { after, test } from "node:test";
import { BodyTooLarge, readBody } from "../api/read-body.js";
import { payloadTooLarge, ShoalError } from "../errors.js";
import { eventually } from "../testing/eventually.js";
import type { LeanRequest } from "./lean-request.js";
import type { LeanResponse } from "./lean-response.js";
import { ShoalHttpServer, type HttpServerOptions } from "./http-server.js";

/**
 * Shoal's HTTP server over real sockets with a small handler: `/echo` answers the body it read
 * (at most 16 bytes), `/slow/<ms>` answers its name after a delay, anything else its method
 * and URL. Every closed response is recorded (the metrics observer's view).
 */
interface Harness {
  server: ShoalHttpServer;
  port: number;
  /** Requests the handler was given, then responses closed (the metrics observer's view). */
  seen: string[];
  closed: string[];
  failures: unknown[];
}

const servers: ShoalHttpServer[] = [];
after(async () => {
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

async function start(options: HttpServerOptions = {}): Promise<Harness> {
  const seen: string[] = [];
  const closed: string[] = [];
  const failures: unknown[] = [];
  const handler = (req: LeanRequest, res: LeanResponse): void => {
    seen.push(`${req.method} ${req.url}`);
    res.observer = { responseClosed: () => closed.push(`${req.method} ${req.url} ${res.statusCode}`) };
    if (req.url === "/echo") {
      readBody(req, res, 16, (bytes) => payloadTooLarge("TooLarge", `body is more than 16 bytes (${bytes})`)).then(
        (body) => {
          res.writeHead(200, { "content-type": "text/plain" });
          res.end(body);
        },
        (error: unknown) => {
          failures.push(error);
          const shoal = error instanceof BodyTooLarge ? error.error : (error as ShoalError);
          if (error instanceof BodyTooLarge) res.shouldKeepAlive = false;
          res.writeHead(shoal.status, { "content-type": "text/plain" });
          res.end(shoal.code);
        },
      );
      return;
    }
    const slow = /^\/slow\/(\d+)$/.exec(req.url);
    if (slow !== null) {
      setTimeout(() => res.end(`slow ${slow[1]}`), Number(slow[1]));
      return;
    }
    res.writeHead(200, { "content-type": "text/plain", "x-method": req.method });
    res.end(`${req.method} ${req.url}`);
  };
  const server = new ShoalHttpServer(handler, options);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: (server.address() as AddressInfo).port, seen, closed, failures };
}

/** A raw client: what the server sent so far, and whether it closed. */
interface Raw {
  socket: Socket;
  text(): string;
  ended(): boolean;
}

async function open(port: number): Promise<Raw> {
  const socket = connect(port, "127.0.0.1");
  await new Promise<void>((resolve) => socket.once("connect", resolve));
  let received = "";
  let ended = false;
  socket.on("data", (chunk: Buffer) => (received += chunk.toString("latin1")));
  socket.on("close", () => (ended = true));
  socket.on("error", () => undefined);
  return { socket, text: () => received, ended: () => ended };
}

async function untilClosed(raw: Raw): Promise<string> {
  await eventually("the server to close the connection", () => raw.ended());
  return raw.text();
}

function statuses(text: string): number[] {
  return [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
}

test("pipelined requests are answered in request order, even when a later one finishes first", async () => {
  const h = await start();
  const raw = await open(h.port);
  raw.socket.write("GET /slow/60 HTTP/1.1\r\nhost: a\r\n\r\nGET /slow/1 HTTP/1.1\r\nhost: a\r\n\r\nPUT /echo HTTP/1.1\r\ncontent-length: 3\r\n\r\nabcGET /last HTTP/1.1\r\nconnection: close\r\n\r\n");
  const text = await untilClosed(raw);
  const bodies = text.split("\r\n\r\n").slice(1).map((part) => part.split("HTTP/1.1")[0]);
  assert.deepEqual(bodies, ["slow 60", "slow 1", "abc", "GET /last"]);
  assert.match(text, /connection: close/);
  assert.equal(h.closed.length, 4, "every response was closed once");
});

test("HEAD gets the headers without a body; HTTP/1.0 closes unless keep-alive", async () => {
  const h = await start();
  const raw = await open(h.port);
  raw.socket.write("HEAD /x HTTP/1.1\r\n\r\nGET /y HTTP/1.0\r\n\r\n");
  const text = await untilClosed(raw);
  assert.match(text, /^HTTP\/1\.1 200 OK\r\n.*content-length: 7\r\n.*\r\n\r\nHTTP\/1\.1 200 OK\r\n/s, "the HEAD answer declares the GET's length and has no body");
  assert.ok(text.endsWith("GET /y"));
  const kept = await open(h.port);
  kept.socket.write("GET /z HTTP/1.0\r\nconnection: keep-alive\r\n\r\n");
  await eventually("the answer", () => kept.text().endsWith("GET /z"));
  assert.match(kept.text(), /connection: keep-alive/);
  assert.equal(kept.ended(), false);
  kept.socket.destroy();
});

test("malformed input is 400 with a JSON error naming the problem, after the answers before it, and closes", async () => {
  const h = await start();
  const raw = await open(h.port);
  raw.socket.write("GET /ok HTTP/1.1\r\n\r\nPUT /echo HTTP/1.1\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\nab");
  const text = await untilClosed(raw);
  assert.deepEqual(statuses(text), [200, 400]);
  assert.match(text, /"code":"BadRequest","message":"the request has two different Content-Length headers"/);
  assert.match(text, /connection: close/);
});

test("an oversized head is 431 and closes; a body over the handler's limit is 413 and closes", async () => {
  const h = await start();
  const big = await open(h.port);
  big.socket.write(`GET / HTTP/1.1\r\nx-a: ${"v".repeat(17 * 1024)}\r\n\r\n`);
  assert.deepEqual(statuses(await untilClosed(big)), [431]);
  const body = await open(h.port);
  body.socket.write("PUT /echo HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n10\r\n0123456789abcdef\r\n1\r\nx\r\n");
  const text = await untilClosed(body);
  assert.deepEqual(statuses(text), [413]);
  assert.ok(text.endsWith("TooLarge"));
});

test("Expect: 100-continue gets 100 Continue when the handler reads the body, then the answer", async () => {
  const h = await start();
  const raw = await open(h.port);
  raw.socket.write("PUT /echo HTTP/1.1\r\ncontent-length: 2\r\nexpect: 100-continue\r\n\r\n");
  await eventually("100 Continue", () => raw.text().startsWith("HTTP/1.1 100 Continue\r\n\r\n"));
  raw.socket.write("hi");
  await eventually("the answer", () => raw.text().endsWith("hi"));
  assert.deepEqual(statuses(raw.text()), [100, 200]);
  raw.socket.destroy();
});

test("a client closing mid-body fails the body read with RequestAborted and closes the response", async () => {
  const h = await start();
  const raw = await open(h.port);
  raw.socket.write("PUT /echo HTTP/1.1\r\ncontent-length: 10\r\n\r\nabc");
  await eventually("the handler to wait for the body", () => h.seen.includes("PUT /echo"));
  raw.socket.destroy();
  await eventually("the read to fail", () => h.failures.length === 1);
  assert.equal((h.failures[0] as ShoalError).code, "RequestAborted");
  await eventually("the response to be closed", () => h.closed.length === 1);
  await eventually("the connection to be gone", () => h.server.connectionCount === 0);
});

test("a client that half-closes after a request still gets its answer", async () => {
  const h = await start();
  const raw = await open(h.port);
  raw.socket.end("GET /slow/20 HTTP/1.1\r\n\r\n");
  const text = await untilClosed(raw);
  assert.ok(text.endsWith("slow 20"));
});

test("a head that never finishes (slowloris) gets 408 after headersTimeoutMs; an idle kept-alive connection closes after keepAliveTimeoutMs", async () => {
  const h = await start({ headersTimeoutMs: 150, keepAliveTimeoutMs: 100, requestTimeoutMs: 1000, checkIntervalMs: 20 });
  const slow = await open(h.port);
  slow.socket.write("GET / HTTP/1.1\r\nx-a: ");
  const text = await untilClosed(slow);
  assert.deepEqual(statuses(text), [408]);
  assert.match(text, /RequestTimeout/);
  const idle = await open(h.port);
  idle.socket.write("GET /a HTTP/1.1\r\n\r\n");
  await untilClosed(idle);
  assert.ok(idle.text().endsWith("GET /a"), "answered, then closed when idle");
  const body = await open(h.port);
  body.socket.write("PUT /echo HTTP/1.1\r\ncontent-length: 5\r\n\r\nab");
  await untilClosed(body);
  assert.deepEqual(statuses(body.text()), [408], "a body that never completes is 408 after requestTimeoutMs");
});

test("close(): idle connections close at once, a busy one gets its answer and closes with closeAllConnections", async () => {
  const h = await start();
  const idle = await open(h.port);
  const busy = await open(h.port);
  idle.socket.write("GET /a HTTP/1.1\r\n\r\n");
  await eventually("the idle connection's answer", () => idle.text().endsWith("GET /a"));
  busy.socket.write("GET /slow/80 HTTP/1.1\r\n\r\n");
  await eventually("the slow request to reach the handler", () => h.seen.includes("GET /slow/80"));
  const closed = new Promise<void>((resolve) => h.server.close(() => resolve()));
  await untilClosed(idle);
  await eventually("the slow answer", () => busy.text().endsWith("slow 80"));
  h.server.closeAllConnections();
  await untilClosed(busy);
  await closed;
});

test("a handler that throws gets 500 and the error reported", async () => {
  const errors: unknown[] = [];
  const server = new ShoalHttpServer(
    () => {
      throw new Error("boom");
    },
    { onHandlerError: (error) => errors.push(error) },
  );
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const raw = await open((server.address() as AddressInfo).port);
  raw.socket.write("GET / HTTP/1.1\r\n\r\n");
  assert.deepEqual(statuses(await untilClosed(raw)), [500]);
  assert.equal((errors[0] as Error).message, "boom");
});
