import { test } from "node:test";
import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import type { TableDefinition } from "../catalog/table-definition.js";
import { ShoalError } from "../errors.js";
import { defaultLimits } from "../limits.js";
import { claimInitial } from "../ring/claim.js";
import type { RingState } from "../ring/ring-state.js";
import { NodeTimers } from "../runtime/node-runtime.js";
import { connectToNode } from "../transport/client-connection.js";
import { TcpNetwork } from "../transport/tcp-network.js";
import { clientMessagePrefix, type ClientReply } from "./client-messages.js";
import { ClientProtocolHandler, type ClientMemberSource } from "./client-protocol-handler.js";
import { TestItemOperations } from "./test-item-operations.js";
import { PeerDispatcher } from "../node/peer-dispatcher.js";
import type { Member } from "../membership/member.js";
import type { TableCatalog } from "../catalog/table-catalog.js";

// The node wires Membership.members() and its TableCatalog in directly: these fail to compile
// if either stops fitting the handler's options.
export const memberFits = (member: Member): ClientMemberSource => member;
export const catalogFits = (catalog: TableCatalog): { get(name: string): TableDefinition | undefined } => catalog;

const cart: TableDefinition = { name: "cart", id: 7, replication: { n: 3, r: 2, w: 2 }, consistency: "eventual", conflicts: "siblings", createdAtMs: 0 };
const bytes = (text: string) => new TextEncoder().encode(text);
const text = (value: Uint8Array) => new TextDecoder().decode(value);

function ringOf(ids: string[]): RingState {
  const claimed = claimInitial(ids.map((id) => ({ id })), { partitionCount: 16 });
  assert.ok(claimed.ok);
  return claimed.ring;
}

function setup(ring: RingState | undefined) {
  const items = new TestItemOperations();
  const members: ClientMemberSource[] = [
    { id: "n1", address: { host: "127.0.0.1", peerPort: 9001, clientPort: 8001 }, state: "up" },
    { id: "n2", address: { host: "::1", peerPort: 9002, clientPort: 8002 }, state: "suspect" },
  ];
  const handler = new ClientProtocolHandler({ tables: { get: (name) => (name === "cart" ? cart : undefined) }, items, ring: () => ring, members: () => members, limits: defaultLimits });
  /** Answers loosely typed: the tests read whichever side of the reply they expect. */
  const ask = (message: unknown) => handler.handle("client:1", message) as Promise<{ ok: boolean; ringVersion: number; value?: any; error?: any }>;
  return { items, handler, ask };
}

test("a put then a get answer the value, its version and one context, each with the node's ring version", async () => {
  const ring = ringOf(["n1", "n2"]);
  const { ask } = setup(ring);
  const put = await ask({ type: "client.put", table: "cart", key: { partitionKey: bytes("user/1") }, value: bytes("apple"), contentType: "text/plain", metadata: { owner: "ana" } });
  assert.equal(put.ok, true);
  assert.equal(put.ringVersion, ring.version);
  assert.equal(put.value.created, true);
  const got = await ask({ type: "client.get", table: "cart", key: { partitionKey: bytes("user/1") } });
  assert.equal(got.ok, true);
  assert.equal(got.ringVersion, ring.version);
  assert.equal(got.value.siblings.length, 1);
  assert.equal(text(got.value.siblings[0].value), "apple");
  assert.equal(got.value.siblings[0].contentType, "text/plain");
  assert.deepEqual({ ...got.value.siblings[0].metadata }, { owner: "ana" });
  assert.equal(got.value.siblings[0].version, put.value.item.version);
  assert.equal(got.value.context, put.value.context);
});

test("two writes without a context come back as siblings, and a write with their context replaces both", async () => {
  const { ask } = setup(ringOf(["n1", "n2"]));
  const key = { partitionKey: bytes("k") };
  await ask({ type: "client.put", table: "cart", key, value: bytes("a") });
  await ask({ type: "client.put", table: "cart", key, value: bytes("b") });
  const both = await ask({ type: "client.get", table: "cart", key });
  assert.deepEqual(both.value.siblings.map((s: { value: Uint8Array }) => text(s.value)), ["a", "b"]);
  await ask({ type: "client.put", table: "cart", key, value: bytes("ab"), context: both.value.context });
  const merged = await ask({ type: "client.get", table: "cart", key });
  assert.deepEqual(merged.value.siblings.map((s: { value: Uint8Array }) => text(s.value)), ["ab"]);
});

test("quorum overrides, conditions and the context reach the coordinator, and its failures come back with their code", async () => {
  const { ask } = setup(ringOf(["n1", "n2"]));
  const key = { partitionKey: bytes("k") };
  await ask({ type: "client.put", table: "cart", key, value: bytes("a"), quorum: { w: 3, dw: 1 } });
  const refused = await ask({ type: "client.put", table: "cart", key, value: bytes("b"), condition: { ifNoneMatch: "*" } });
  assert.equal(refused.ok, false);
  assert.equal(refused.error.code, "PreconditionFailed");
  const deleted = await ask({ type: "client.delete", table: "cart", key, condition: { ifMatch: "*" } });
  assert.deepEqual(deleted.value, { existed: true });
  const gone = await ask({ type: "client.get", table: "cart", key, quorum: { r: 1 } });
  assert.deepEqual(gone.value.siblings, []);
});

