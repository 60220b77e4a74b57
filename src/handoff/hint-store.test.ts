import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { MemoryStorageEngine } from "../storage/memory-storage-engine.js";
import * as dvvset from "../versioning/dotted-version-vector-set.js";
import type { DottedVersionVectorSet } from "../versioning/dotted-version-vector-set.js";
import { isSibling, type Sibling } from "../versioning/sibling.js";
import { HintStore, type Hint } from "./hint-store.js";

type Values = DottedVersionVectorSet<string>;
const isString = (value: unknown): value is string => typeof value === "string";
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const written = (value: string, nodeId = "c", server: Values = dvvset.empty()): Values => dvvset.update(dvvset.newValue(value), server, nodeId);
const hint = (target: string, key: string, set: Values, tableId = 7): Hint<string> => ({ target, tableId, key: bytes(key), set });

function openStore(storage = new MemoryStorageEngine(), hintsPerTargetMax = 100, targetsMax?: number): HintStore<string> {
  return HintStore.open({ storage, isValue: isString, hintsPerTargetMax, ...(targetsMax !== undefined ? { targetsMax } : {}) });
}

const listedKeys = (store: HintStore<string>, target: string): string[] =>
  store.listForTarget(target, { limit: 100 }).hints.map((h) => new TextDecoder().decode(h.key));

test("HintStore keeps a hint for its target and lists it back with its table and key", async () => {
  const store = openStore();
  const set = written("x");
  assert.deepEqual(await store.add(hint("b", "cart:1", set)), { ok: true });
  const { hints, resumeAfter } = store.listForTarget("b", { limit: 10 });
  assert.equal(resumeAfter, null);
  assert.equal(hints.length, 1);
  assert.equal(hints[0]!.target, "b");
  assert.equal(hints[0]!.tableId, 7);
  assert.deepEqual([...hints[0]!.key], [...bytes("cart:1")]);
  assert.deepEqual(hints[0]!.set, set);
  assert.deepEqual(store.get({ target: "b", tableId: 7, key: bytes("cart:1") }), set);
  assert.deepEqual([...store.countByTarget()], [["b", 1]]);
});

test("HintStore merges a newer hint for the same key instead of piling it up", async () => {
  const store = openStore();
  const first = written("x", "c");
  const concurrent = written("y", "d");
  await store.add(hint("b", "k", first));
  await store.add(hint("b", "k", concurrent));
  assert.equal(store.count("b"), 1);
  const held = store.get({ target: "b", tableId: 7, key: bytes("k") })!;
  assert.deepEqual(dvvset.values(held).sort(), ["x", "y"]);
});

test("HintStore merges hints for one key added in the same turn", async () => {
  const store = openStore();
  await Promise.all([store.add(hint("b", "k", written("x", "c"))), store.add(hint("b", "k", written("y", "d"))), store.add(hint("b", "k", written("z", "e")))]);
  assert.equal(store.count("b"), 1);
  assert.deepEqual(dvvset.values(store.get({ target: "b", tableId: 7, key: bytes("k") })!).sort(), ["x", "y", "z"]);
});

test("HintStore refuses a new key beyond hintsPerTargetMax but still merges into held keys", async () => {
  const store = openStore(new MemoryStorageEngine(), 2);
  assert.deepEqual(await store.add(hint("b", "k1", written("1"))), { ok: true });
  assert.deepEqual(await store.add(hint("b", "k2", written("2"))), { ok: true });
  assert.deepEqual(await store.add(hint("b", "k3", written("3"))), { ok: false, error: "hints-full" });
  assert.deepEqual(await store.add(hint("b", "k1", written("1b", "d"))), { ok: true });
  assert.deepEqual(await store.add(hint("other", "k3", written("3"))), { ok: true });
  assert.deepEqual(listedKeys(store, "b"), ["k1", "k2"]);
  assert.equal(store.count("b"), 2);
});

test("HintStore refuses a new target beyond targetsMax", async () => {
  const store = openStore(new MemoryStorageEngine(), 10, 2);
  await store.add(hint("a", "k", written("1")));
  await store.add(hint("b", "k", written("1")));
  assert.deepEqual(await store.add(hint("c", "k", written("1"))), { ok: false, error: "hints-full" });
  assert.deepEqual(await store.add(hint("a", "k2", written("1"))), { ok: true });
});

test("HintStore lists one target's hints in pages by count and bytes, never another target's", async () => {
  const store = openStore();
  for (const key of ["k1", "k2", "k3", "k4", "k5"]) await store.add(hint("a", key, written(key)));
  await store.add(hint("ab", "k0", written("other")));
  const first = store.listForTarget("a", { limit: 2 });
  assert.deepEqual(first.hints.map((h) => h.target), ["a", "a"]);
  const second = store.listForTarget("a", { limit: 2, after: first.resumeAfter! });
  const third = store.listForTarget("a", { limit: 2, after: second.resumeAfter! });
  const keys = [...first.hints, ...second.hints, ...third.hints].map((h) => new TextDecoder().decode(h.key));
  assert.deepEqual(keys, ["k1", "k2", "k3", "k4", "k5"]);
  assert.equal(third.resumeAfter, null);
  const oneSize = first.hints[0]!.bytes;
  const byBytes = store.listForTarget("a", { limit: 10, bytesMax: oneSize * 2 + 1 });
  assert.equal(byBytes.hints.length, 2);
  assert.equal(store.listForTarget("a", { limit: 10, bytesMax: 1 }).hints.length, 1, "the first hint is listed even when larger than bytesMax");
  assert.deepEqual(listedKeys(store, "ab"), ["k0"]);
});

