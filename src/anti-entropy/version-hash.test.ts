import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { Packr } from "msgpackr";
import * as dvvset from "../versioning/dotted-version-vector-set.js";
import type { DottedVersionVectorSet } from "../versioning/dotted-version-vector-set.js";
import { isSibling, type Sibling } from "../versioning/sibling.js";
import { hash64, versionHash, versionHashesEqual } from "./version-hash.js";
import { murmurHash3 } from "../ring/murmur-hash3.js";

// Sets from real histories: three replicas coordinate writes with or without the context of a
// replica's set, sync with each other, and now and then take an anonymous proposal, so every
// pair of states the history passes through is a pair two replicas could compare.

type Op = { kind: "write"; replica: number; context: number | null; text: number } | { kind: "sync"; from: number; to: number } | { kind: "anonymous"; replica: number; text: number };

const nodes = ["a", "b", "c"];
const replicaArb = fc.integer({ min: 0, max: 2 });
const textArb = fc.integer({ min: 0, max: 3 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("write" as const), replica: replicaArb, context: fc.option(replicaArb), text: textArb }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("sync" as const), from: replicaArb, to: replicaArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("anonymous" as const), replica: replicaArb, text: textArb }) },
);

function sibling(text: number, tombstone = false): Sibling {
  return { value: Uint8Array.of(text), contentType: "text/plain", metadata: [["m", String(text)]], timestamp: text * 1024, tombstone, expiresAtMs: null };
}

function states(ops: Op[]): DottedVersionVectorSet<Sibling>[] {
  const replicas = nodes.map(() => dvvset.empty<Sibling>());
  const seen = [...replicas];
  for (const op of ops) {
    if (op.kind === "sync") replicas[op.to] = dvvset.sync(replicas[op.to]!, replicas[op.from]!);
    else if (op.kind === "anonymous") replicas[op.replica] = dvvset.sync(replicas[op.replica]!, dvvset.newValue(sibling(op.text)));
    else {
      const proposal = op.context === null ? dvvset.newValue(sibling(op.text)) : dvvset.newWithContext(dvvset.join(replicas[op.context]!), sibling(op.text));
      replicas[op.replica] = dvvset.update(proposal, replicas[op.replica]!, nodes[op.replica]!);
    }
    seen.push(...replicas);
  }
  return seen;
}

test("two sets of one history have equal version hashes exactly when dvvset.equal holds", () => {
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 20 }), (ops) => {
      const all = states(ops);
      for (const a of all) for (const b of all) assert.equal(versionHashesEqual(versionHash(a), versionHash(b)), dvvset.equal(a, b));
    }),
    { numRuns: 100, seed: 6 },
  );
});

test("the version hash does not depend on the order a decoding lists a sibling's fields in", () => {
  const set = dvvset.sync(dvvset.update(dvvset.newValue(sibling(1)), dvvset.empty(), "a"), dvvset.newValue(sibling(2)));
  const reordered = JSON.parse(JSON.stringify(set, (_k, v: unknown) => (v instanceof Uint8Array ? { bytes: [...v] } : v)), (_k, v: { bytes?: number[] } & Record<string, unknown>) => {
    if (v !== null && typeof v === "object" && Array.isArray(v.bytes)) return Uint8Array.from(v.bytes);
    if (v !== null && typeof v === "object" && "contentType" in v) return Object.fromEntries(Object.entries(v).reverse());
    return v;
  }) as unknown;
  const packr = new Packr({ useRecords: false });
  const parsed = dvvset.parse(packr.unpack(packr.pack(reordered)), isSibling);
  assert.ok(parsed.ok);
  assert.notDeepEqual(Object.keys(parsed.set.anonymous[0]!), Object.keys(set.anonymous[0]!));
  assert.ok(versionHashesEqual(versionHash(parsed.set), versionHash(set)));
});

test("a tombstone and the value it superseded hash differently", () => {
  const written = dvvset.update(dvvset.newValue(sibling(1)), dvvset.empty(), "a");
  const deleted = dvvset.update(dvvset.newWithContext(dvvset.join(written), sibling(0, true)), written, "a");
  assert.ok(!versionHashesEqual(versionHash(written), versionHash(deleted)));
});

// versionHash writes the MessagePack of the common sets (no anonymous value, short ASCII node
// ids, counters below 2^32, fewer than 16 entries) itself instead of running packr; the bytes
// must stay exactly packr's, or every stored index entry would differ from a fresh hash.
test("the version hash is the hash of packr's bytes, on its fast path and off it", () => {
  const packr = new Packr({ useRecords: false, moreTypes: false, structuredClone: false });
  const edges = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x1_0000, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff, 0x1_0000_0000, 2 ** 40 + 3, Number.MAX_SAFE_INTEGER];
  const counterArb = fc.oneof(fc.constantFrom(...edges), fc.integer({ min: 0, max: 0xffff_ffff }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }));
  const nodeIdArb = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ minLength: 28, maxLength: 40 }), fc.string({ unit: "grapheme", maxLength: 8 }), fc.constantFrom("n1", "e3", "node-10"));
  const entryArb = fc.tuple(nodeIdArb, counterArb, fc.integer({ min: 0, max: 300 }));
  fc.assert(
    fc.property(fc.array(entryArb, { maxLength: 20 }), fc.boolean(), (entries, withAnonymous) => {
      const anonymous = withAnonymous ? [sibling(1)] : [];
      const set = { entries: entries.map(([nodeId, counter, count]) => [nodeId, counter, Array.from({ length: count }, () => sibling(2))]), anonymous } as unknown as DottedVersionVectorSet<Sibling>;
      const expected = hash64(packr.pack([entries, anonymous.map((s) => [s.value, s.contentType, s.metadata, s.timestamp, s.tombstone, s.expiresAtMs])]));
      assert.deepEqual(versionHash(set), expected);
    }),
    { numRuns: 2_000, seed: 7 },
  );
});

test("hash64 is the two MurmurHash3 words big-endian, high seed first (persisted in the index and compared across nodes)", () => {
  const bytes = new TextEncoder().encode("shoal version hash");
  const out = hash64(bytes);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  assert.equal(view.getUint32(0), murmurHash3(bytes, 0x5eed_a11e));
  assert.equal(view.getUint32(4), murmurHash3(bytes, 0x0c0f_fee5));
});
