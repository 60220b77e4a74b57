import { test } from "node:test";
import assert from "node:assert/strict";
import { AssertionError } from "../assert.js";
import { compareNodeIds, memberOf, ownerOf, parseRing, partitionShares, partitionsOwnedBy, ringProblem, ringState, ringsEqual, type RingState } from "./ring-state.js";

const sample = (): RingState => ({
  version: 3,
  partitionCount: 8,
  owners: ["b", "a", "c", "b", "a", "c", "b", "a"],
  members: [{ id: "c", zone: "z2" }, { id: "a", zone: "z1" }, { id: "b" }],
});

test("ringState sorts members by id and freezes the result", () => {
  const ring = ringState(sample());
  assert.deepEqual(ring.members.map((m) => m.id), ["a", "b", "c"]);
  assert.ok(Object.isFrozen(ring) && Object.isFrozen(ring.owners) && Object.isFrozen(ring.members) && Object.isFrozen(ring.members[0]), "ring is frozen");
});

test("ringState drops an undefined zone so the ring serializes the same everywhere", () => {
  const ring = ringState({ ...sample(), members: [{ id: "a", zone: undefined }, { id: "b" }, { id: "c" }] });
  assert.equal(Object.hasOwn(ring.members[0]!, "zone"), false);
  assert.deepEqual(JSON.parse(JSON.stringify(ring)), { ...ring, owners: [...ring.owners], members: ring.members.map((m) => ({ ...m })) });
});

test("ringState asserts on an invalid ring", () => {
  assert.throws(() => ringState({ ...sample(), partitionCount: 6, owners: ["a", "b", "c", "a", "b", "c"] }), AssertionError);
});

test("a ring survives a JSON round trip through parseRing unchanged", () => {
  const ring = ringState(sample());
  const parsed = parseRing(JSON.parse(JSON.stringify(ring)));
  assert.ok(parsed.ok, "parsed");
  assert.ok(ringsEqual(parsed.ring, ring), "round trip changed the ring");
});

const invalid: Array<[string, unknown, RegExp]> = [
  ["not an object", "ring", /object/],
  ["null", null, /object/],
  ["a negative version", { ...sample(), version: -1 }, /version/],
  ["a fractional version", { ...sample(), version: 1.5 }, /version/],
  ["a partition count that is not a power of two", { ...sample(), partitionCount: 6 }, /power of two/],
  ["no members", { ...sample(), members: [] }, /at least one member/],
  ["more members than partitions", { ...sample(), partitionCount: 2, owners: ["a", "b"] }, /cannot share 2 partitions/],
  ["more members than ringMembersMax", { version: 1, partitionCount: 512, owners: Array.from({ length: 512 }, (_, p) => `n${p % 257}`), members: Array.from({ length: 257 }, (_, i) => ({ id: `n${i}` })) }, /exceed the limit of 256/],
  ["a duplicated member", { ...sample(), members: [{ id: "a" }, { id: "a" }, { id: "b" }, { id: "c" }] }, /appears twice/],
  ["an empty member id", { ...sample(), members: [{ id: "" }, { id: "a" }, { id: "b" }] }, /non-empty/],
  ["an empty zone", { ...sample(), members: [{ id: "a", zone: "" }, { id: "b" }, { id: "c" }] }, /zone/],
  ["too few owners", { ...sample(), owners: ["a", "b"] }, /one node per partition/],
  ["an owner that is not a member", { ...sample(), owners: ["a", "b", "c", "a", "b", "c", "a", "x"] }, /partition 7 is owned by x/],
];

for (const [what, value, message] of invalid) {
  test(`parseRing refuses ${what} with a reason`, () => {
    const parsed = parseRing(value);
    assert.equal(parsed.ok, false);
    assert.match(parsed.ok ? "" : parsed.error, message);
    assert.equal(typeof ringProblem(value), "string");
  });
}

test("ringsEqual compares version, partitions, owners and members", () => {
  const ring = ringState(sample());
  assert.ok(ringsEqual(ring, ringState(sample())), "equal rings");
  assert.equal(ringsEqual(ring, ringState({ ...sample(), version: 4 })), false);
  assert.equal(ringsEqual(ring, ringState({ ...sample(), owners: ["a", "a", "c", "b", "a", "c", "b", "a"] })), false);
  assert.equal(ringsEqual(ring, ringState({ ...sample(), members: [{ id: "a" }, { id: "b" }, { id: "c", zone: "z2" }] })), false);
});

test("ownerOf, partitionsOwnedBy and partitionShares read the owners", () => {
  const ring = ringState(sample());
  assert.equal(ownerOf(ring, 0), "b");
  assert.throws(() => ownerOf(ring, 8), AssertionError);
  assert.deepEqual(partitionsOwnedBy(ring, "a"), [1, 4, 7]);
  assert.deepEqual([...partitionShares(ring)], [["a", 3], ["b", 3], ["c", 2]]);
  assert.deepEqual(memberOf(ring, "a"), { id: "a", zone: "z1" });
  assert.equal(memberOf(ring, "x"), undefined);
});

test("compareNodeIds orders ids like the < operator", () => {
  assert.deepEqual(["n10", "n2", "N1", "n1"].sort(compareNodeIds), ["N1", "n1", "n10", "n2"]);
  assert.equal(compareNodeIds("a", "a"), 0);
});
