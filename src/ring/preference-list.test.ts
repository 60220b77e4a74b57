import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { AssertionError } from "../assert.js";
import { claimInitial } from "./claim.js";
import { movingFrom, preferenceList, preferenceListWithFallbacks } from "./preference-list.js";
import { planRing } from "./ring-plan.js";
import { ringState, type RingMember, type RingState } from "./ring-state.js";

/** A ring from a string of one-letter owners, e.g. "abac" (members are the letters used). */
function ringOf(owners: string, zones: Record<string, string> = {}): RingState {
  const ids = [...new Set(owners)].sort();
  const members: RingMember[] = ids.map((id) => (zones[id] === undefined ? { id } : { id, zone: zones[id] }));
  return ringState({ version: 1, partitionCount: owners.length, owners: [...owners], members });
}

const allUp = (): boolean => true;
const downSet = (...down: string[]) => (id: string): boolean => !down.includes(id);

test("preferenceList takes the first n distinct owners clockwise, skipping repeats", () => {
  const ring = ringOf("aabacdab");
  assert.deepEqual(preferenceList(ring, 0, 3), ["a", "b", "c"]);
  assert.deepEqual(preferenceList(ring, 4, 3), ["c", "d", "a"]);
});

test("preferenceList wraps past the last partition to partition 0", () => {
  const ring = ringOf("abcdabcd");
  assert.deepEqual(preferenceList(ring, 6, 3), ["c", "d", "a"]);
});

test("preferenceList starts with the partition's owner", () => {
  const ring = ringOf("abcdabcd");
  for (let p = 0; p < 8; p++) assert.equal(preferenceList(ring, p, 2)[0], ring.owners[p]);
});

test("preferenceList caps n at the member count", () => {
  const ring = ringOf("abab");
  assert.deepEqual(preferenceList(ring, 1, 3), ["b", "a"]);
  assert.deepEqual(preferenceList(ring, 1, 0), []);
});

test("preferenceList asserts on a partition outside the ring and a negative n", () => {
  const ring = ringOf("abab");
  assert.throws(() => preferenceList(ring, 4, 2), AssertionError);
  assert.throws(() => preferenceList(ring, -1, 2), AssertionError);
  assert.throws(() => preferenceList(ring, 0, -1), AssertionError);
});

test("with zones, preferenceList skips an owner whose zone is already in the list", () => {
  const ring = ringOf("abcdabcd", { a: "z1", b: "z1", c: "z2", d: "z3" });
  assert.deepEqual(preferenceList(ring, 0, 3), ["a", "c", "d"]);
  assert.deepEqual(preferenceList(ring, 1, 3), ["b", "c", "d"]);
});

test("with fewer zones than n, preferenceList fills up with skipped owners in walk order", () => {
  const ring = ringOf("abcdabcd", { a: "z1", b: "z1", c: "z2", d: "z2" });
  assert.deepEqual(preferenceList(ring, 0, 3), ["a", "b", "c"]);
  assert.deepEqual(preferenceList(ring, 1, 3), ["b", "c", "d"]);
});

test("a member without a zone counts as a zone of its own", () => {
  const ring = ringOf("abcdabcd", { a: "z1", b: "z1" });
  assert.deepEqual(preferenceList(ring, 0, 3), ["a", "c", "d"]);
});

test("preferenceListWithFallbacks returns the primaries when all are up", () => {
  const ring = ringOf("abcdeabc");
  assert.deepEqual(preferenceListWithFallbacks(ring, 0, 3, allUp), [
    { node: "a", primary: true },
    { node: "b", primary: true },
    { node: "c", primary: true },
  ]);
});

test("preferenceListWithFallbacks skips a down primary and adds the next healthy node as its fallback", () => {
  const ring = ringOf("abcdeabc");
  assert.deepEqual(preferenceListWithFallbacks(ring, 0, 3, downSet("b")), [
    { node: "a", primary: true },
    { node: "c", primary: true },
    { node: "d", primary: false, standsInFor: "b" },
  ]);
});

test("a down node is never a fallback; the next healthy one is", () => {
  const ring = ringOf("abcdeabc");
  assert.deepEqual(preferenceListWithFallbacks(ring, 0, 3, downSet("a", "d")), [
    { node: "b", primary: true },
    { node: "c", primary: true },
    { node: "e", primary: false, standsInFor: "a" },
  ]);
});

test("fallbacks stand in for down primaries in preference order", () => {
  const ring = ringOf("abcdeabc");
  assert.deepEqual(preferenceListWithFallbacks(ring, 0, 3, downSet("a", "b")), [
    { node: "c", primary: true },
    { node: "d", primary: false, standsInFor: "a" },
    { node: "e", primary: false, standsInFor: "b" },
  ]);
});

