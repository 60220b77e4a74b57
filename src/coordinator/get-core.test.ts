import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import * as dvvset from "../versioning/dotted-version-vector-set.js";
import type { DottedVersionVectorSet } from "../versioning/dotted-version-vector-set.js";
import { GetCore, type GetReply } from "./get-core.js";
import { describeQuorumFailure } from "./quorum-failure.js";
import type { QuorumReplica } from "./quorum-replica.js";

type Values = DottedVersionVectorSet<string>;
const runs = { numRuns: 200 };
const primaries = (...nodes: string[]): QuorumReplica[] => nodes.map((node) => ({ node, primary: true }));
const write = (server: Values, value: string, nodeId: string, context?: Values): Values =>
  dvvset.update(context === undefined ? dvvset.newValue(value) : dvvset.newWithContext(dvvset.join(context), value), server, nodeId);
const found = (set: Values | undefined): GetReply<string> => ({ ok: true, set });

test("GetCore answers the merge of r replies, keeping concurrent siblings", () => {
  const x = write(dvvset.empty(), "x", "a");
  const y = write(dvvset.empty(), "y", "b");
  const core = new GetCore<string>({ n: 3, r: 2, pr: 0, preferenceList: primaries("a", "b", "c") });
  core.addReply("a", found(x));
  assert.equal(core.enough(), false);
  core.addReply("b", found(y));
  assert.equal(core.enough(), true);
  const response = core.response();
  assert.ok(response.ok && response.found);
  assert.deepEqual(dvvset.values(response.set).sort(), ["x", "y"]);
});

test("GetCore drops a version the other reply supersedes", () => {
  const old = write(dvvset.empty(), "old", "a");
  const newer = write(old, "new", "b", old);
  const core = new GetCore<string>({ n: 2, r: 2, pr: 0, preferenceList: primaries("a", "b") });
  core.addReply("a", found(old));
  core.addReply("b", found(newer));
  const response = core.response();
  assert.ok(response.ok && response.found);
  assert.deepEqual(dvvset.values(response.set), ["new"]);
  assert.deepEqual(core.repairs(), [{ node: "a", primary: true }]);
});

test("GetCore counts not-found toward r and answers not found when no replica has the key", () => {
  const core = new GetCore<string>({ n: 3, r: 2, pr: 0, preferenceList: primaries("a", "b", "c") });
  core.addReply("a", found(undefined));
  core.addReply("b", found(undefined));
  assert.deepEqual(core.response(), { ok: true, found: false });
  assert.deepEqual(core.repairs(), []);
});

test("GetCore lists a replica that answered not-found for repair once another has the key", () => {
  const x = write(dvvset.empty(), "x", "a");
  const core = new GetCore<string>({ n: 3, r: 1, pr: 0, preferenceList: primaries("a", "b", "c") });
  core.addReply("b", found(undefined));
  assert.deepEqual(core.response(), { ok: true, found: false });
  // Replies after enough() still join the merge and the repairs.
  core.addReply("a", found(x));
  core.addReply("c", { ok: false, error: "timeout" });
  assert.equal(core.complete(), true);
  assert.deepEqual(core.repairs(), [{ node: "b", primary: true }]);
});

test("GetCore never counts a fallback's reply, not-found included, toward pr", () => {
  const list: QuorumReplica[] = [
    { node: "a", primary: true },
    { node: "d", primary: false, standsInFor: "b" },
  ];
  const core = new GetCore<string>({ n: 2, r: 2, pr: 2, preferenceList: list });
  core.addReply("a", found(undefined));
  core.addReply("d", found(undefined));
  assert.equal(core.enough(), true);
  const response = core.response();
  assert.ok(!response.ok);
  assert.deepEqual(response.got, { r: 2, pr: 1 });
  assert.equal(describeQuorumFailure(response), "1 of 2 required replies from primary replicas");
});

test("GetCore fails when r is out of reach and names the replies it got", () => {
  const core = new GetCore<string>({ n: 3, r: 2, pr: 0, preferenceList: primaries("a", "b", "c") });
  core.addReply("a", { ok: false, error: "timeout" });
  core.addReply("b", { ok: false, error: "unreachable" });
  assert.equal(core.enough(), true);
  const response = core.response();
  assert.ok(!response.ok);
  assert.equal(describeQuorumFailure(response), "0 of 2 required replies");
  assert.deepEqual(response.errors, [
    { node: "a", error: "timeout" },
    { node: "b", error: "unreachable" },
  ]);
});

test("GetCore reads an empty set as not found", () => {
  const core = new GetCore<string>({ n: 2, r: 2, pr: 0, preferenceList: primaries("a", "b") });
  core.addReply("a", found(dvvset.empty()));
  core.addReply("b", found(undefined));
  assert.deepEqual(core.response(), { ok: true, found: false });
  assert.deepEqual(core.repairs(), []);
});

test("GetCore ignores a duplicate reply", () => {
  const x = write(dvvset.empty(), "x", "a");
  const core = new GetCore<string>({ n: 3, r: 2, pr: 0, preferenceList: primaries("a", "b", "c") });
  assert.equal(core.addReply("a", found(undefined)), true);
  assert.equal(core.addReply("a", found(x)), false);
  assert.equal(core.enough(), false);
  assert.equal(core.mergedSet(), undefined);
});

// ---- properties -------------------------------------------------------------------------

const nodeIds = ["a", "b", "c", "d", "e"];

/** One key's history over five replicas: writes with (possibly stale) contexts and syncs. */
type Op = { kind: "write"; at: number; contextFrom: number | null } | { kind: "sync"; from: number; to: number };

