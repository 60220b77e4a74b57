import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { compareMembers, memberStates, mergeMember, parseMember, supersedes, type Member } from "./member.js";

const address = fc.record({
  host: fc.constantFrom("10.0.0.1", "10.0.0.2"),
  peerPort: fc.constantFrom(9000, 9001),
  clientPort: fc.constantFrom(8000, 8001),
});

/** Records about one member, with few distinct values so ties are common. */
const record: fc.Arbitrary<Member> = fc
  .record({
    state: fc.constantFrom(...memberStates),
    incarnation: fc.integer({ min: 0, max: 3 }),
    address,
    zone: fc.option(fc.constantFrom("a", "b"), { nil: undefined }),
  })
  .map(({ zone, ...rest }) => (zone === undefined ? { id: "n1", ...rest } : { id: "n1", ...rest, zone }));

/** fast-check may build records without a prototype; compare what they say, not how they were built. */
const plain = (m: Member): Member => JSON.parse(JSON.stringify(m)) as Member;
const assertSame = (x: Member, y: Member) => assert.deepEqual(plain(x), plain(y));

const upAt = (incarnation: number): Member => ({ id: "n1", address: { host: "h", peerPort: 1, clientPort: 2 }, state: "up", incarnation });

test("mergeMember is commutative", () => {
  fc.assert(fc.property(record, record, (a, b) => assertSame(mergeMember(a, b), mergeMember(b, a))), { numRuns: 200 });
});

test("mergeMember is associative", () => {
  fc.assert(
    fc.property(record, record, record, (a, b, c) => assertSame(mergeMember(mergeMember(a, b), c), mergeMember(a, mergeMember(b, c)))),
    { numRuns: 200 },
  );
});

test("mergeMember is idempotent", () => {
  fc.assert(fc.property(record, (a) => assertSame(mergeMember(a, a), a)), { numRuns: 100 });
});

test("merging the same records in any order gives the same record", () => {
  const recordsAndPermutation = fc
    .array(record, { minLength: 1, maxLength: 8 })
    .chain((records) => fc.tuple(fc.constant(records), fc.shuffledSubarray(records, { minLength: records.length, maxLength: records.length })));
  fc.assert(
    fc.property(recordsAndPermutation, ([records, permuted]) => assertSame(records.reduce(mergeMember), permuted.reduce(mergeMember))),
    { numRuns: 150 },
  );
});

test("a higher incarnation wins whatever the states", () => {
  fc.assert(
    fc.property(record, record, (a, b) => {
      fc.pre(a.incarnation !== b.incarnation);
      const newer = a.incarnation > b.incarnation ? a : b;
      assertSame(mergeMember(a, b), newer);
    }),
    { numRuns: 150 },
  );
});

test("at equal incarnation down beats suspect and suspect beats up", () => {
  const up = upAt(4);
  const suspect: Member = { ...up, state: "suspect" };
  const down: Member = { ...up, state: "down" };
  assert.equal(mergeMember(up, suspect), suspect);
  assert.equal(mergeMember(suspect, down), down);
  assert.equal(mergeMember(up, down), down);
  assert.ok(supersedes(suspect, up) && !supersedes(up, suspect));
});

test("a refutation (higher incarnation, up) beats the suspicion it answers", () => {
  const suspect: Member = { ...upAt(4), state: "suspect" };
  assert.equal(mergeMember(suspect, upAt(5)).state, "up");
});

test("an accusation beats a leaving or joining record of the same incarnation", () => {
  const leaving: Member = { ...upAt(2), state: "leaving" };
  assert.equal(mergeMember(leaving, { ...leaving, state: "suspect" }).state, "suspect");
  assert.equal(mergeMember({ ...leaving, state: "joining" }, { ...leaving, state: "down" }).state, "down");
});

test("compareMembers is zero only for records that say the same thing", () => {
  fc.assert(fc.property(record, record, (a, b) => assert.equal(compareMembers(a, b) === 0, JSON.stringify(a) === JSON.stringify(b))), { numRuns: 200 });
});

test("parseMember accepts a record and rejects malformed ones", () => {
  const good = { id: "n1", address: { host: "h", peerPort: 9000, clientPort: 8000 }, state: "suspect", incarnation: 3, zone: "z" };
  assert.deepEqual(parseMember(good), good);
  assert.equal(parseMember({ ...good, state: "dead" }), undefined);
  assert.equal(parseMember({ ...good, incarnation: -1 }), undefined);
  assert.equal(parseMember({ ...good, incarnation: 1.5 }), undefined);
  assert.equal(parseMember({ ...good, id: "" }), undefined);
  assert.equal(parseMember({ ...good, address: { host: "h", peerPort: 70000, clientPort: 1 } }), undefined);
  assert.equal(parseMember({ ...good, zone: 7 }), undefined);
  assert.equal(parseMember("n1"), undefined);
  const { zone: _zone, ...withoutZone } = good;
  assert.deepEqual(parseMember({ ...withoutZone, zone: null }), withoutZone);
});