test("a missing table is TableNotFound, a malformed message BadRequest, and neither reaches the coordinator", async () => {
  const { ask, items } = setup(ringOf(["n1", "n2"]));
  const missing = await ask({ type: "client.get", table: "nope", key: { partitionKey: bytes("k") } });
  assert.deepEqual([missing.ok, missing.error.code], [false, "TableNotFound"]);
  assert.match(missing.error.message, /"nope"/);
  for (const message of [
    { type: "client.get", table: "cart", key: { partitionKey: "not bytes" } },
    { type: "client.put", table: "cart", key: { partitionKey: bytes("k") }, value: bytes("v"), quorum: { r: 2 } },
    { type: "client.put", table: "cart", key: { partitionKey: new Uint8Array(defaultLimits.keyBytesMax + 1) }, value: bytes("v") },
    { type: "client.nonsense" },
    "client.get",
  ]) {
    const answer = await ask(message);
    assert.deepEqual([answer.ok, answer.error?.code], [false, "BadRequest"], JSON.stringify(message));
  }
  assert.deepEqual(items.calls, []);
});

test("a ShoalError thrown by the coordinator is answered with its code; any other throw is a bug and propagates", async () => {
  const { ask, items } = setup(ringOf(["n1", "n2"]));
  items.throwNext = new ShoalError("KeyTooLong", 400, "key encodes to 2000 bytes");
  const answer = await ask({ type: "client.get", table: "cart", key: { partitionKey: bytes("k") } });
  assert.deepEqual(answer.error, { code: "KeyTooLong", message: "key encodes to 2000 bytes" });
  items.throwNext = new Error("boom");
  await assert.rejects(ask({ type: "client.get", table: "cart", key: { partitionKey: bytes("k") } }), /boom/);
});

test("client.ring answers the ring and each member's id, peer address, client url and state", async () => {
  const ring = ringOf(["n1", "n2"]);
  const { ask } = setup(ring);
  const answer = await ask({ type: "client.ring" });
  assert.deepEqual(answer.value.ring, ring);
  assert.deepEqual(answer.value.members, [
    { id: "n1", host: "127.0.0.1", peerPort: 9001, clientUrl: "http://127.0.0.1:8001", state: "up" },
    { id: "n2", host: "::1", peerPort: 9002, clientUrl: "http://[::1]:8002", state: "suspect" },
  ]);
});

test("a node without a ring yet answers ring null and ring version 0", async () => {
  const { ask } = setup(undefined);
  const answer = await ask({ type: "client.ring" });
  assert.equal(answer.value.ring, null);
  assert.equal(answer.ringVersion, 0);
});

test("list pages through the table in key order and resumes after the last key", async () => {
  const { ask } = setup(ringOf(["n1", "n2"]));
  for (const k of ["b", "a", "c", "x/1"]) await ask({ type: "client.put", table: "cart", key: { partitionKey: bytes(k) }, value: bytes(k) });
  const first = await ask({ type: "client.list", table: "cart", limit: 2 });
  assert.deepEqual(first.value.items.map((i: { key: { partitionKey: Uint8Array } }) => text(i.key.partitionKey)), ["a", "b"]);
  const second = await ask({ type: "client.list", table: "cart", limit: 2, after: first.value.resumeAfter });
  assert.deepEqual(second.value.items.map((i: { key: { partitionKey: Uint8Array } }) => text(i.key.partitionKey)), ["c", "x/1"]);
  assert.equal(second.value.resumeAfter, null);
  const prefixed = await ask({ type: "client.list", table: "cart", prefix: bytes("x/") });
  assert.equal(prefixed.value.items.length, 1);
});

test("over a real TCP connection, a client-role peer's put and get keep bytes intact through the dispatcher route", async (t) => {
  const { handler } = setup(ringOf(["n1", "n2"]));
  const network = new TcpNetwork({ nodeId: "n1", limits: defaultLimits });
  const dispatcher = new PeerDispatcher();
  dispatcher.route(clientMessagePrefix, handler.handle);
  network.serve(dispatcher.handle);
  const port = await network.listen("127.0.0.1", 0);
  const timers = new NodeTimers();
  const connection = connectToNode({ host: "127.0.0.1", port, expectedNodeId: "n1", limits: defaultLimits, timers, clock: { nowMs: () => performance.now() } });
  t.after(async () => {
    connection.close();
    timers.clearAll();
    await network.close();
  });
  const value = Uint8Array.from([0, 255, 1, 254, 0]);
  const key = { partitionKey: Uint8Array.from([0, 0, 7]), sortKey: bytes("s") };
  const put = await connection.request<ClientReply<any>>({ type: "client.put", table: "cart", key, value }, 5000);
  assert.ok(put.ok && put.reply.ok, JSON.stringify(put));
  const got = await connection.request<ClientReply<any>>({ type: "client.get", table: "cart", key }, 5000);
  assert.ok(got.ok && got.reply.ok);
  assert.deepEqual(Uint8Array.from(got.reply.value.siblings[0].value), value);
});
