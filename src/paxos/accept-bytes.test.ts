import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { Packr } from "msgpackr";
import { createTestRuntime } from "../node/test-runtime.js";
import type { Network, NodeId, RequestHandler, RequestResult } from "../runtime/network.js";
import { encodeItemKey } from "../storage/item-key.js";
import { MemoryStorageEngine } from "../storage/memory-storage-engine.js";
import {
  decodeAcceptorRecord,
  encodeAcceptBody,
  encodeAcceptedRecord,
  encodeAcceptorRecordGeneric,
  encodeProposal,
  originsMax,
  readAcceptBody,
  readAcceptBodyGeneric,
  type Proposal,
} from "./acceptor-record.js";
import { AcceptorService } from "./acceptor-service.js";
import { ballotToTuple, ballotZero, type Ballot } from "./ballot.js";
import { acceptBytesType, acceptMessage } from "./paxos-messages.js";
import { StrongCoordinator, type StrongVersioned } from "./strong-coordinator.js";

// Accepts as bytes (README, "Accepts as bytes"): the proposer writes a proposal once as the
// last three fields of the acceptor record, the accept carries them as one byte string, and
// the acceptor checks them and stores them after its own head. The record is the one the
// plain accept stores, byte for byte; anything malformed is refused and stores nothing; a
// node of the version before gets the plain accept.

const encoder = new TextEncoder();
const keyOf = (name: string): Uint8Array => encodeItemKey(1, encoder.encode(name));
const packr = new Packr({ useRecords: false });
/** What the TCP transport and the simulator do to every message: MessagePack there and back. */
const through = (message: unknown): unknown => packr.unpack(packr.pack(message));

// ASCII (the hand writer's subset) and a few characters outside it (msgpackr's bytes then).
const text = (maxLength: number) => fc.oneof(fc.string({ maxLength, unit: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)) }), fc.constantFrom("é", "nœud", "日本語"));
const uint = fc.oneof(fc.nat({ max: 0x1ff }), fc.integer({ min: 0xffff_fff0, max: 0x1_0000_0010 }), fc.maxSafeNat());
const ballotArb: fc.Arbitrary<Ballot> = fc.oneof(
  fc.record({ counter: uint, node: text(12) }, { noNullPrototype: true }),
  fc.record({ epoch: fc.integer({ min: 1, max: 2 ** 40 }), counter: uint, node: text(12) }, { noNullPrototype: true }),
);
const valueArb: fc.Arbitrary<StrongVersioned> = fc.record({
  value: fc.uint8Array({ maxLength: 300 }),
  contentType: text(40),
  metadata: fc.array(fc.tuple(text(8), text(20)), { maxLength: 17 }),
  expiresAtMs: fc.option(uint, { nil: null }),
  timestamp: uint,
  version: text(30),
}, { noNullPrototype: true });
const proposalArb: fc.Arbitrary<Proposal> = fc.record({
  value: fc.option(valueArb, { nil: undefined }),
  origins: fc.array(ballotArb, { maxLength: originsMax }),
  originsFloor: ballotArb,
}, { noNullPrototype: true });

test("an accepted record built from a proposal's bytes is the plain record's bytes, and an accept body reads back as written", () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 80 }), ballotArb, fc.option(ballotArb, { nil: undefined }), uint, proposalArb, (key, ballot, next, acceptedAtMs, proposal) => {
      const encoded = encodeProposal(proposal);
      const record = encodeAcceptedRecord(ballot, acceptedAtMs, encoded);
      const plain = { promised: ballot, accepted: { ballot, acceptedAtMs, value: proposal.value, origins: proposal.origins, originsFloor: proposal.originsFloor } };
      assert.deepEqual(Buffer.from(record), Buffer.from(encodeAcceptorRecordGeneric(plain)));
      assert.deepEqual(decodeAcceptorRecord(record), plain);
      const body = encodeAcceptBody(key, ballot, next, encoded);
      const read = readAcceptBody(body);
      assert.ok(read !== undefined && "encoded" in read.proposal, "the fast reader takes what the writer wrote");
      assert.deepEqual(Buffer.from(read.key), Buffer.from(key));
      assert.deepEqual([read.ballot, read.next], [ballot, next]);
      assert.deepEqual(Buffer.from(read.proposal.encoded), Buffer.from(encoded.encoded));
      const generic = readAcceptBodyGeneric(body);
      assert.deepEqual(generic?.proposal, proposal);
      assert.deepEqual([generic?.ballot, generic?.next], [ballot, next]);
    }),
    { numRuns: 300, seed: 10 },
  );
});

const ballot: Ballot = { epoch: 2, counter: 1_000, node: "n1" };
const value: StrongVersioned = { value: encoder.encode("v"), contentType: "text/plain", metadata: [["m", "1"]], expiresAtMs: null, timestamp: 7, version: "1000.n1" };
const proposal: Proposal = { value, origins: [ballot], originsFloor: ballotZero };

function acceptorNode(nodeId = "n2") {
  const runtime = createTestRuntime({ storage: new MemoryStorageEngine(), nodeId });
  const acceptors = new AcceptorService({ runtime });
  const strong = new StrongCoordinator({ runtime, acceptors, placement: { acceptorsFor: () => undefined }, requestTimeoutMs: 100 });
  return { runtime, acceptors, strong };
}

