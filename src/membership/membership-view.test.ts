import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { memberStates, type Member } from "./member.js";
import { MembershipView, type MemberChange } from "./membership-view.js";

const address = { host: "127.0.0.1", peerPort: 9000, clientPort: 8000 };
const member = (id: string, state: Member["state"] = "up", incarnation = 0): Member => ({ id, address, state, incarnation });

test("a view merges records into the newest per member and reports changes", () => {
  const view = new MembershipView(member("a"), { membersMax: 8 });
  const changes: MemberChange[] = [];
  view.onChange((c) => changes.push(c));
  assert.equal(view.apply(member("b", "up", 1)), "added");
  assert.equal(view.apply(member("b", "up", 0)), "stale");
  assert.equal(view.apply(member("b", "suspect", 1)), "updated");
  assert.equal(view.get("b")?.state, "suspect");
  assert.deepEqual(changes.map((c) => [c.before?.state, c.after.state]), [[undefined, "up"], ["up", "suspect"]]);
});

test("a view refutes news about itself with a higher incarnation and keeps its state", () => {
  const view = new MembershipView(member("a", "up", 2), { membersMax: 8 });
  assert.equal(view.apply(member("a", "suspect", 2)), "refuted");
  assert.deepEqual(view.self, member("a", "up", 3));
  assert.equal(view.apply(member("a", "down", 7)), "refuted");
  assert.deepEqual(view.self, member("a", "up", 8));
  assert.equal(view.apply(member("a", "up", 8)), "stale");
});

test("a view drops records about new members once it holds membersMax", () => {
  const view = new MembershipView(member("a"), { membersMax: 2 });
  assert.equal(view.apply(member("b")), "added");
  assert.equal(view.apply(member("c")), "full");
  assert.equal(view.apply(member("b", "down")), "updated");
  assert.deepEqual(view.members().map((m) => m.id), ["a", "b"]);
});

test("setSelfState raises the incarnation so the news wins everywhere", () => {
  const view = new MembershipView(member("a", "joining", 0), { membersMax: 4 });
  assert.deepEqual(view.setSelfState("up"), member("a", "up", 1));
  assert.deepEqual(view.setSelfState("up"), member("a", "up", 1));
  assert.deepEqual(view.setSelfState("leaving"), member("a", "leaving", 2));
});

test("two views that receive the same records in different orders agree", () => {
  const ids = ["b", "c", "d"];
  const rec = fc.record({ id: fc.constantFrom(...ids), state: fc.constantFrom(...memberStates), incarnation: fc.integer({ min: 0, max: 3 }) })
    .map(({ id, state, incarnation }) => member(id, state, incarnation));
  const recordsAndPermutation = fc.array(rec, { maxLength: 20 })
    .chain((records) => fc.tuple(fc.constant(records), fc.shuffledSubarray(records, { minLength: records.length, maxLength: records.length })));
  fc.assert(
    fc.property(recordsAndPermutation, ([records, permuted]) => {
      const left = new MembershipView(member("a"), { membersMax: 8 });
      const right = new MembershipView(member("a"), { membersMax: 8 });
      for (const r of records) left.apply(r);
      for (const r of permuted) right.apply(r);
      for (const r of records) right.apply(r); // duplicates change nothing
      assert.deepEqual(left.members(), right.members());
    }),
    { numRuns: 150 },
  );
});

test("a forgotten member is gone until news about it is admitted again", () => {
  const view = new MembershipView(member("a"), { membersMax: 4, admitNew: (record) => record.state !== "down" });
  view.apply(member("b", "up", 2));
  view.apply(member("b", "down", 2));
  assert.equal(view.forget("b"), true);
  assert.equal(view.get("b"), undefined);
  assert.equal(view.apply(member("b", "down", 2)), "stale");
  assert.equal(view.get("b"), undefined);
  assert.equal(view.apply(member("b", "joining", 0)), "added");
  assert.throws(() => view.forget("a"));
});