const indexArb = fc.integer({ min: 0, max: nodeIds.length - 1 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant("write" as const), at: indexArb, contextFrom: fc.option(indexArb, { freq: 3 }) }),
  fc.record({ kind: fc.constant("sync" as const), from: indexArb, to: indexArb }),
);

/** Each replica's set after the history; undefined where the key never arrived (not found). */
function replay(ops: readonly Op[]): (Values | undefined)[] {
  const sets: (Values | undefined)[] = nodeIds.map(() => undefined);
  ops.forEach((op, i) => {
    if (op.kind === "sync") {
      const from = sets[op.from];
      if (from !== undefined) sets[op.to] = dvvset.sync(sets[op.to] ?? dvvset.empty(), from);
      return;
    }
    const context = op.contextFrom === null ? undefined : sets[op.contextFrom];
    sets[op.at] = write(sets[op.at] ?? dvvset.empty(), `v${i}`, nodeIds[op.at]!, context);
  });
  return sets;
}

interface ReadScenario {
  sets: (Values | undefined)[];
  primary: boolean[];
  /** Replicas whose reply fails. */
  failing: boolean[];
  /** Arrival order of the replies (a permutation), then duplicates. */
  order: number[];
  duplicates: number[];
  r: number;
  pr: number;
}

const scenarioArb: fc.Arbitrary<ReadScenario> = fc.record({
  sets: fc.array(opArb, { maxLength: 25 }).map(replay),
  primary: fc.array(fc.boolean(), { minLength: nodeIds.length, maxLength: nodeIds.length }),
  failing: fc.array(fc.integer({ min: 0, max: 4 }).map((roll) => roll === 0), { minLength: nodeIds.length, maxLength: nodeIds.length }),
  order: fc.shuffledSubarray([0, 1, 2, 3, 4], { minLength: nodeIds.length, maxLength: nodeIds.length }),
  duplicates: fc.array(indexArb, { maxLength: 5 }),
  r: fc.integer({ min: 1, max: nodeIds.length }),
  pr: fc.integer({ min: 0, max: nodeIds.length }),
});

function readAll(s: ReadScenario): GetCore<string> {
  const list = nodeIds.map((node, i) => ({ node, primary: s.primary[i]! }));
  const core = new GetCore<string>({ n: nodeIds.length, r: s.r, pr: s.pr, preferenceList: list });
  for (const i of [...s.order, ...s.duplicates]) {
    core.addReply(nodeIds[i]!, s.failing[i] ? { ok: false, error: "timeout" } : found(s.sets[i]));
  }
  return core;
}

/** The specification: the sync of every ok reply's set, in replica order. */
function expectedMerge(s: ReadScenario): Values | undefined {
  let merged: Values | undefined;
  s.sets.forEach((set, i) => {
    if (!s.failing[i] && set !== undefined) merged = merged === undefined ? set : dvvset.sync(merged, set);
  });
  return merged;
}

test("GetCore's merge equals the sync of all ok replies, whatever their order and duplicates", () => {
  fc.assert(
    fc.property(scenarioArb, (s) => {
      const core = readAll(s);
      assert.deepEqual(core.mergedSet(), expectedMerge(s));
      const response = core.response();
      const oks = s.failing.filter((failing) => !failing).length;
      const primaryOks = s.failing.filter((failing, i) => !failing && s.primary[i]).length;
      assert.equal(response.ok, oks >= s.r && primaryOks >= s.pr);
      if (response.ok) assert.deepEqual(response.found ? response.set : undefined, expectedMerge(s));
    }),
    { ...runs, seed: 0x5eed_0311 },
  );
});

test("GetCore's repairs are exactly the answering replicas whose set differs from the merge", () => {
  fc.assert(
    fc.property(scenarioArb, (s) => {
      const core = readAll(s);
      const merged = expectedMerge(s) ?? dvvset.empty<string>();
      const stale = nodeIds.filter((_, i) => !s.failing[i] && !dvvset.equal(s.sets[i] ?? dvvset.empty<string>(), merged));
      assert.deepEqual(
        core.repairs().map((replica) => replica.node),
        stale,
      );
      // Syncing the merge into each repaired replica makes it equal to the merge.
      for (const node of stale) {
        const set = s.sets[nodeIds.indexOf(node)] ?? dvvset.empty<string>();
        assert.ok(dvvset.equal(dvvset.sync(set, merged), merged));
      }
    }),
    { ...runs, seed: 0x5eed_0312 },
  );
});

test("GetCore's enough() is monotone and the answer is ok exactly when r and pr replies arrived", () => {
  fc.assert(
    fc.property(scenarioArb, (s) => {
      const list = nodeIds.map((node, i) => ({ node, primary: s.primary[i]! }));
      const core = new GetCore<string>({ n: nodeIds.length, r: s.r, pr: s.pr, preferenceList: list });
      let oks = 0;
      let primaryOks = 0;
      let wasEnough = core.enough();
      for (const i of s.order) {
        core.addReply(nodeIds[i]!, s.failing[i] ? { ok: false, error: "timeout" } : found(s.sets[i]));
        if (!s.failing[i]) {
          oks++;
          if (s.primary[i]) primaryOks++;
        }
        assert.equal(core.response().ok, oks >= s.r && primaryOks >= s.pr);
        if (wasEnough) assert.equal(core.enough(), true);
        wasEnough = core.enough();
      }
      assert.equal(core.enough(), true);
    }),
    { ...runs, seed: 0x5eed_0313 },
  );
});
