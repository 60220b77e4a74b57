import { test } from "node:test";
import assert from "node:assert/strict";
import { HintStore } from "../handoff/hint-store.js";
import { ReplicaService } from "../replica/replica-service.js";
import { claimInitial } from "../ring/claim.js";
import { partitionOf } from "../ring/partition-hash.js";
import { preferenceList } from "../ring/preference-list.js";
import type { Network, NodeId, RequestResult } from "../runtime/network.js";
import type { Runtime } from "../runtime/runtime.js";
import { itemKeyOf } from "../sim/eventual-workload.js";
import { decodeItemKey } from "../storage/item-key.js";
import { MemoryStorageEngine } from "../storage/memory-storage-engine.js";
import * as dvvset from "../versioning/dotted-version-vector-set.js";
import { isSibling, type Sibling } from "../versioning/sibling.js";
import { EventualCoordinator } from "./eventual-coordinator.js";
import type { Quorum } from "./quorum-options.js";

// A read that the coordinator's own replica decides (r=1 on a primary) is answered from the
// local record without asking the others; one in soleReadRepairEvery still asks them all, after
// answering, so read repair keeps working. Anything else asks every replica as before.

const one: Quorum = { n: 3, r: 1, w: 2, dw: 0, pr: 0, pw: 0 };
const noLww = { lww: false };

function sibling(text: string, timestamp: number): Sibling {
  return { value: new TextEncoder().encode(text), contentType: "text/plain", metadata: [], timestamp, tombstone: false, expiresAtMs: null };
}

function cluster(options: { soleReadRepairEvery?: number; members?: number } = {}) {
  const ids = Array.from({ length: options.members ?? 3 }, (_, i) => `n${i + 1}`);
  const claimed = claimInitial(ids.map((id) => ({ id })), { partitionCount: 8 });
  assert.ok(claimed.ok);
  const storages = new Map<NodeId, MemoryStorageEngine>();
  const replicas = new Map<NodeId, ReplicaService>();
  for (const id of ids) {
    const storage = new MemoryStorageEngine();
    storages.set(id, storage);
    replicas.set(id, new ReplicaService({ nodeId: id, storage, hints: HintStore.open({ storage, isValue: isSibling, hintsPerTargetMax: 10 }), siblingsMax: 100 }));
  }
  const sent: { to: NodeId; message: Record<string, unknown> }[] = [];
  const network = {
    async request<T>(to: NodeId, message: unknown): Promise<RequestResult<T>> {
      sent.push({ to, message: message as Record<string, unknown> });
      return { ok: true, reply: (await replicas.get(to)!.handle("n1", message)) as T };
    },
  } as unknown as Network;
  const coordinator = new EventualCoordinator({
    runtime: { nodeId: "n1", network } as unknown as Runtime,
    replicas: replicas.get("n1")!,
    membership: { ring: () => claimed.ring, isUp: () => true },
    requestTimeoutMs: 1000,
    ...(options.soleReadRepairEvery === undefined ? {} : { soleReadRepairEvery: options.soleReadRepairEvery }),
  });
  const fetches = () => sent.filter((s) => s.message.type === "replica.fetch").length;
  return { coordinator, replicas, storages, sent, fetches, ring: claimed.ring };
}

async function write(replicas: Map<NodeId, ReplicaService>, key: Uint8Array, text: string, to: readonly NodeId[]): Promise<dvvset.DottedVersionVectorSet<Sibling>> {
  const written = await replicas.get(to[0]!)!.coordinateWrite(key, sibling(text, 1), undefined, noLww);
  assert.ok(written.ok);
  for (const id of to.slice(1)) assert.deepEqual(await replicas.get(id)!.merge(key, written.set, noLww), { ok: true, durable: true });
  return written.set;
}

const texts = (siblings: readonly Sibling[]) => siblings.map((s) => new TextDecoder().decode(s.value));
const turn = () => new Promise((resolve) => setImmediate(resolve));

test("an r=1 read on a primary answers from its own record and asks no other replica, but one in soleReadRepairEvery asks them all and repairs", async () => {
  const { coordinator, replicas, sent, fetches } = cluster({ soleReadRepairEvery: 3 });
  const key = itemKeyOf("cart");
  const set = await write(replicas, key, "apple", ["n1", "n2"]);
  assert.equal(replicas.get("n3")!.fetch(key), undefined, "n3 missed the write");
  for (let i = 1; i <= 2; i++) {
    const read = await coordinator.get(key, one, false);
    assert.ok(read.ok && read.found, JSON.stringify(read));
    assert.deepEqual(texts(read.siblings), ["apple"]);
    assert.ok(dvvset.equal(read.set, set));
    assert.deepEqual(read.context, dvvset.join(set));
    assert.equal(fetches(), 0, `read ${i} asked no other replica`);
  }
  await turn();
  assert.equal(sent.length, 0, "and repaired nothing");
  assert.equal(replicas.get("n3")!.fetch(key), undefined);
  // The third read is the one in three that asks every replica; it answers the same.
  const third = await coordinator.get(key, one, false);
  assert.ok(third.ok && third.found);
  assert.deepEqual(texts(third.siblings), ["apple"]);
  assert.equal(fetches(), 2, "the third read asked both other replicas");
  await turn();
  const repaired = replicas.get("n3")!.fetch(key);
  assert.ok(repaired !== undefined && dvvset.equal(repaired, set), "read repair brought n3 the write");
  assert.equal(sent.filter((s) => s.message.type === "replica.merge").length, 1);
});

