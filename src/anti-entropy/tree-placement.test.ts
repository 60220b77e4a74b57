import { test } from "node:test";
import assert from "node:assert/strict";
import { claimInitial } from "../ring/claim.js";
import { partitionOf } from "../ring/partition-hash.js";
import { preferenceList } from "../ring/preference-list.js";
import type { RingState } from "../ring/ring-state.js";
import { encodeItemKey } from "../storage/item-key.js";
import { treePlacement } from "./tree-placement.js";

const claimed = claimInitial(["a", "b", "c", "d"].map((id) => ({ id })), { partitionCount: 16 });
assert.ok(claimed.ok);
const ring = claimed.ring;
const key = (tableId: number, partitionKey: string, sortKey?: string) => encodeItemKey(tableId, new TextEncoder().encode(partitionKey), sortKey === undefined ? undefined : new TextEncoder().encode(sortKey));

test("a key's tree is its partition key's partition and its table's n; sort keys do not move it", () => {
  const placement = treePlacement({ ring: () => ring, nOf: (tableId) => (tableId === 1 ? 3 : tableId === 2 ? 2 : undefined) });
  const partition = partitionOf(new TextEncoder().encode("cart"), 16);
  assert.deepEqual(placement.placeOf(key(1, "cart")), { partition, n: 3 });
  assert.deepEqual(placement.placeOf(key(1, "cart", "line-9")), { partition, n: 3 });
  assert.deepEqual(placement.placeOf(key(2, "cart")), { partition, n: 2 });
  assert.equal(placement.placeOf(key(3, "cart")), undefined);
  assert.deepEqual(placement.replicasOf({ partition, n: 3 }), preferenceList(ring, partition, 3));
});

test("nothing is placed before the node has a ring", () => {
  const node: { ring: RingState | undefined } = { ring: undefined };
  const placement = treePlacement({ ring: () => node.ring, nOf: () => 3 });
  assert.equal(placement.placeOf(key(1, "cart")), undefined);
  assert.deepEqual(placement.replicasOf({ partition: 0, n: 3 }), []);
  node.ring = ring;
  assert.notEqual(placement.placeOf(key(1, "cart")), undefined);
});
