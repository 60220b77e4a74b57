import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { fetch } from "undici";
import { startTestNode, type TestNode } from "../node/test-node.js";
import { errorCode, json } from "./test-requests.js";

let t: TestNode;
before(async () => {
  t = await startTestNode();
});
after(() => t.close());

test("GET /v1/cluster on a node started alone lists it up, owning every partition of ring version 1", async () => {
  const res = await fetch(`${t.url}/v1/cluster`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /application\/json/);
  const body = await json(res);
  const port = new URL(t.url).port;
  assert.deepEqual(body, {
    self: "n1",
    ringVersion: 1,
    partitionCount: 256,
    members: [{ id: "n1", address: `127.0.0.1:${t.node.peerPort}`, clientUrl: `http://127.0.0.1:${port}`, state: "up", partitions: 256 }],
    pendingTransfers: 0,
  });
  assert.notEqual(t.node.peerPort, 0, "the bound peer port is reported, not the 0 asked for");
});

test("/v1/cluster answers HEAD and refuses other methods with 405 and an Allow header", async () => {
  assert.equal((await fetch(`${t.url}/v1/cluster`, { method: "HEAD" })).status, 200);
  const res = await fetch(`${t.url}/v1/cluster`, { method: "POST" });
  assert.equal(res.status, 405);
  assert.equal(res.headers.get("allow"), "GET, HEAD");
  assert.equal(await errorCode(res), "MethodNotAllowed");
});
