import { test } from "node:test";
import assert from "node:assert/strict";
import { PeerDispatcher } from "./peer-dispatcher.js";

test("a message goes to the route whose prefix its type starts with, with the sender", () => {
  const dispatcher = new PeerDispatcher();
  const seen: string[] = [];
  dispatcher.route("membership.", (from, m) => {
    seen.push(`membership ${from} ${(m as { type: string }).type}`);
    return "ack";
  });
  dispatcher.route("replica.", (from) => {
    seen.push(`replica ${from}`);
    return "stored";
  });
  assert.equal(dispatcher.handle("n2", { type: "membership.ping" }), "ack");
  assert.equal(dispatcher.handle("n3", { type: "replica.put" }), "stored");
  assert.deepEqual(seen, ["membership n2 membership.ping", "replica n3"]);
  assert.equal(dispatcher.unrouted, 0);
});

test("messages without a string type or with an unknown prefix are answered undefined and counted", () => {
  const dispatcher = new PeerDispatcher();
  let calls = 0;
  dispatcher.route("membership.", () => ++calls);
  for (const message of [null, 7, "membership.ping", { type: 3 }, {}, { type: "membershipx" }, { type: "coordinator.get" }]) {
    assert.equal(dispatcher.handle("n2", message), undefined);
  }
  assert.equal(calls, 0);
  assert.equal(dispatcher.unrouted, 7);
});

test("a handler's promise is passed through, so the network can await the reply", async () => {
  const dispatcher = new PeerDispatcher();
  dispatcher.route("membership.", () => Promise.resolve({ ok: true }));
  assert.deepEqual(await dispatcher.handle("n2", { type: "membership.sync" }), { ok: true });
});

test("overlapping or malformed prefixes are refused when routed", () => {
  const dispatcher = new PeerDispatcher();
  dispatcher.route("membership.", () => undefined);
  assert.throws(() => dispatcher.route("membership.", () => undefined), /overlaps/);
  assert.throws(() => dispatcher.route("membership.ring.", () => undefined), /overlaps/);
  assert.throws(() => dispatcher.route("replica", () => undefined), /ends with/);
});

test("until the node holds a ring, replica, coordinator, anti-entropy and handoff messages get a typed retryable refusal; the rest are routed", () => {
  const dispatcher = new PeerDispatcher();
  const seen: string[] = [];
  for (const prefix of ["membership.", "replica.", "coordinator.", "anti-entropy.", "handoff.", "catalog.", "client.", "paxos."]) {
    dispatcher.route(prefix, (_from, m) => {
      seen.push((m as { type: string }).type);
      return { ok: true };
    });
  }
  let ring = false;
  dispatcher.requireRing(() => ring);
  for (const type of ["replica.merge", "replica.list", "coordinator.put", "anti-entropy.roots", "handoff.done"]) {
    const reply = dispatcher.handle("n2", { type }) as { ok: boolean; error: string; retryable: boolean; message: string };
    assert.deepEqual([reply.ok, reply.error, reply.retryable], [false, "no-ring", true], type);
    assert.match(reply.message, new RegExp(`holds no ring yet.*${type.replace(".", "\\.")}`));
  }
  assert.equal(dispatcher.refusedBeforeRing, 5);
  for (const type of ["membership.sync", "catalog.digest", "client.get", "paxos.prepare"]) assert.deepEqual(dispatcher.handle("n2", { type }), { ok: true });
  assert.deepEqual(seen, ["membership.sync", "catalog.digest", "client.get", "paxos.prepare"]);
  ring = true;
  assert.deepEqual(dispatcher.handle("n2", { type: "replica.merge" }), { ok: true });
  assert.equal(dispatcher.refusedBeforeRing, 5);
});
