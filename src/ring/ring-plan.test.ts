import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { claimInitial, reclaim } from "./claim.js";
import { parsePlanChange, planRing, ringPlanChangesMax } from "./ring-plan.js";
import { partitionsOwnedBy, type RingState } from "./ring-state.js";

function ringOf(...ids: string[]): RingState {
  const claimed = claimInitial(ids.map((id) => ({ id })), { partitionCount: 32 });
  assert.ok(claimed.ok);
  return claimed.ring;
}

test("a replacement hands exactly the old node's partitions to the new one, and nothing else moves", () => {
  const ring = ringOf("n1", "n2", "n3");
  const planned = planRing(ring, [{ replace: ["n2", "n9"] }]);
  assert.ok(planned.ok, planned.ok ? "" : planned.error);
  assert.deepEqual(partitionsOwnedBy(planned.ring, "n9"), partitionsOwnedBy(ring, "n2"));
  assert.deepEqual(planned.transfers.map((t) => `${t.from}->${t.to}`), partitionsOwnedBy(ring, "n2").map(() => "n2->n9"));
  assert.deepEqual(planned.ring.previous?.owners, ring.owners);
  assert.equal(planned.ring.version, ring.version + 1);
});

test("staged joins and leaves give the ring claim gives, in transition from the current one", () => {
  fc.assert(
    fc.property(fc.integer({ min: 2, max: 6 }), fc.integer({ min: 0, max: 2 }), fc.boolean(), (size, joins, leaveOne) => {
      const ids = Array.from({ length: size }, (_, i) => `n${i}`);
      const ring = ringOf(...ids);
      const joined = Array.from({ length: joins }, (_, i) => `j${i}`);
      const changes = [...joined.map((join) => ({ join })), ...(leaveOne ? [{ leave: "n0" }] : [])];
      const planned = planRing(ring, changes);
      if (changes.length === 0) return assert.equal(planned.ok, false);
      assert.ok(planned.ok, planned.ok ? "" : planned.error);
      const expected = reclaim(ring, [...ids.filter((id) => !(leaveOne && id === "n0")), ...joined].map((id) => ({ id })));
      assert.ok(expected.ok);
      assert.deepEqual(planned.ring.owners, expected.ring.owners);
      assert.deepEqual(planned.transfers.length, ring.owners.filter((o, p) => o !== expected.ring.owners[p]).length);
    }),
    { numRuns: 40, seed: 10 },
  );
});

test("a plan is refused with a reason: unknown leaver, member joining again, the last member leaving, a ring in transition, too many changes", () => {
  const ring = ringOf("n1", "n2");
  const refusals: Array<[Parameters<typeof planRing>[1], RegExp, RingState?]> = [
    [[{ leave: "n7" }], /n7 is not a member/],
    [[{ join: "n1" }], /already a member/],
    [[{ replace: ["n1", "n2"] }], /n2 is already a member/],
    [[{ leave: "n1" }, { leave: "n2" }], /last member/],
    [[], /no changes/],
    [Array.from({ length: ringPlanChangesMax + 1 }, (_, i) => ({ join: `j${i}` })), /exceed the limit/],
  ];
  for (const [changes, message] of refusals) {
    const planned = planRing(ring, changes);
    assert.equal(planned.ok, false);
    assert.match(planned.ok ? "" : planned.error, message);
  }
  const moving = planRing(ring, [{ join: "n3" }]);
  assert.ok(moving.ok);
  const again = planRing(moving.ring, [{ join: "n4" }]);
  assert.match(again.ok ? "" : again.error, /still in transition/);
});

test("plan changes parse from request bodies and bad ones are refused", () => {
  assert.deepEqual(parsePlanChange({ join: "n4" }), { ok: true, change: { join: "n4" } });
  assert.deepEqual(parsePlanChange({ join: "n4", zone: "z1" }), { ok: true, change: { join: "n4", zone: "z1" } });
  assert.deepEqual(parsePlanChange({ leave: "n2" }), { ok: true, change: { leave: "n2" } });
  assert.deepEqual(parsePlanChange({ replace: ["n2", "n5"] }), { ok: true, change: { replace: ["n2", "n5"] } });
  for (const bad of [null, "join", {}, { join: "" }, { join: "n4", zone: 3 }, { replace: ["n2"] }, { replace: ["n2", "n2"] }, { leave: "x".repeat(257) }]) {
    assert.equal(parsePlanChange(bad).ok, false, JSON.stringify(bad));
  }
});
