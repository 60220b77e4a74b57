import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { AssertionError } from "../assert.js";
import { claimInitial, reclaim } from "./claim.js";
import {
  assignmentsEqual,
  compareNodeIds,
  memberOf,
  ownerOf,
  parseRing,
  partitionShares,
  partitionsOwnedBy,
  previousRing,
  ringProblem,
  ringSettled,
  ringState,
  ringsEqual,
  ringTransition,
  type RingState,
} from "./ring-state.js";

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

// Rings in transition (issue 4): `previous` is parsed, bounded and canonical like the ring.

const moved = (): RingState => ({ ...sample(), previous: { owners: ["a", "a", "b", "b", "a", "a", "b", "b"], members: [{ id: "b" }, { id: "a", zone: "z1" }] } });

test("a ring in transition survives a JSON round trip with its previous owners, canonical", () => {
  const ring = ringState(moved());
  assert.deepEqual(ring.previous?.members.map((m) => m.id), ["a", "b"]);
  assert.ok(Object.isFrozen(ring.previous) && Object.isFrozen(ring.previous?.owners), "previous is frozen");
  const parsed = parseRing(JSON.parse(JSON.stringify(ring)));
  assert.ok(parsed.ok && ringsEqual(parsed.ring, ring), "round trip changed the ring");
  assert.equal(Object.hasOwn(ringState(sample()), "previous"), false);
});

const invalidTransitions: Array<[string, unknown, RegExp]> = [
  ["a previous that is not an object", { ...sample(), previous: 3 }, /previous must be an object/],
  ["a previous without members", { ...sample(), previous: { owners: sample().owners, members: [] } }, /previous: a ring needs at least one member/],
  ["a previous with too few owners", { ...sample(), previous: { owners: ["a"], members: [{ id: "a" }] } }, /previous: owners must list/],
  ["a previous owner that is not a previous member", { ...sample(), previous: { owners: sample().owners, members: [{ id: "a" }, { id: "b" }] } }, /previous: partition 2 is owned by c/],
  ["a previous above ringMembersMax", { version: 1, partitionCount: 512, owners: Array.from({ length: 512 }, () => "n0"), members: [{ id: "n0" }], previous: { owners: Array.from({ length: 512 }, (_, p) => `n${p % 257}`), members: Array.from({ length: 257 }, (_, i) => ({ id: `n${i}` })) } }, /previous: 257 members exceed/],
];

for (const [what, value, message] of invalidTransitions) {
  test(`parseRing refuses ${what} with a reason`, () => {
    const parsed = parseRing(value);
    assert.equal(parsed.ok, false);
    assert.match(parsed.ok ? "" : parsed.error, message);
  });
}

test("ringsEqual tells a ring in transition from the same ring settled, and compares previous owners", () => {
  assert.equal(ringsEqual(ringState(moved()), ringState(sample())), false);
  assert.equal(ringsEqual(ringState(sample()), ringState(moved())), false);
  const other = { ...moved(), previous: { ...moved().previous!, owners: ["b", "a", "b", "b", "a", "a", "b", "b"] } };
  assert.equal(ringsEqual(ringState(moved()), ringState(other)), false);
  assert.ok(ringsEqual(ringState(moved()), ringState(moved())));
});

test("previousRing places keys on the old owners at the ring's version, and is undefined for a settled ring", () => {
  const ring = ringState(moved());
  const before = previousRing(ring);
  assert.deepEqual(before?.owners, ring.previous?.owners);
  assert.equal(before?.version, 3);
  assert.equal(previousRing(ringState(sample())), undefined);
});

test("a transition from any claimed ring to a re-claim keeps the old owners exactly when partitions moved, and settles one version up", () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: -2, max: 3 }), fc.constantFrom(16, 32, 64), (size, delta, partitionCount) => {
      const ids = Array.from({ length: size }, (_, i) => ({ id: `n${i}` }));
      const first = claimInitial(ids, { partitionCount });
      assert.ok(first.ok);
      const nextIds = Array.from({ length: Math.max(1, size + delta) }, (_, i) => ({ id: `n${i}` }));
      const next = reclaim(first.ring, nextIds);
      assert.ok(next.ok);
      const transition = ringTransition(first.ring, next.ring);
      const movedAny = first.ring.owners.some((o, p) => o !== next.ring.owners[p]) || size !== nextIds.length;
      assert.equal(transition.previous !== undefined, movedAny);
      if (transition.previous !== undefined) {
        assert.ok(assignmentsEqual(transition.previous, first.ring), "previous is the old assignment");
        assert.deepEqual(parseRing(JSON.parse(JSON.stringify(transition))), { ok: true, ring: transition });
        const settled = ringSettled(transition);
        assert.equal(settled.version, transition.version + 1);
        assert.equal(settled.previous, undefined);
        assert.ok(assignmentsEqual(settled, transition), "settling moves nothing");
        assert.throws(() => ringTransition(transition, settled), AssertionError);
      }
    }),
    { numRuns: 60, seed: 4 },
  );
});

test("departing: kept sorted through parse and settling, compared by ringsEqual, and refused when malformed or naming a member", () => {
  const ring = ringState({ ...sample(), departing: ["z", "y"] });
  assert.deepEqual(ring.departing, ["y", "z"]);
  const parsed = parseRing(JSON.parse(JSON.stringify(ring)));
  assert.ok(parsed.ok && ringsEqual(parsed.ring, ring));
  assert.ok(!ringsEqual(ring, ringState(sample())), "a ring that lists a departure differs from one that does not");
  assert.equal(ringState({ ...sample(), departing: [] }).departing, undefined, "an empty list is absent");
  assert.match(ringProblem({ ...sample(), departing: ["a"] }) ?? "", /departing a is still a member/);
  assert.match(ringProblem({ ...sample(), departing: ["y", "y"] }) ?? "", /appears twice/);
  assert.match(ringProblem({ ...sample(), departing: [7] }) ?? "", /departing id must be a string/);
});
