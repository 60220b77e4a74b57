import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import * as dvvset from "../versioning/dotted-version-vector-set.js";
import type { DottedVersionVectorSet } from "../versioning/dotted-version-vector-set.js";
import { GetCore, type GetReply } from "./get-core.js";
import { JointGetCore } from "./joint-get-core.js";
import type { QuorumReplica } from "./quorum-replica.js";

type Values = DottedVersionVectorSet<string>;
const primaries = (...nodes: string[]): QuorumReplica[] => nodes.map((node) => ({ node, primary: true }));
const found = (set: Values | undefined): GetReply<string> => ({ ok: true, set });
const value = (text: string, actor: string): Values => dvvset.update(dvvset.newValue(text), dvvset.empty(), actor);
// A join: x leaves the key's list, j (filling) enters it; a and b are on both.
const joint = (r: number, pr = 0) => new JointGetCore<string>({ before: { n: 3, r, pr, preferenceList: primaries("a", "b", "x") }, after: { n: 3, r, pr, preferenceList: primaries("a", "b", "j") } });

test("JointGetCore asks the union of both lists once each, the new list first", () => {
  assert.deepEqual(joint(2).targets.map((t) => t.node), ["a", "b", "j", "x"]);
});

test("JointGetCore: r replies of the new list are not enough without r of the old (the filling node's not-found)", () => {
  const core = joint(2);
  core.addReply("b", found(undefined));
  core.addReply("j", found(undefined));
  assert.equal(core.enough(), false, "b and j meet r on the new list only");
  core.addReply("x", found(value("v", "x")));
  assert.equal(core.enough(), true);
  const response = core.response();
  assert.ok(response.ok && response.found);
  assert.deepEqual(dvvset.values(response.set), ["v"]);
  assert.deepEqual(core.repairs().map((r) => r.node), ["b", "j"]);
});

test("JointGetCore: a node on both lists counts in both, once; a duplicate is ignored", () => {
  const core = joint(2);
  assert.equal(core.addReply("a", found(undefined)), true);
  assert.equal(core.addReply("a", found(value("late", "a"))), false);
  assert.equal(core.enough(), false);
  core.addReply("b", found(undefined));
  assert.equal(core.enough(), true);
  const response = core.response();
  assert.ok(response.ok && !response.found);
});

test("JointGetCore fails with the old list's shortfall when the old list cannot give r", () => {
  const core = joint(2);
  core.addReply("b", found(undefined));
  core.addReply("j", found(undefined));
  core.addReply("a", { ok: false, error: "timeout" });
  assert.equal(core.enough(), false, "x may still answer");
  core.addReply("x", { ok: false, error: "timeout" });
  assert.equal(core.enough(), true);
  assert.equal(core.complete(), true);
  const response = core.response();
  assert.ok(!response.ok);
  assert.deepEqual({ got: response.got, needed: response.needed }, { got: { r: 1, pr: 1 }, needed: { r: 2, pr: 0 } });
});

test("JointGetCore rejects a reply from a node on neither list", () => {
  assert.throws(() => joint(1).addReply("zz", found(undefined)), /neither preference list/);
});

test("JointGetCore over two equal lists decides exactly like GetCore (property)", () => {
  const reply = fc.oneof(fc.constant<GetReply<string> | "none">("none"), fc.constant(found(undefined)), fc.constant<GetReply<string>>({ ok: false, error: "e" }), fc.constantFrom("p", "q").map((v) => found(value(v, "w"))));
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 3 }), fc.array(reply, { minLength: 3, maxLength: 3 }), fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 3, maxLength: 3 }), (r, pr, replies, order) => {
      const list = primaries("a", "b", "c");
      const single = new GetCore<string>({ n: 3, r, pr, preferenceList: list });
      const both = new JointGetCore<string>({ before: { n: 3, r, pr, preferenceList: list }, after: { n: 3, r, pr, preferenceList: list } });
      for (const index of order) {
        const answer = replies[index]!;
        if (answer === "none") continue;
        assert.equal(both.addReply(list[index]!.node, answer), single.addReply(list[index]!.node, answer));
        assert.equal(both.enough(), single.enough());
      }
      assert.deepEqual(both.response(), single.response());
      assert.deepEqual(both.repairs(), single.repairs());
    }),
    { numRuns: 200 },
  );
});
