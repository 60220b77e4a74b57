import assert from "node:assert/strict";
import { test } from "node:test";
import { fetch } from "undici";
import { startFakeApi } from "../api/fake-api-server.js";
import { createTable, itemUrl, put } from "../api/test-requests.js";
import { clientServerKindOf, type ClientServerKind } from "./client-server.js";

/**
 * The same REST requests through both servers of the client port (Shoal's own and node:http):
 * statuses, bodies and the headers the handlers set must be the same.
 */
async function session(kind: ClientServerKind): Promise<string[]> {
  const api = await startFakeApi({ httpServer: kind, limits: { valueBytesMax: 1000, requestBodyBytesMax: 1000 } });
  try {
    const seen: string[] = [];
    const note = async (what: string, res: Awaited<ReturnType<typeof fetch>>): Promise<void> => {
      const body = await res.text();
      seen.push(`${what} ${res.status} ${res.headers.get("content-type") ?? "-"} ${res.headers.get("content-length") ?? "-"} ${body.replace(/"[0-9a-zA-Z+/=_-]{10,}"/g, '"*"')}`);
    };
    await createTable(api.url, "same", { conflicts: "lww" });
    const url = itemUrl(api.url, "same", "k");
    await note("put", await put(url, "héllo", { "content-type": "text/plain; charset=utf-8", "x-shoal-meta-a": "b" }));
    await note("get", await fetch(url));
    await note("head", await fetch(url, { method: "HEAD" }));
    await note("missing", await fetch(itemUrl(api.url, "same", "nope")));
    await note("too large", await put(url, "x".repeat(1001)));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ >= 5) return controller.close();
        controller.enqueue(new Uint8Array(300).fill(0x61));
      },
    });
    await note("chunked too large", await fetch(url, { method: "PUT", body: stream, duplex: "half" }));
    await note("route", await fetch(`${api.url}/nowhere`));
    await note("delete", await fetch(url, { method: "DELETE" }));
    return seen;
  } finally {
    await api.close();
  }
}

test("Shoal's server and node:http answer the same requests the same way", async () => {
  const shoal = await session("shoal");
  const node = await session("node");
  assert.deepEqual(shoal, node);
  assert.match(shoal[1]!, /^get 200 text\/plain; charset=utf-8 6 héllo$/);
  assert.match(shoal[2]!, /^head 200 text\/plain; charset=utf-8 6 $/);
  assert.match(shoal[4]!, /^too large 413 /);
  assert.match(shoal[5]!, /^chunked too large 413 /);
});

test("SHOAL_HTTP_SERVER picks the server: shoal by default, node on request, anything else refused naming both", () => {
  assert.equal(clientServerKindOf({}), "shoal");
  assert.equal(clientServerKindOf({ SHOAL_HTTP_SERVER: "node" }), "node");
  assert.throws(() => clientServerKindOf({ SHOAL_HTTP_SERVER: "nginx" }), /SHOAL_HTTP_SERVER is "nginx"; it must be shoal or node/);
});
