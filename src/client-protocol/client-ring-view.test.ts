import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { claimInitial } from "../ring/claim.js";
import { partitionOf } from "../ring/partition-hash.js";
import { preferenceList } from "../ring/preference-list.js";
import { ringState, type RingState } from "../ring/ring-state.js";
import type { ClientMemberInfo } from "./client-messages.js";
import { ClientRingView } from "./client-ring-view.js";

function ringOf(ids: string[], partitionCount = 32): RingState {
  const claimed = claimInitial(ids.map((id) => ({ id })), { partitionCount });
  assert.ok(claimed.ok);
  return claimed.ring;
}

const member = (id: string, state: ClientMemberInfo["state"] = "up"): ClientMemberInfo => ({ id, host: "127.0.0.1", peerPort: 9000, clientUrl: "http://127.0.0.1:8000", state });

test("placement starts with the key's preference list, for any key and cluster size", () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 7 }), fc.uint8Array({ minLength: 1, maxLength: 32 }), (size, key) => {
      const ids = Array.from({ length: size }, (_, i) => `n${i}`);
      const ring = ringOf(ids);
      const view = new ClientRingView();
      assert.ok(view.adopt({ ring, members: ids.map((id) => member(id)) }));
      const placed = view.placement(key);
      const primaries = preferenceList(ring, partitionOf(key, ring.partitionCount), 3);
      assert.deepEqual(placed.slice(0, primaries.length), primaries);
      assert.deepEqual([...placed].sort(), [...ids].sort(), "every member appears once");
    }),
    { numRuns: 100, seed: 7 },
  );
});

test("candidates put live members that did not fail lately first, keep preference order, and stop at the bound", () => {
  const view = new ClientRingView();
  view.adopt({ ring: ringOf(["a", "b", "c", "d"]), members: [member("a"), member("b", "down"), member("c"), member("d", "suspect")] });
  assert.deepEqual(view.candidates(["a", "b", "c", "d"], 4, () => false), ["a", "c", "b", "d"]);
  assert.deepEqual(view.candidates(["a", "b", "c", "d"], 4, (id) => id === "a"), ["c", "a", "b", "d"]);
  assert.deepEqual(view.candidates(["a", "b", "c", "d"], 2, () => false), ["a", "c"]);
});

test("an older ring is not adopted, a newer one replaces the placement, and an invalid one is refused", () => {
  const view = new ClientRingView();
  const ring = ringOf(["a", "b", "c"]);
  view.adopt({ ring, members: ["a", "b", "c"].map((id) => member(id)) });
  const key = new TextEncoder().encode("k");
  const before = view.placement(key)[0];
  const rotate = (id: string) => ({ a: "b", b: "c", c: "a" })[id]!;
  const newer = ringState({ ...ring, version: ring.version + 1, owners: ring.owners.map(rotate) });
  assert.ok(view.adopt({ ring: newer, members: ["a", "b", "c"].map((id) => member(id)) }));
  assert.equal(view.version, newer.version);
  assert.equal(view.placement(key)[0], rotate(before!));
  assert.ok(view.adopt({ ring, members: [] }), "an older ring is a valid answer");
  assert.equal(view.version, newer.version, "but it is not adopted");
  assert.equal(view.adopt({ ring: null, members: [] }), false);
  assert.equal(view.adopt({ ring: { ...ring, owners: [] } as unknown as RingState, members: [] }), false);
});
