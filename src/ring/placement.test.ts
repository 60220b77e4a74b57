import { test } from "node:test";
import assert from "node:assert/strict";
import { AssertionError } from "../assert.js";
import { Placement } from "./placement.js";

const members = ["a", "b", "c", "d"].map((id) => ({ id }));

function place(owners: Array<string | undefined>, spacing: number, flexibleExtras = false): string[] {
  const placement = new Placement({ partitionCount: owners.length, owners, members }, spacing, { flexibleExtras });
  placement.run();
  return placement.ownerIds();
}

test("Placement deals an empty ring round-robin, spacing owners apart", () => {
  assert.deepEqual(place(new Array(8).fill(undefined), 4, true), ["a", "b", "c", "d", "a", "b", "c", "d"]);
});

test("Placement gives an unowned partition to the member that keeps owners spaced", () => {
  // Partition 3 sits between c and a; d is the member short of its share and 4 away from its
  // other partition, so the ring comes out perfectly spaced.
  assert.deepEqual(place(["a", "b", "c", undefined, "a", "b", "c", "d"], 4), ["a", "b", "c", "d", "a", "b", "c", "d"]);
});

test("Placement moves only a member's surplus, choosing a partition that mends spacing", () => {
  // a owns 3 of 8 (share 2); partitions 0 and 1 are adjacent, and 1 and 4 are 3 apart.
  const before = ["a", "a", "b", "c", "a", "b", "c", "d"];
  const after = place(before, 4);
  const moved = before.flatMap((owner, p) => (owner === after[p] ? [] : [p]));
  assert.equal(moved.length, 1);
  assert.equal(after[moved[0]!], "d");
  // Partition 4 is as far from d's partition 7 as any of a's (3), and moving it mends a's 1-4.
  assert.deepEqual(moved, [4]);
});

test("Placement refuses an owner that is not a member", () => {
  assert.throws(() => new Placement({ partitionCount: 4, owners: ["a", "b", "c", "x"], members }, 2, { flexibleExtras: false }), AssertionError);
});
