import { test } from "node:test";
import assert from "node:assert/strict";
import { Packr } from "msgpackr";
import { HintStore } from "../handoff/hint-store.js";
import { ReplicaService } from "../replica/replica-service.js";
import { claimInitial } from "../ring/claim.js";
import type { Network, NodeId, RequestResult } from "../runtime/network.js";
import type { Runtime } from "../runtime/runtime.js";
import { itemKeyOf } from "../sim/eventual-workload.js";
import { MemoryStorageEngine } from "../storage/memory-storage-engine.js";
import * as dvvset from "../versioning/dotted-version-vector-set.js";
import { isSibling, type Sibling } from "../versioning/sibling.js";
import { EventualCoordinator } from "./eventual-coordinator.js";
import type { Quorum } from "./quorum-options.js";

// How the coordinator reads other replicas: a primary is asked for its record's bytes, which
// stand for the coordinator's own set when they are equal; older nodes answer with the set.

const key = itemKeyOf("cart");
const all: Quorum = { n: 3, r: 3, w: 2, dw: 0, pr: 0, pw: 0 };
const noLww = { lww: false };

function sibling(text: string, timestamp: number): Sibling {
  return { value: new TextEncoder().encode(text), contentType: "text/plain", metadata: [], timestamp, tombstone: false, expiresAtMs: null };
}

type Handler = (from: NodeId, message: Record<string, unknown>) => unknown;

function cluster() {
  const ids = ["n1", "n2", "n3"];
  const claimed = claimInitial(ids.map((id) => ({ id })), { partitionCount: 8 });
  assert.ok(claimed.ok);
  const replicas = new Map<NodeId, ReplicaService>();
  for (const id of ids) {
    const storage = new MemoryStorageEngine();
    replicas.set(id, new ReplicaService({ nodeId: id, storage, hints: HintStore.open({ storage, isValue: isSibling, hintsPerTargetMax: 10 }), siblingsMax: 100 }));
  }
  const handlers = new Map<NodeId, Handler>(ids.map((id) => [id, (from, message) => replicas.get(id)!.handle(from, message)]));
  const sent: { to: NodeId; message: Record<string, unknown>; reply: unknown }[] = [];
  const network = {
    async request<T>(to: NodeId, message: unknown): Promise<RequestResult<T>> {
      const reply = await handlers.get(to)!("n1", message as Record<string, unknown>);
      sent.push({ to, message: message as Record<string, unknown>, reply });
      return { ok: true, reply: reply as T };
    },
  } as unknown as Network;
  const coordinator = new EventualCoordinator({
    runtime: { nodeId: "n1", network } as unknown as Runtime,
    replicas: replicas.get("n1")!,
    membership: { ring: () => claimed.ring, isUp: () => true },
    requestTimeoutMs: 1000,
  });
  return { coordinator, replicas, handlers, sent };
}

async function writeEverywhere(replicas: Map<NodeId, ReplicaService>, text: string): Promise<dvvset.DottedVersionVectorSet<Sibling>> {
  const written = await replicas.get("n1")!.coordinateWrite(key, sibling(text, 1), undefined, noLww);
  assert.ok(written.ok);
  for (const id of ["n2", "n3"]) assert.deepEqual(await replicas.get(id)!.merge(key, written.set, noLww), { ok: true, durable: true });
  return written.set;
}

test("a read asks primaries for their record's bytes; equal bytes read as the coordinator's own set and need no repair", async () => {
  const { coordinator, replicas, sent } = cluster();
  const set = await writeEverywhere(replicas, "apple");
  const read = await coordinator.get(key, all, false);
  assert.ok(read.ok, JSON.stringify(read));
  assert.deepEqual(read.siblings.map((s) => new TextDecoder().decode(s.value)), ["apple"]);
  assert.ok(dvvset.equal(read.set, set));
  const fetches = sent.filter((s) => s.message.type === "replica.fetch");
  assert.equal(fetches.length, 2);
  for (const fetch of fetches) {
    assert.equal(fetch.message.record, true);
    assert.ok((fetch.reply as { record?: unknown }).record instanceof Uint8Array, "the replica answered with bytes");
  }
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(sent.filter((s) => s.message.type === "replica.merge").length, 0, "nothing differed, nothing repaired");
});

test("a key a replica does not hold reads as nothing from it, and the read repairs it", async () => {
  const { coordinator, replicas, sent } = cluster();
  const written = await replicas.get("n1")!.coordinateWrite(key, sibling("pear", 1), undefined, noLww);
  assert.ok(written.ok);
  await replicas.get("n2")!.merge(key, written.set, noLww);
  const read = await coordinator.get(key, all, false);
  assert.ok(read.ok && read.found);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(sent.filter((s) => s.message.type === "replica.merge").map((s) => s.to), ["n3"]);
  assert.ok(dvvset.equal(replicas.get("n3")!.fetch(key)!, written.set));
});

test("an older replica that answers with the set is still read, and its newer version repairs the others", async () => {
  const { coordinator, replicas, handlers } = cluster();
  const first = await writeEverywhere(replicas, "apple");
  const newer = await replicas.get("n3")!.coordinateWrite(key, sibling("banana", 2), dvvset.join(first), noLww);
  assert.ok(newer.ok);
  // n3 predates `record`: it ignores the flag and answers with its set.
  handlers.set("n3", (from, message) => replicas.get("n3")!.handle(from, { ...message, record: undefined }));
  const read = await coordinator.get(key, all, false);
  assert.ok(read.ok, JSON.stringify(read));
  assert.deepEqual(read.siblings.map((s) => new TextDecoder().decode(s.value)), ["banana"]);
  await new Promise((resolve) => setImmediate(resolve));
  for (const id of ["n1", "n2"]) assert.ok(dvvset.equal(replicas.get(id)!.fetch(key)!, newer.set), `${id} repaired`);
});

test("a record that is not a sibling set counts as that replica's failed reply", async () => {
  const { coordinator, replicas, handlers } = cluster();
  await writeEverywhere(replicas, "apple");
  const foreign = new Packr({ useRecords: false }).pack([3, { promised: [1, "n2"] }]);
  handlers.set("n2", () => ({ ok: true, record: foreign }));
  handlers.set("n3", () => ({ ok: true, record: "not bytes" }));
  const read = await coordinator.get(key, all, false);
  assert.equal(read.ok, false);
  assert.ok(!read.ok && read.error === "quorum", JSON.stringify(read));
  const errors = (read as unknown as { errors: { node: string; error: string }[] }).errors;
  assert.match(errors.find((e) => e.node === "n2")!.error, /not a sibling set/);
  assert.match(errors.find((e) => e.node === "n3")!.error, /not bytes/);
});
