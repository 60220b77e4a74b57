import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { PutCore, type PutReply } from "./put-core.js";
import { describeQuorumFailure } from "./quorum-failure.js";
import type { QuorumReplica } from "./quorum-replica.js";

const runs = { numRuns: 200 };
const ok = (durable = true): PutReply => ({ ok: true, durable });
const failed: PutReply = { ok: false, error: "timeout" };
const primaries = (...nodes: string[]): QuorumReplica[] => nodes.map((node) => ({ node, primary: true }));

test("PutCore succeeds at w acknowledgements and not before", () => {
  const core = new PutCore({ n: 3, w: 2, dw: 0, pw: 0, preferenceList: primaries("a", "b", "c") });
  core.addReply("a", ok());
  assert.equal(core.enough(), false);
  assert.equal(core.response().ok, false);
  core.addReply("b", ok(false));
  assert.equal(core.enough(), true);
  assert.deepEqual(core.response(), { ok: true });
});

test("PutCore gives up as soon as w is out of reach and names the shortfall", () => {
  const core = new PutCore({ n: 3, w: 2, dw: 0, pw: 0, preferenceList: primaries("a", "b", "c") });
  core.addReply("a", ok());
  core.addReply("b", failed);
  assert.equal(core.enough(), false);
  core.addReply("c", { ok: false, error: "hints-full" });
  assert.equal(core.enough(), true);
  const response = core.response();
  assert.deepEqual(response, {
    ok: false,
    error: "quorum",
    got: { w: 1, dw: 1, pw: 1 },
    needed: { w: 2, dw: 0, pw: 0 },
    errors: [
      { node: "b", error: "timeout" },
      { node: "c", error: "hints-full" },
    ],
  });
  assert.ok(!response.ok);
  assert.equal(describeQuorumFailure(response), "1 of 2 required acknowledgements");
});

test("PutCore counts a fallback toward w and dw but never toward pw", () => {
  const list: QuorumReplica[] = [
    { node: "a", primary: true },
    { node: "d", primary: false, standsInFor: "b" },
  ];
  const core = new PutCore({ n: 2, w: 2, dw: 2, pw: 2, preferenceList: list });
  core.addReply("a", ok());
  core.addReply("d", ok());
  assert.equal(core.enough(), true);
  const response = core.response();
  assert.ok(!response.ok);
  assert.deepEqual(response.got, { w: 2, dw: 2, pw: 1 });
  assert.equal(describeQuorumFailure(response), "1 of 2 required acknowledgements from primary replicas");
});

test("PutCore waits for dw durable acknowledgements", () => {
  const core = new PutCore({ n: 3, w: 1, dw: 2, pw: 0, preferenceList: primaries("a", "b", "c") });
  core.addReply("a", ok(false));
  core.addReply("b", ok(true));
  assert.equal(core.enough(), false);
  core.addReply("c", ok(true));
  assert.deepEqual(core.response(), { ok: true });
});

test("PutCore counts one reply per replica: a duplicate is ignored", () => {
  const core = new PutCore({ n: 3, w: 2, dw: 0, pw: 0, preferenceList: primaries("a", "b", "c") });
  assert.equal(core.addReply("a", ok()), true);
  assert.equal(core.addReply("a", ok()), false);
  assert.equal(core.enough(), false);
  assert.equal(core.response().ok, false);
});

test("PutCore with a shortened preference list knows at once that w is out of reach", () => {
  const core = new PutCore({ n: 3, w: 2, dw: 0, pw: 0, preferenceList: primaries("a") });
  assert.equal(core.enough(), true);
  assert.equal(core.response().ok, false);
});

test("PutCore refuses a reply from a node it did not ask (a coordinator bug)", () => {
  const core = new PutCore({ n: 3, w: 2, dw: 0, pw: 0, preferenceList: primaries("a", "b") });
  assert.throws(() => core.addReply("z", ok()), /not in the preference list/);
});

// ---- properties -------------------------------------------------------------------------

interface Scenario {
  n: number;
  w: number;
  dw: number;
  pw: number;
  list: QuorumReplica[];
  /** (replica index, reply) in arrival order, duplicates included. */
  events: { index: number; reply: PutReply }[];
}

const replyArbitrary: fc.Arbitrary<PutReply> = fc.oneof(
  fc.boolean().map((durable): PutReply => ({ ok: true, durable })),
  fc.constantFrom<PutReply>({ ok: false, error: "timeout" }, { ok: false, error: "hints-full" }),
);

