import { test } from "node:test";
import assert from "node:assert/strict";
import { Packr } from "msgpackr";
import { HintStore } from "../handoff/hint-store.js";
import { encodeItemKey } from "../storage/item-key.js";
import { MemoryStorageEngine } from "../storage/memory-storage-engine.js";
import * as dvvset from "../versioning/dotted-version-vector-set.js";
import { isSibling, type Sibling } from "../versioning/sibling.js";
import { ReplicaService } from "./replica-service.js";
import { decodeSiblingRecord, encodeSiblingRecord } from "./sibling-record.js";

const key = encodeItemKey(7, new TextEncoder().encode("cart:42"));
const siblings = { lww: false };

function sibling(text: string, timestamp = 1, tombstone = false): Sibling {
  return { value: new TextEncoder().encode(text), contentType: "text/plain", metadata: [], timestamp, tombstone, expiresAtMs: null };
}

function texts(set: dvvset.DottedVersionVectorSet<Sibling> | undefined): string[] {
  return set === undefined ? [] : dvvset.values(set).map((s) => new TextDecoder().decode(s.value)).sort();
}

function service(nodeId = "n1", siblingsMax = 100): { replica: ReplicaService; storage: MemoryStorageEngine; hints: HintStore<Sibling> } {
  const storage = new MemoryStorageEngine();
  const hints = HintStore.open({ storage, isValue: isSibling, hintsPerTargetMax: 10 });
  return { replica: new ReplicaService({ nodeId, storage, hints, siblingsMax }), storage, hints };
}

test("two blind writes become siblings with consecutive dots of the coordinator", async () => {
  const { replica } = service();
  const first = await replica.coordinateWrite(key, sibling("a"), undefined, siblings);
  const second = await replica.coordinateWrite(key, sibling("b"), undefined, siblings);
  assert.ok(first.ok && second.ok);
  assert.deepEqual(first.dot, ["n1", 1]);
  assert.deepEqual(second.dot, ["n1", 2]);
  assert.deepEqual(texts(replica.fetch(key)), ["a", "b"]);
});

test("concurrent coordinated writes of one key are serialized: no dot is issued twice", async () => {
  const { replica } = service();
  const results = await Promise.all(["a", "b", "c", "d"].map((text) => replica.coordinateWrite(key, sibling(text), undefined, siblings)));
  const counters = results.map((result) => (result.ok ? result.dot[1] : -1)).sort();
  assert.deepEqual(counters, [1, 2, 3, 4]);
  assert.deepEqual(texts(replica.fetch(key)), ["a", "b", "c", "d"]);
});

test("a write with the context of a read replaces exactly the siblings that read saw", async () => {
  const { replica } = service();
  await replica.coordinateWrite(key, sibling("a"), undefined, siblings);
  const context = dvvset.join(replica.fetch(key)!);
  await replica.coordinateWrite(key, sibling("b"), undefined, siblings);
  await replica.coordinateWrite(key, sibling("c"), context, siblings);
  assert.deepEqual(texts(replica.fetch(key)), ["b", "c"]);
});

test("a coordinated write past siblingsMax is refused and nothing is stored", async () => {
  const { replica } = service("n1", 2);
  await replica.coordinateWrite(key, sibling("a"), undefined, siblings);
  await replica.coordinateWrite(key, sibling("b"), undefined, siblings);
  const refused = await replica.coordinateWrite(key, sibling("c"), undefined, siblings);
  assert.equal(refused.ok, false);
  assert.deepEqual(texts(replica.fetch(key)), ["a", "b"]);
});

test("merge syncs another replica's version into the local set", async () => {
  const a = service("n1");
  const b = service("n2");
  await a.replica.coordinateWrite(key, sibling("a"), undefined, siblings);
  await b.replica.coordinateWrite(key, sibling("b"), undefined, siblings);
  await a.replica.merge(key, b.replica.fetch(key)!, siblings);
  await b.replica.merge(key, a.replica.fetch(key)!, siblings);
  assert.deepEqual(texts(a.replica.fetch(key)), ["a", "b"]);
  assert.ok(dvvset.equal(a.replica.fetch(key)!, b.replica.fetch(key)!));
});

test("a last-writer-wins merge keeps only the highest timestamp", async () => {
  const { replica } = service();
  await replica.coordinateWrite(key, sibling("old", 5), undefined, { lww: true });
  const other = service("n2");
  await other.replica.coordinateWrite(key, sibling("new", 9), undefined, { lww: true });
  await replica.merge(key, other.replica.fetch(key)!, { lww: true });
  assert.deepEqual(texts(replica.fetch(key)), ["new"]);
});

test("a merge message for a down primary is kept as a hint, not as local data, and fetched as one", async () => {
  const { replica, hints } = service("n4");
  const set = dvvset.update(dvvset.newValue(sibling("h")), dvvset.empty<Sibling>(), "n1");
  const reply = await replica.handle("n1", { type: "replica.merge", key, set, hintFor: "n2", lww: false });
  assert.deepEqual(reply, { ok: true, durable: true });
  assert.equal(replica.fetch(key), undefined);
  assert.equal(hints.count("n2"), 1);
  const fetched = (await replica.handle("n1", { type: "replica.fetch", key, hintFor: "n2" })) as { ok: true; set: unknown };
  assert.ok(dvvset.equal(fetched.set as typeof set, set));
  const own = await replica.handle("n1", { type: "replica.fetch", key, hintFor: null });
  assert.deepEqual(own, { ok: true, set: null });
});

test("a malformed merge message is refused as a value", async () => {
  const { replica } = service();
  const reply = (await replica.handle("n2", { type: "replica.merge", key, set: { entries: "no" }, hintFor: null, lww: false })) as { ok: boolean };
  assert.equal(reply.ok, false);
});

test("the sibling record round-trips and refuses another format", () => {
  const set = dvvset.update(dvvset.newValue(sibling("x")), dvvset.empty<Sibling>(), "n1");
  assert.ok(dvvset.equal(decodeSiblingRecord(encodeSiblingRecord(set)), set));
  const packr = new Packr({ useRecords: false, moreTypes: false, structuredClone: false });
  assert.throws(() => decodeSiblingRecord(packr.pack([1, set])), /format 1/);
});
