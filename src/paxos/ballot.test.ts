import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { ballotFromTuple, ballotToTuple, ballotZero, compareBallots, maxBallot, nextBallot, type Ballot } from "./ballot.js";

// Ballots are totally ordered by (counter, node id): the laws every Paxos rule relies on.

const ballotArb: fc.Arbitrary<Ballot> = fc.record({ counter: fc.nat({ max: 1_000 }), node: fc.constantFrom("n1", "n2", "n10", "a") }, { noNullPrototype: true });
const params = { numRuns: 200, seed: 4 };

test("ballot order is antisymmetric, transitive and total", () => {
  fc.assert(
    fc.property(ballotArb, ballotArb, ballotArb, (a, b, c) => {
      assert.equal(Math.sign(compareBallots(a, b)), -Math.sign(compareBallots(b, a)));
      if (compareBallots(a, b) === 0) assert.deepEqual(a, b);
      if (compareBallots(a, b) <= 0 && compareBallots(b, c) <= 0) assert.ok(compareBallots(a, c) <= 0);
    }),
    params,
  );
});

test("the counter decides first and the node id breaks ties", () => {
  assert.ok(compareBallots({ counter: 2, node: "a" }, { counter: 1, node: "z" }) > 0);
  assert.ok(compareBallots({ counter: 1, node: "n2" }, { counter: 1, node: "n1" }) > 0);
  assert.ok(compareBallots(ballotZero, { counter: 0, node: "n1" }) < 0);
});

test("a ballot survives its wire form, and a malformed tuple is refused", () => {
  fc.assert(fc.property(ballotArb, (ballot) => assert.deepEqual(ballotFromTuple(ballotToTuple(ballot)), ballot)), params);
  for (const bad of [null, [1], [1.5, "n"], [-1, "n"], ["1", "n"], [1, 2], {}]) assert.equal(ballotFromTuple(bad), undefined, JSON.stringify(bad));
});

test("the next ballot outbids both the clock and what refused it", () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 2_000 }), ballotArb, (clockCounter, above) => {
      const next = nextBallot({ clockCounter, above, node: "n1" });
      assert.ok(next !== undefined);
      assert.ok(compareBallots(next, above) > 0);
      assert.ok(next.counter >= clockCounter);
      assert.deepEqual(maxBallot(next, above), next);
    }),
    params,
  );
});

const epochBallotArb: fc.Arbitrary<Ballot> = fc.record({ epoch: fc.integer({ min: 1, max: 4 }), counter: fc.nat({ max: 1_000 }), node: fc.constantFrom("n1", "n2") }, { noNullPrototype: true });

test("the epoch (ring version) decides before the counter, and an absent epoch is 0", () => {
  assert.ok(compareBallots({ epoch: 2, counter: 1, node: "a" }, { epoch: 1, counter: 9_999, node: "z" }) > 0);
  assert.ok(compareBallots({ epoch: 1, counter: 1, node: "a" }, { counter: 9_999, node: "z" }) > 0);
  assert.equal(compareBallots({ counter: 5, node: "a" }, { counter: 5, node: "a" }), 0);
  fc.assert(
    fc.property(fc.oneof(ballotArb, epochBallotArb), fc.oneof(ballotArb, epochBallotArb), (a, b) => {
      assert.equal(Math.sign(compareBallots(a, b)), -Math.sign(compareBallots(b, a)));
      assert.deepEqual(ballotFromTuple(ballotToTuple(a)), a);
    }),
    params,
  );
  for (const bad of [[1, "n", 0], [1, "n", -1], [1, "n", 1.5], [1, "n", "2"], [1, "n", 2, 3]]) assert.equal(ballotFromTuple(bad), undefined, JSON.stringify(bad));
});

test("the next ballot outbids a refusal of its own or an older epoch, and cannot outbid a newer one", () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 2_000 }), epochBallotArb, fc.integer({ min: 1, max: 4 }), (clockCounter, above, epoch) => {
      const next = nextBallot({ clockCounter, above, node: "n1", epoch });
      if (epoch < above.epoch!) return assert.equal(next, undefined);
      assert.ok(next !== undefined);
      assert.equal(next.epoch, epoch);
      assert.ok(compareBallots(next, above) > 0);
    }),
    params,
  );
});
