import { test } from "node:test";
import assert from "node:assert/strict";
import { Packr } from "msgpackr";
import { createTestRuntime } from "../node/test-runtime.js";
import { MemoryStorageEngine } from "../storage/memory-storage-engine.js";
import { encodeItemKey } from "../storage/item-key.js";
import { AcceptorService } from "./acceptor-service.js";
import { ballotZero, type Ballot } from "./ballot.js";
import { acceptMessage, parseAcceptReply, parsePrepareReply, parseRequest, prepareMessage } from "./paxos-messages.js";
import { StrongCoordinator } from "./strong-coordinator.js";

// The acceptor steps as they cross the wire (MessagePack, as the TCP transport frames them),
// and what happens to a message that does not parse.

const wire = new Packr({ useRecords: false });
const through = <T>(message: T): unknown => wire.unpack(wire.pack(message));
const key = encodeItemKey(3, new TextEncoder().encode("k"));
const b = (counter: number): Ballot => ({ counter, node: "n2" });

function node(): StrongCoordinator {
  const runtime = createTestRuntime({ storage: new MemoryStorageEngine() });
  return new StrongCoordinator({ runtime, acceptors: new AcceptorService({ runtime }), placement: { acceptorsFor: () => undefined }, requestTimeoutMs: 100 });
}

test("prepare, accept and a second prepare round-trip through MessagePack with their values", async () => {
  const strong = node();
  const value = { value: new TextEncoder().encode("v"), contentType: "text/plain", metadata: [["m", "1"]] as [string, string][], expiresAtMs: null, timestamp: 9, version: "4.n2" };
  assert.equal(parsePrepareReply(through(await strong.handle("n2", through(prepareMessage(key, b(4)))))).kind, "ok");
  const accepted = parseAcceptReply(through(await strong.handle("n2", through(acceptMessage(key, b(4), { value, origins: [b(4)], originsFloor: ballotZero })))));
  assert.deepEqual(accepted, { kind: "ok", reply: { next: false } });
  const promised = parsePrepareReply(through(await strong.handle("n2", through(prepareMessage(key, b(6))))));
  assert.ok(promised.kind === "ok");
  assert.deepEqual(promised.reply.accepted?.ballot, b(4));
  assert.deepEqual(promised.reply.accepted?.origins, [b(4)]);
  assert.equal(new TextDecoder().decode(promised.reply.accepted?.value?.value), "v");
  assert.deepEqual(promised.reply.accepted?.value?.metadata, [["m", "1"]]);
});

test("an accept asking for the next ballot's promise says it gave it, across the wire; the promise then refuses lower prepares", async () => {
  const strong = node();
  const value = { value: new TextEncoder().encode("v"), contentType: "text/plain", metadata: [] as [string, string][], expiresAtMs: null, timestamp: 9, version: "4.n2" };
  assert.equal(parsePrepareReply(through(await strong.handle("n2", through(prepareMessage(key, b(4)))))).kind, "ok");
  const accepted = parseAcceptReply(through(await strong.handle("n2", through(acceptMessage(key, b(4), { value, origins: [b(4)], originsFloor: ballotZero }, b(9))))));
  assert.deepEqual(accepted, { kind: "ok", reply: { next: true } });
  assert.deepEqual(parsePrepareReply(through(await strong.handle("n2", through(prepareMessage(key, b(8)))))), { kind: "refused", promised: b(9) });
  const bad = { ...acceptMessage(key, b(9), { value, origins: [b(9)], originsFloor: ballotZero }), next: [1, 2] };
  const reply = (await strong.handle("n2", bad)) as { ok: boolean; refusal?: string; message?: string };
  assert.deepEqual([reply.ok, reply.refusal], [false, "malformed"]);
  assert.match(reply.message ?? "", /next ballot is malformed/);
  assert.equal(new TextDecoder().decode(strong.readLocal(key).value?.value), "v", "the malformed accept changed nothing");
});

test("a refusal carries the ballot to beat across the wire", async () => {
  const strong = node();
  await strong.handle("n2", prepareMessage(key, b(8)));
  const refused = parsePrepareReply(through(await strong.handle("n2", through(prepareMessage(key, b(7))))));
  assert.deepEqual(refused, { kind: "refused", promised: b(8) });
});

test("a malformed message is refused as a value and changes nothing", async () => {
  const strong = node();
  for (const bad of [null, { type: "paxos.nope" }, { type: "paxos.prepare", key: "text", ballot: [1, "n"] }, { type: "paxos.accept", key, ballot: [1, "n"], value: { value: 3 }, origins: [], originsFloor: [0, ""] }]) {
    const reply = (await strong.handle("n2", bad)) as { ok: boolean; refusal?: string };
    assert.deepEqual([reply.ok, reply.refusal], [false, "malformed"], JSON.stringify(bad));
    assert.ok(!parseRequest(bad).ok);
  }
  assert.equal(strong.readLocal(key).value, undefined);
  assert.equal(parsePrepareReply({ ok: true }).kind, "malformed");
  assert.equal(parseAcceptReply("yes").kind, "malformed");
});

test("with no ring yet a change waits a bounded while and is unavailable; one whose ring comes meanwhile runs", async () => {
  // The node's timers are unreferenced (background steps): keep the test's event loop alive.
  const keepAlive = setInterval(() => undefined, 5);
  try {
    const result = await node().change(key, 3, () => ({ type: "keep" }));
    assert.ok(!result.ok && result.error === "unavailable", JSON.stringify(result));
    assert.match(result.message, /no ring/);
    const runtime = createTestRuntime({ storage: new MemoryStorageEngine() });
    const ring: { acceptors?: string[] } = {};
    const joining = new StrongCoordinator({ runtime, acceptors: new AcceptorService({ runtime }), placement: { acceptorsFor: () => (ring.acceptors === undefined ? undefined : { acceptors: ring.acceptors }) }, requestTimeoutMs: 100 });
    const pending = joining.change(key, 1, () => ({ type: "set", value: { value: new Uint8Array([1]), contentType: "x", metadata: [], expiresAtMs: null } }));
    ring.acceptors = [runtime.nodeId];
    const changed = await pending;
    assert.ok(changed.ok && changed.value.after !== undefined, JSON.stringify(changed));
  } finally {
    clearInterval(keepAlive);
  }
});
