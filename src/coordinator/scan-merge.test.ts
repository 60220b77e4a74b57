import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { compareBytes } from "../storage/byte-order.js";
import * as dvvset from "../versioning/dotted-version-vector-set.js";
import type { DottedVersionVectorSet } from "../versioning/dotted-version-vector-set.js";
import type { Sibling } from "../versioning/sibling.js";
import { mergeScanReplies, type ReplicaScanReply } from "./scan-merge.js";

// Paging a scan over replicas that each hold part of the keys: whatever the split, the page
// size and the direction, following resumeAfter yields every live key exactly once, in order.

type Stored = { key: Uint8Array; set: DottedVersionVectorSet<Sibling> };

function setOf(text: string, node: string, tombstone: boolean): DottedVersionVectorSet<Sibling> {
  const value: Sibling = { value: new TextEncoder().encode(text), contentType: "text/plain", metadata: [], timestamp: 1, tombstone, expiresAtMs: null };
  return dvvset.update(dvvset.newValue(value), dvvset.empty<Sibling>(), node);
}

/** One replica's page: its keys strictly after `after` in the direction, at most `limit`. */
function replicaPage(stored: readonly Stored[], after: Uint8Array | null, limit: number, reverse: boolean): ReplicaScanReply {
  const order = (a: Uint8Array, b: Uint8Array) => (reverse ? compareBytes(b, a) : compareBytes(a, b));
  const rest = [...stored].sort((a, b) => order(a.key, b.key)).filter((s) => after === null || order(s.key, after) > 0);
  return { entries: rest.slice(0, limit), exhausted: rest.length <= limit };
}

test("paging merged replica scans yields every live key once, in order, for any split and page size", () => {
  const arbitraryKeys = fc.uniqueArray(fc.record({ name: fc.string({ minLength: 1, maxLength: 3 }), on: fc.integer({ min: 1, max: 7 }), dead: fc.boolean() }), { selector: (k) => k.name, maxLength: 30 });
  fc.assert(
    fc.property(arbitraryKeys, fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 6 }), fc.boolean(), (keys, pageLimit, replicaLimit, reverse) => {
      const replicas: Stored[][] = [[], [], []];
      for (const k of keys) {
        const key = new TextEncoder().encode(k.name);
        replicas.forEach((stored, i) => {
          // A dead key is a tombstone on one replica and the stale live value elsewhere.
          if ((k.on & (1 << i)) !== 0) stored.push({ key, set: setOf(k.name, "a", false) });
        });
        if (k.dead) {
          const first = replicas.findIndex((_, i) => (k.on & (1 << i)) !== 0);
          const live = setOf(k.name, "a", false);
          replicas[first]!.splice(replicas[first]!.findIndex((s) => compareBytes(s.key, key) === 0), 1, { key, set: dvvset.update(dvvset.newWithContext(dvvset.join(live), { ...dvvset.values(live)[0]!, tombstone: true }), live, "a") });
        }
      }
      const expected = keys.filter((k) => !k.dead).map((k) => new TextEncoder().encode(k.name)).sort((a, b) => (reverse ? compareBytes(b, a) : compareBytes(a, b)));
      const seen: Uint8Array[] = [];
      let after: Uint8Array | null = null;
      for (let round = 0; round < 200; round++) {
        const replies = replicas.map((stored) => replicaPage(stored, after, Math.min(pageLimit, replicaLimit), reverse));
        const page = mergeScanReplies(replies, { reverse, limit: pageLimit, nowMs: 0, lww: false });
        assert.ok(page.items.length <= pageLimit);
        seen.push(...page.items.map((item) => item.key));
        if (page.resumeAfter === null) break;
        after = page.resumeAfter;
      }
      assert.deepEqual(seen.map((k) => Buffer.from(k).toString("hex")), expected.map((k) => Buffer.from(k).toString("hex")));
    }),
    { numRuns: 150, seed: 20261122 },
  );
});