const scenarioArbitrary: fc.Arbitrary<Scenario> = fc
  .record({ n: fc.integer({ min: 1, max: 5 }), size: fc.integer({ min: 0, max: 5 }) })
  .chain(({ n, size }) => {
    const k = Math.min(size, n);
    return fc.record({
      n: fc.constant(n),
      w: fc.integer({ min: 1, max: n }),
      dw: fc.integer({ min: 0, max: n }),
      pw: fc.integer({ min: 0, max: n }),
      list: fc.array(fc.boolean(), { minLength: k, maxLength: k }).map((flags) => flags.map((primary, i) => ({ node: `node${i}`, primary }))),
      events: k === 0 ? fc.constant([]) : fc.array(fc.record({ index: fc.integer({ min: 0, max: k - 1 }), reply: replyArbitrary }), { maxLength: 3 * k }),
    });
  });

function coreOf(s: Scenario): PutCore {
  return new PutCore({ n: s.n, w: s.w, dw: s.dw, pw: s.pw, preferenceList: s.list });
}

/** The replies that count: each replica's first. */
function firstReplies(s: Scenario, events: Scenario["events"]): Map<number, PutReply> {
  const first = new Map<number, PutReply>();
  for (const { index, reply } of events) if (!first.has(index)) first.set(index, reply);
  return first;
}

/** The specification, computed independently of PutCore. */
function shouldSucceed(s: Scenario, replies: ReadonlyMap<number, PutReply>): boolean {
  const oks = [...replies].filter(([, reply]) => reply.ok);
  const durable = oks.filter(([, reply]) => reply.ok && reply.durable).length;
  const primaryOks = oks.filter(([index]) => s.list[index]!.primary).length;
  return oks.length >= s.w && durable >= s.dw && primaryOks >= s.pw;
}

test("PutCore succeeds iff w ok, dw durable and pw primary replies arrived, at every step", () => {
  fc.assert(
    fc.property(scenarioArbitrary, (s) => {
      const core = coreOf(s);
      for (let step = 0; step < s.events.length; step++) {
        const { index, reply } = s.events[step]!;
        core.addReply(s.list[index]!.node, reply);
        const replies = firstReplies(s, s.events.slice(0, step + 1));
        const response = core.response();
        assert.equal(response.ok, shouldSucceed(s, replies));
        if (!response.ok) assert.equal(response.got.w + response.errors.length, replies.size, "every counted reply is an acknowledgement or an error");
      }
    }),
    { ...runs, seed: 0x5eed_0301 },
  );
});

test("PutCore's enough() is monotone and true once every replica answered", () => {
  fc.assert(
    fc.property(scenarioArbitrary, (s) => {
      const core = coreOf(s);
      let wasEnough = core.enough();
      for (const { index, reply } of s.events) {
        core.addReply(s.list[index]!.node, reply);
        if (wasEnough) assert.equal(core.enough(), true);
        wasEnough = core.enough();
      }
      if (firstReplies(s, s.events).size === s.list.length) assert.equal(core.enough(), true);
    }),
    { ...runs, seed: 0x5eed_0302 },
  );
});

test("PutCore's enough() without success means no remaining replies could succeed", () => {
  fc.assert(
    fc.property(scenarioArbitrary, (s) => {
      const core = coreOf(s);
      for (const { index, reply } of s.events) core.addReply(s.list[index]!.node, reply);
      const replies = firstReplies(s, s.events);
      const best = new Map(replies);
      s.list.forEach((_, index) => {
        if (!best.has(index)) best.set(index, { ok: true, durable: true });
      });
      const succeeded = shouldSucceed(s, replies);
      // Not enough exactly when not yet successful but the best completion would be.
      assert.equal(core.enough(), succeeded || !shouldSucceed(s, best));
    }),
    { ...runs, seed: 0x5eed_0303 },
  );
});

test("PutCore's outcome does not depend on the order or duplication of replies", () => {
  fc.assert(
    fc.property(
      scenarioArbitrary.chain((s) => {
        const first = [...firstReplies(s, s.events)].map(([index, reply]) => ({ index, reply }));
        return fc.tuple(fc.constant(s), fc.shuffledSubarray(first, { minLength: first.length, maxLength: first.length }), fc.array(fc.nat(), { maxLength: 4 }));
      }),
      ([s, shuffled, duplicatePicks]) => {
        const original = coreOf(s);
        for (const { index, reply } of s.events) original.addReply(s.list[index]!.node, reply);
        const reordered = coreOf(s);
        for (const { index, reply } of shuffled) reordered.addReply(s.list[index]!.node, reply);
        // Duplicates of replicas that already answered, saying anything, change nothing.
        for (const pick of duplicatePicks) {
          if (shuffled.length === 0) break;
          const { index } = shuffled[pick % shuffled.length]!;
          assert.equal(reordered.addReply(s.list[index]!.node, failed), false);
        }
        const a = original.response();
        const b = reordered.response();
        assert.equal(a.ok, b.ok);
        assert.equal(original.enough(), reordered.enough());
        if (!a.ok && !b.ok) assert.deepEqual(a.got, b.got);
      },
    ),
    { ...runs, seed: 0x5eed_0304 },
  );
});
