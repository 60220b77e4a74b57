import { test } from "node:test";
import assert from "node:assert/strict";
import { MemoryStorageEngine } from "../storage/memory-storage-engine.js";
import type { DottedVersionVectorSet } from "../versioning/dotted-version-vector-set.js";
import type { Sibling } from "../versioning/sibling.js";
import { exchangeBoundsDefault } from "./anti-entropy-messages.js";
import { testKey, written } from "./anti-entropy-cluster.test-support.js";
import { ExchangeResponder } from "./exchange-responder.js";
import { HashTrees } from "./hash-trees.js";

// A node that rejoined with an empty disk gets pushes from its peers' exchanges before its
// catalog knows every table: a key it cannot place is skipped (the next exchange brings it
// once the table is known), not stored without its index entry and tree (which left the
// trees different until the background index check, a minute later).

test("the responder stores pushed keys it can place and skips those of a table it does not know yet", async () => {
  const known = testKey("known");
  const unknown = testKey("unknown");
  const trees = new HashTrees({
    storage: new MemoryStorageEngine(),
    placeOf: (key) => (Buffer.from(key).equals(Buffer.from(known)) ? { partition: 0, n: 3 } : undefined),
    treesMax: 8,
  });
  const merged: Uint8Array[] = [];
  const responder = new ExchangeResponder({
    trees,
    isLoaded: () => true,
    bounds: exchangeBoundsDefault,
    replica: {
      fetch: () => undefined,
      merge: async (key: Uint8Array, _set: DottedVersionVectorSet<Sibling>) => {
        merged.push(key);
        return { ok: true };
      },
    },
  });
  const set = written("v", "n1");
  const reply = await responder.handle({ type: "anti-entropy.merge", entries: [[known, set], [unknown, set]] });
  assert.deepEqual(reply, { ok: true, merged: 1 });
  assert.deepEqual(merged, [known]);
});

test("a roots request answers 8 bytes per tree in order, and a bad one is refused naming the limit", async () => {
  const trees = new HashTrees({ storage: new MemoryStorageEngine(), placeOf: () => ({ partition: 0, n: 3 }), treesMax: 8 });
  const bounds = { ...exchangeBoundsDefault, rootsPerRequestMax: 4 };
  const responder = new ExchangeResponder({ trees, isLoaded: () => true, bounds, replica: { fetch: () => undefined, merge: async () => ({ ok: true }) } });
  const reply = (await responder.handle({ type: "anti-entropy.roots", trees: [{ partition: 0, n: 3 }, { partition: 1, n: 3 }] })) as { ok: boolean; roots: Uint8Array };
  assert.equal(reply.ok, true);
  assert.deepEqual(reply.roots, new Uint8Array(16));
  const tooMany = Array.from({ length: 5 }, (_, partition) => ({ partition, n: 3 }));
  assert.deepEqual(await responder.handle({ type: "anti-entropy.roots", trees: tooMany }), { ok: false, error: "roots: trees must be a list of 1 to 4 trees" });
  assert.deepEqual(await responder.handle({ type: "anti-entropy.roots", trees: [{ partition: -1, n: 3 }] }), { ok: false, error: "roots: bad tree" });
  const loading = new ExchangeResponder({ trees, isLoaded: () => false, bounds, replica: { fetch: () => undefined, merge: async () => ({ ok: true }) } });
  assert.deepEqual(await loading.handle({ type: "anti-entropy.roots", trees: [{ partition: 0, n: 3 }] }), { ok: false, error: "not-loaded" });
});
