import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * The bare node:http ceiling: the least an HTTP key-value front end in Node can do. GET answers
 * the stored body from a Map keyed by URL; PUT stores the body. Same URLs and headers as Shoal's
 * native API, so the load process drives both identically. Prints one JSON "listening" line.
 *
 * Usage: node dist/bench/ceiling-server.js [port]
 */
const entriesMax = 1_000_000;
const bodyBytesMax = 32 * 1024 * 1024;

interface Stored {
  body: Buffer;
  contentType: string;
}

const items = new Map<string, Stored>();

const server = createServer((req, res) => {
  const url = req.url ?? "/";
  if (req.method === "GET") {
    const item = items.get(url);
    if (item === undefined) {
      res.writeHead(404, { "content-type": "application/json" }).end('{"error":{"code":"ItemNotFound","message":"no such item"}}');
      return;
    }
    res.writeHead(200, { "content-type": item.contentType, "content-length": item.body.length }).end(item.body);
    return;
  }
  if (req.method === "PUT") {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= bodyBytesMax) chunks.push(chunk);
    });
    req.on("end", () => {
      if (size > bodyBytesMax || (!items.has(url) && items.size >= entriesMax)) {
        res.writeHead(413).end();
        return;
      }
      items.set(url, { body: Buffer.concat(chunks), contentType: req.headers["content-type"] ?? "application/octet-stream" });
      res.writeHead(204).end();
    });
    return;
  }
  res.writeHead(405).end();
});

server.listen(Number(process.argv[2] ?? 0), "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ msg: "listening", url: `http://127.0.0.1:${port}`, pid: process.pid })}\n`);
});

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    server.close();
    server.closeAllConnections();
  });
}