test("with too few healthy nodes the list is shorter rather than repeating a node", () => {
  const ring = ringOf("abcdabcd");
  assert.deepEqual(preferenceListWithFallbacks(ring, 0, 3, downSet("a", "b")), [
    { node: "c", primary: true },
    { node: "d", primary: false, standsInFor: "a" },
  ]);
  assert.deepEqual(preferenceListWithFallbacks(ring, 0, 3, () => false), []);
});

const scenario = fc
  .record({
    partitionCount: fc.constantFrom(8, 16, 64, 256),
    size: fc.integer({ min: 1, max: 12 }),
    n: fc.integer({ min: 0, max: 6 }),
    partitionPick: fc.nat(),
    downMask: fc.nat(0xfff),
  })
  .filter(({ partitionCount, size }) => size <= partitionCount);

const claimedRings = new Map<string, RingState>();

/** Claimed rings, memoised: the laws are about lists, and claim has its own tests. */
function claimed(partitionCount: number, size: number): RingState {
  const key = `${partitionCount}/${size}`;
  let ring = claimedRings.get(key);
  if (ring === undefined) {
    const result = claimInitial(Array.from({ length: size }, (_, i) => ({ id: `node-${i}` })), { partitionCount });
    assert.ok(result.ok, "claim");
    ring = result.ring;
    claimedRings.set(key, ring);
  }
  return ring;
}

test("law: a preference list has min(n, members) distinct members", () => {
  fc.assert(
    fc.property(scenario, ({ partitionCount, size, n, partitionPick }) => {
      const ring = claimed(partitionCount, size);
      const list = preferenceList(ring, partitionPick % partitionCount, n);
      assert.equal(list.length, Math.min(n, size));
      assert.equal(new Set(list).size, list.length);
      assert.ok(list.every((id) => ring.members.some((m) => m.id === id)), "only members");
    }),
    { seed: 0x9e1, numRuns: 200 },
  );
});

test("law: fallbacks are never down, never duplicate a node, and stand in for distinct down primaries", () => {
  fc.assert(
    fc.property(scenario, ({ partitionCount, size, n, partitionPick, downMask }) => {
      const ring = claimed(partitionCount, size);
      const partition = partitionPick % partitionCount;
      const isUp = (id: string): boolean => ((downMask >> Number(id.slice(5))) & 1) === 0;
      const primaries = preferenceList(ring, partition, n);
      const entries = preferenceListWithFallbacks(ring, partition, n, isUp);
      const nodes = entries.map((e) => e.node);
      assert.equal(new Set(nodes).size, nodes.length, "no node twice");
      assert.ok(nodes.every(isUp), "no down node");
      const upPrimaries = primaries.filter(isUp);
      assert.deepEqual(entries.filter((e) => e.primary).map((e) => e.node), upPrimaries);
      const fallbacks = entries.filter((e) => !e.primary);
      assert.ok(fallbacks.every((e) => !primaries.includes(e.node)), "a fallback is not a primary");
      const stoodInFor = fallbacks.map((e) => e.standsInFor!);
      assert.deepEqual(stoodInFor, primaries.filter((id) => !isUp(id)).slice(0, fallbacks.length));
      const healthySpares = ring.members.filter((m) => isUp(m.id) && !primaries.includes(m.id)).length;
      assert.equal(fallbacks.length, Math.min(primaries.length - upPrimaries.length, healthySpares));
    }),
    { seed: 0xfa11, numRuns: 200 },
  );
});

test("movingFrom names a partition's old primaries only while a ring in transition moves it", () => {
  const first = claimInitial(["a", "b", "c"].map((id) => ({ id })), { partitionCount: 16 });
  assert.ok(first.ok);
  assert.equal(movingFrom(first.ring, 0, 3), undefined, "a settled ring moves nothing");
  const planned = planRing(first.ring, [{ join: "d" }]);
  assert.ok(planned.ok);
  let moving = 0;
  for (let partition = 0; partition < 16; partition++) {
    const from = movingFrom(planned.ring, partition, 3);
    const now = preferenceList(planned.ring, partition, 3);
    if (from === undefined) {
      assert.ok(!now.includes("d"), `partition ${partition} moves to d but movingFrom says it does not`);
      continue;
    }
    moving++;
    assert.ok(now.includes("d"));
    assert.deepEqual([...from.primaries].sort(), ["a", "b", "c"]);
    assert.equal(from.n, 3);
  }
  assert.ok(moving > 0 && moving < 16, `${moving} of 16 partitions move`);
});
