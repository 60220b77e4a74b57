import assert from "node:assert/strict";
import { test } from "node:test";
import { claimInitial } from "../ring/claim.js";
import { partitionOf } from "../ring/partition-hash.js";
import { preferenceList } from "../ring/preference-list.js";
import { planRing } from "../ring/ring-plan.js";
import type { RingState } from "../ring/ring-state.js";
import { encodeItemKey } from "../storage/item-key.js";
import { ringHintPlacement } from "./hint-placement.js";

function ringOf(ids: string[]): RingState {
  const claimed = claimInitial(ids.map((id) => ({ id })), { partitionCount: 64 });
  assert.ok(claimed.ok);
  return claimed.ring;
}

const hintFor = (target: string, partitionKey: string, tableId = 7) => ({ target, tableId, key: encodeItemKey(tableId, new TextEncoder().encode(partitionKey)) });

test("ringHintPlacement: a target departed only when the settled ring does not place it", () => {
  let ring: RingState | undefined;
  const placement = ringHintPlacement({ self: "a", ring: () => ring, nOf: () => 3 });
  assert.equal(placement.departed("e"), false, "no ring yet: nothing is known to have departed");
  assert.equal(placement.place(hintFor("e", "k")), undefined);
  ring = ringOf(["a", "b", "c", "d"]);
  assert.equal(placement.departed("b"), false);
  assert.equal(placement.departed("e"), true);
  const planned = planRing(ring, [{ leave: "d" }]);
  assert.ok(planned.ok);
  ring = planned.ring;
  assert.ok(ring.previous !== undefined);
  assert.equal(placement.departed("d"), false, "during the transition nothing re-targets");
  assert.equal(placement.departed("e"), false);
  assert.equal(placement.place(hintFor("d", "k")), undefined);
});

test("ringHintPlacement places a hint's key on its table's preference list, then the other members in preference order", () => {
  const ring = ringOf(["a", "b", "c", "d", "e"]);
  const placement = ringHintPlacement({ self: "a", ring: () => ring, nOf: (tableId) => (tableId === 7 ? 3 : undefined) });
  for (const key of ["k1", "k2", "user#42"]) {
    const place = placement.place(hintFor("gone", key))!;
    const partition = partitionOf(new TextEncoder().encode(key), ring.partitionCount);
    assert.deepEqual(place.primaries, preferenceList(ring, partition, 3));
    assert.deepEqual([...place.primaries, ...place.others].sort(), ["a", "b", "c", "d", "e"]);
    assert.deepEqual(place.others, preferenceList(ring, partition, 5).filter((id) => !place.primaries.includes(id)));
  }
  assert.equal(placement.place(hintFor("gone", "k1", 8)), undefined, "a table whose n is not known here: the hint waits");
});

test("ringHintPlacement caps n at the ring's size", () => {
  const ring = ringOf(["a", "b"]);
  const placement = ringHintPlacement({ self: "a", ring: () => ring, nOf: () => 3 });
  const place = placement.place(hintFor("gone", "k"))!;
  assert.deepEqual([...place.primaries].sort(), ["a", "b"]);
  assert.deepEqual(place.others, []);
});
