import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { fetch } from "undici";
import { startTestNode, type TestNode } from "../node/test-node.js";
import { errorCode, json, postJson } from "./test-requests.js";

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

// POST /v1/cluster/forget (coordinator/tombstone-reaper-departures.ts): a peer's pending record
// of a leaver "ghost" stands in for one that died mid-drain (the GC side is in tombstone-reaper.test.ts).
test("POST /v1/cluster/forget drops a pending departure; refuses bad input, a member, an unknown or clean one with status, code and message", async () => {
  const forget = (body: unknown) => postJson(`${t.url}/v1/cluster/forget`, body);
  const refused = async (res: Awaited<ReturnType<typeof forget>>, status: number, code: string, message: RegExp) => {
    assert.equal(res.status, status);
    const body = await json(res);
    assert.equal(body.error.code, code);
    assert.match(body.error.message, message);
  };
  await refused(await forget({ node: "ghost" }), 404, "NoDeparture", /no departure record of ghost/);
  await t.node.items.departures.merge([["ghost", 1, -1]]);
  assert.deepEqual(t.node.items.departures.pending(t.node.cluster.membership.ring()), ["ghost"]);
  await refused(await fetch(`${t.url}/v1/cluster/forget`, { method: "POST", headers: { "content-type": "application/json" } }), 400, "InvalidJson", /not valid JSON/);
  await refused(await fetch(`${t.url}/v1/cluster/forget`, { method: "POST", body: "ghost" }), 415, "UnsupportedMediaType", /application\/json/);
  await refused(await forget({}), 400, "InvalidForget", /node must be a node id of 1-256 characters; got none/);
  await refused(await forget({ node: 7 }), 400, "InvalidForget", /got 7/);
  await refused(await forget({ node: "ghost", force: true }), 400, "InvalidForget", /unknown field "force"/);
  await refused(await forget(["ghost"]), 400, "InvalidForget", /must be a JSON object/);
  await refused(await forget({ node: "n1" }), 409, "StillMember", /n1 is still placed by ring 1/);
  assert.deepEqual(t.node.items.departures.pending(t.node.cluster.membership.ring()), ["ghost"], "refusals change nothing");
  const metricsBefore = await (await fetch(`${t.url}/metrics`)).text();
  assert.match(metricsBefore, /^shoal_departures_pending\{node="n1"\} 1$/m);
  assert.match(metricsBefore, /^shoal_departure_records\{node="n1"\} 1$/m);
  assert.match(metricsBefore, /^shoal_ring_conflicts\{node="n1"\} 0$/m);
  assert.match(metricsBefore, /^shoal_departure_oldest_pending_age_seconds\{node="n1"\} [\d.]+$/m);
  const res = await forget({ node: "ghost" });
  assert.equal(res.status, 200);
  assert.deepEqual(await json(res), { node: "ghost", forgotten: true, ringVersion: 1, membersTold: 0 });
  assert.deepEqual(t.node.items.departures.pending(t.node.cluster.membership.ring()), []);
  const metricsAfter = await (await fetch(`${t.url}/metrics`)).text();
  assert.match(metricsAfter, /^shoal_departures_pending\{node="n1"\} 0$/m);
  assert.match(metricsAfter, /^shoal_departure_oldest_pending_age_seconds\{node="n1"\} 0$/m);
  await refused(await forget({ node: "ghost" }), 409, "DepartureClean", /already clean/);
  assert.equal((await fetch(`${t.url}/v1/cluster/forget`)).status, 405);
});