test("the accept as bytes crosses MessagePack and stores the very record the plain accept stores", async () => {
  const key = keyOf("k");
  const bytes = acceptorNode();
  const plain = acceptorNode();
  const body = encodeAcceptBody(key, ballot, { ...ballot, counter: 1_001 }, encodeProposal(proposal));
  assert.deepEqual(through(await bytes.strong.handle("n1", through({ type: acceptBytesType, body }))), { ok: true, next: true });
  assert.deepEqual(through(await plain.strong.handle("n1", through(acceptMessage(key, ballot, proposal, { ...ballot, counter: 1_001 })))), { ok: true, next: true });
  const stored = bytes.runtime.storage.get(key);
  assert.ok(stored !== undefined);
  assert.deepEqual(Buffer.from(stored), Buffer.from(plain.runtime.storage.get(key)!));
  assert.deepEqual(bytes.acceptors.record(key)?.accepted?.value, value);
});

test("a malformed accept body is refused as malformed and stores nothing", async () => {
  const key = keyOf("k");
  const good = encodeAcceptBody(key, ballot, undefined, encodeProposal(proposal));
  const ballotOf = (counter: number): Ballot => ({ counter, node: `o${counter}` });
  const tooManyOrigins = Array.from({ length: originsMax + 1 }, (_, i) => ballotToTuple(ballotOf(i + 1)));
  const valueFields = [value.value, value.contentType, ["m", "1"], null, 7, value.version];
  const bodies: unknown[] = [
    "not bytes",
    good.subarray(0, good.length - 1),
    Buffer.concat([good, Uint8Array.of(0)]),
    packr.pack([new Uint8Array(0), ballotToTuple(ballot), null, valueFields, [], ballotToTuple(ballotZero)]),
    packr.pack([key, ballotToTuple(ballot), null, valueFields, tooManyOrigins, ballotToTuple(ballotZero)]),
    packr.pack([key, ballotToTuple(ballot), null, [value.value, "t", [], null, -3, "v"], [], ballotToTuple(ballotZero)]),
    packr.pack([key, ballotToTuple(ballot), null, [value.value, "t", ["odd"], null, 3, "v"], [], ballotToTuple(ballotZero)]),
    packr.pack([key, [1, "n", 0], null, null, [], ballotToTuple(ballotZero)]),
    packr.pack([key, ballotToTuple(ballot), [1], null, [], ballotToTuple(ballotZero)]),
    packr.pack([key, ballotToTuple(ballot), null, null, []]),
    Uint8Array.of(0xc1),
  ];
  const node = acceptorNode();
  for (const body of bodies) {
    const reply = through(await node.strong.handle("n1", through({ type: acceptBytesType, body }))) as { ok: boolean; refusal?: string };
    assert.deepEqual([reply.ok, reply.refusal], [false, "malformed"], `refused: ${Buffer.isBuffer(body) ? body.toString("hex") : String(body)}`);
  }
  assert.equal(node.runtime.storage.get(key), undefined, "nothing stored");
  assert.deepEqual(node.acceptors.storeCounts, { writes: 0, records: 0 });
});

/** Three nodes in one process, every message through MessagePack; `old` nodes answer accept bytes as the version before did. */
function cluster(old: ReadonlySet<NodeId>) {
  const handlers = new Map<NodeId, RequestHandler>();
  const sent: { to: NodeId; type: string }[] = [];
  const networkOf = (from: NodeId): Network => ({
    async request<T>(to: NodeId, message: unknown): Promise<RequestResult<T>> {
      const type = (message as { type: string }).type;
      sent.push({ to, type });
      if (old.has(to) && type === acceptBytesType) return { ok: true, reply: { ok: false, refusal: "malformed", message: `unknown paxos message ${type}` } as T };
      return { ok: true, reply: through(await handlers.get(to)!(from, through(message))) as T };
    },
    send(): void {},
    serve(): void {},
  });
  const ids = ["n1", "n2", "n3"];
  const nodes = ids.map((nodeId) => {
    const runtime = { ...createTestRuntime({ storage: new MemoryStorageEngine(), nodeId }), network: networkOf(nodeId) };
    const acceptors = new AcceptorService({ runtime });
    const strong = new StrongCoordinator({ runtime, acceptors, placement: { acceptorsFor: () => ({ acceptors: ids }) }, requestTimeoutMs: 100 });
    handlers.set(nodeId, (from, message) => strong.handle(from, message));
    return { acceptors, strong };
  });
  return { nodes, sent };
}

test("rounds send accepts as bytes; a node of the version before gets the plain accept, and only the plain one from then on", async () => {
  const { nodes, sent } = cluster(new Set(["n3"]));
  const [n1, n2, n3] = nodes;
  const set = (text: string) => () => ({ type: "set" as const, value: { value: encoder.encode(text), contentType: "text/plain", metadata: [] as [string, string][], expiresAtMs: null } });
  const first = await n1!.strong.change(keyOf("k"), 3, set("one"));
  assert.ok(first.ok, JSON.stringify(first));
  const accepts = (to: NodeId) => sent.filter((s) => s.to === to && s.type !== "paxos.prepare").map((s) => s.type);
  assert.deepEqual(accepts("n2"), [acceptBytesType]);
  assert.deepEqual(accepts("n3"), [acceptBytesType, "paxos.accept"], "refused as unknown, then sent plain");
  const second = await n1!.strong.change(keyOf("k"), 3, set("two"));
  assert.ok(second.ok, JSON.stringify(second));
  assert.deepEqual(accepts("n2"), [acceptBytesType, acceptBytesType]);
  assert.deepEqual(accepts("n3"), [acceptBytesType, "paxos.accept", "paxos.accept"], "plain at once to the older node");
  for (const node of [n1!, n2!, n3!]) assert.equal(new TextDecoder().decode(node.acceptors.record(keyOf("k"))?.accepted?.value?.value), "two");
  assert.equal(n1!.strong.roundCounts.oneTrip, 1, "the second round used the promise the first one's accepts gave");
});