test("HintStore removes a handed-back hint only if it did not change since it was listed", async () => {
  const store = openStore();
  await store.add(hint("b", "same", written("x")));
  await store.add(hint("b", "changed", written("y", "c")));
  const listed = store.listForTarget("b", { limit: 10 }).hints;
  await store.add(hint("b", "changed", written("y2", "d")));
  assert.equal(await store.remove(listed), 1);
  assert.deepEqual(listedKeys(store, "b"), ["changed"]);
  assert.equal(store.count("b"), 1);
  assert.equal(await store.remove(listed), 0, "removing again is a no-op");
  assert.equal(await store.remove(store.listForTarget("b", { limit: 10 }).hints), 1);
  assert.equal(store.count("b"), 0);
  assert.deepEqual([...store.countByTarget()], []);
});

test("HintStore keeps a hint whose merge is in flight when a stale removal races it", async () => {
  const store = openStore();
  await store.add(hint("b", "k", written("x", "c")));
  const listed = store.listForTarget("b", { limit: 10 }).hints;
  const adding = store.add(hint("b", "k", written("y", "d")));
  assert.equal(await store.remove(listed), 0);
  await adding;
  assert.deepEqual(dvvset.values(store.get({ target: "b", tableId: 7, key: bytes("k") })!).sort(), ["x", "y"]);
});

test("HintStore hints synced to disk survive a crash, and open recounts them", async () => {
  const storage = new MemoryStorageEngine();
  const store = openStore(storage);
  await store.add(hint("b", "k1", written("1")));
  await store.add(hint("c", "k1", written("1")), { durable: true });
  await store.add(hint("b", "k2", written("2")));
  await storage.sync();
  await store.add(hint("b", "lost", written("3")));
  storage.crash();
  const reopened = openStore(storage);
  assert.deepEqual(new Map(reopened.countByTarget()), new Map([["b", 2], ["c", 1]]));
  assert.deepEqual(listedKeys(reopened, "b"), ["k1", "k2"]);
  assert.deepEqual(reopened.get({ target: "b", tableId: 7, key: bytes("k2") }), written("2"));
});

test("HintStore reopened over the same storage sees every committed hint", async () => {
  const storage = new MemoryStorageEngine();
  const store = openStore(storage);
  await store.add(hint("b", "k1", written("1")));
  await store.remove(store.listForTarget("b", { limit: 1 }).hints);
  await store.add(hint("b", "k2", written("2")));
  const reopened = openStore(storage);
  assert.deepEqual(new Map(reopened.countByTarget()), new Map([["b", 1]]));
  assert.deepEqual(listedKeys(reopened, "b"), ["k2"]);
});

test("HintStore's counts always match what a fresh open counts, under any adds and removals", async () => {
  type Op = { kind: "add"; target: number; key: number; value: number } | { kind: "remove"; target: number; limit: number };
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ kind: fc.constant("add" as const), target: fc.nat(2), key: fc.nat(5), value: fc.nat(3) }),
    fc.record({ kind: fc.constant("remove" as const), target: fc.nat(2), limit: fc.integer({ min: 1, max: 4 }) }),
  );
  await fc.assert(
    fc.asyncProperty(fc.array(opArb, { maxLength: 30 }), async (ops) => {
      const storage = new MemoryStorageEngine();
      const store = openStore(storage, 4);
      const inFlight: Promise<unknown>[] = [];
      for (const op of ops) {
        const target = `t${op.target}`;
        if (op.kind === "add") inFlight.push(store.add(hint(target, `k${op.key}`, written(`v${op.value}`, `n${op.value}`))));
        else inFlight.push(store.remove(store.listForTarget(target, { limit: op.limit }).hints));
        if (inFlight.length % 3 === 0) await Promise.all(inFlight);
      }
      await Promise.all(inFlight);
      const reopened = openStore(storage, 4);
      assert.deepEqual(new Map(store.countByTarget()), new Map(reopened.countByTarget()));
      for (const count of store.countByTarget().values()) assert.ok(count <= 4);
    }),
    { numRuns: 100, seed: 0x5eed_0321 },
  );
});

test("HintStore round-trips siblings with their bytes through disk", async () => {
  const storage = new MemoryStorageEngine();
  const store = HintStore.open<Sibling>({ storage, isValue: isSibling, hintsPerTargetMax: 10 });
  const sibling: Sibling = { value: Uint8Array.of(0, 1, 255), contentType: "application/octet-stream", metadata: [["color", "blue"]], timestamp: 42, tombstone: false, expiresAtMs: null };
  await store.add({ target: "b", tableId: 1, key: bytes("k"), set: dvvset.update(dvvset.newValue(sibling), dvvset.empty<Sibling>(), "a") });
  const [listed] = HintStore.open<Sibling>({ storage, isValue: isSibling, hintsPerTargetMax: 10 }).listForTarget("b", { limit: 1 }).hints;
  const [value] = dvvset.values(listed!.set);
  assert.deepEqual([...value!.value], [0, 1, 255]);
  assert.deepEqual(value!.metadata, [["color", "blue"]]);
  assert.equal(value!.timestamp, 42);
});
