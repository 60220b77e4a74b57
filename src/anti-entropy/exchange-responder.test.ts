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
