import { test } from "node:test";
import assert from "node:assert/strict";
import { claimInitial, reclaim } from "./claim.js";
import { canonicalJson, contentHash, ringHash } from "./ring-hash.js";
import { parseRing, ringTransition } from "./ring-state.js";

test("a ring's hash is its content's: equal rings however built hash alike, another ring of the same version does not", () => {
  const first = claimInitial([{ id: "a" }, { id: "b" }, { id: "c" }], { partitionCount: 16 });
  assert.ok(first.ok);
  const copy = parseRing(JSON.parse(JSON.stringify(first.ring)) as unknown);
  assert.ok(copy.ok);
  assert.notEqual(copy.ring, first.ring);
  assert.equal(ringHash(copy.ring), ringHash(first.ring));
  assert.match(ringHash(first.ring), /^[0-9a-f]{32}$/);
  const toD = reclaim(first.ring, [{ id: "a" }, { id: "b" }, { id: "d" }]);
  const toE = reclaim(first.ring, [{ id: "a" }, { id: "b" }, { id: "e" }]);
  assert.ok(toD.ok && toE.ok);
  assert.equal(toD.ring.version, toE.ring.version);
  assert.notEqual(ringHash(toD.ring), ringHash(toE.ring));
  assert.notEqual(ringHash(ringTransition(first.ring, toD.ring)), ringHash(toD.ring), "a ring in transition is another ring than its settled form");
});

test("canonical JSON sorts keys and leaves undefined fields out", () => {
  assert.equal(canonicalJson({ b: 1, a: [1, { d: undefined, c: "x" }] }), '{"a":[1,{"c":"x"}],"b":1}');
  assert.equal(contentHash({ b: 1, a: 2 }), contentHash({ a: 2, b: 1 }));
  assert.notEqual(contentHash({ a: 1 }), contentHash({ a: 2 }));
});