test("an r=1 read answers not found from its own replica alone, as the fan-out did (its reply came first)", async () => {
  const { coordinator, replicas, fetches } = cluster();
  const key = itemKeyOf("later");
  await write(replicas, key, "elsewhere", ["n2", "n3"]);
  const read = await coordinator.get(key, one, false);
  assert.ok(read.ok);
  assert.equal(read.found, false);
  assert.deepEqual(read.context, []);
  assert.equal(fetches(), 0);
});

test("soleReadRepairEvery 1 asks every replica on every read (the Dynamo paper's coordinator)", async () => {
  const { coordinator, replicas, fetches } = cluster({ soleReadRepairEvery: 1 });
  const key = itemKeyOf("cart");
  await write(replicas, key, "apple", ["n1", "n2", "n3"]);
  for (let i = 1; i <= 3; i++) {
    const read = await coordinator.get(key, one, false);
    assert.ok(read.ok && read.found);
    assert.equal(fetches(), 2 * i);
  }
  assert.throws(() => cluster({ soleReadRepairEvery: 0 }), /soleReadRepairEvery must be a positive integer, got 0/);
});

test("an r=1 read whose local record does not decode asks the other replicas and answers with theirs", async () => {
  const { coordinator, replicas, storages, fetches } = cluster();
  const key = itemKeyOf("cart");
  const set = await write(replicas, key, "apple", ["n2", "n3"]);
  // Not a sibling record: the local replica's reply is a failure, so it decides nothing.
  await storages.get("n1")!.write([{ type: "put", key, value: new Uint8Array([0x92, 0x02, 0xc0]) }], { durable: true });
  const read = await coordinator.get(key, one, false);
  assert.ok(read.ok && read.found, JSON.stringify(read));
  assert.ok(dvvset.equal(read.set, set));
  assert.equal(fetches(), 2);
});

test("reads the local replica cannot decide alone ask the others: r=2, pr=2, and a coordinator that is no primary of the key", async () => {
  const { coordinator, replicas, fetches, ring } = cluster({ members: 4 });
  const primariesOf = (key: Uint8Array) => preferenceList(ring, partitionOf(decodeItemKey(key).partitionKey, ring.partitionCount), 3);
  const names = Array.from({ length: 64 }, (_, i) => `k${i}`);
  const mine = itemKeyOf(names.find((name) => primariesOf(itemKeyOf(name)).includes("n1"))!);
  const other = itemKeyOf(names.find((name) => !primariesOf(itemKeyOf(name)).includes("n1"))!);
  await write(replicas, mine, "mine", primariesOf(mine));
  await write(replicas, other, "other", primariesOf(other));
  const check = async (key: Uint8Array, quorum: Quorum, text: string, asked: number) => {
    const before = fetches();
    const read = await coordinator.get(key, quorum, false);
    assert.ok(read.ok && read.found, JSON.stringify(read));
    assert.deepEqual(texts(read.siblings), [text]);
    assert.equal(fetches() - before, asked, `${JSON.stringify(quorum)} asked ${asked} replicas`);
  };
  await check(mine, one, "mine", 0);
  await check(mine, { ...one, r: 2 }, "mine", 2);
  await check(mine, { ...one, pr: 2 }, "mine", 2);
  await check(mine, { ...one, pr: 1 }, "mine", 0);
  await check(other, one, "other", 3);
});

test("a key rewritten since the last read reads as the new record (the decoded-record memo never answers for other bytes)", async () => {
  const { coordinator, replicas } = cluster();
  const key = itemKeyOf("cart");
  await write(replicas, key, "apple", ["n1", "n2", "n3"]);
  const first = await coordinator.get(key, one, false);
  assert.ok(first.ok && first.found);
  assert.deepEqual(texts(first.siblings), ["apple"]);
  const newer = await replicas.get("n1")!.coordinateWrite(key, sibling("pear", 2), first.context, noLww);
  assert.ok(newer.ok);
  const second = await coordinator.get(key, one, false);
  assert.ok(second.ok && second.found);
  assert.deepEqual(texts(second.siblings), ["pear"]);
  assert.ok(dvvset.equal(second.set, newer.set));
});
