import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type EventualFinalState,
  type EventualWrite,
  checkEventualHistory,
  formatEventualViolations,
} from "./eventual-checker.js";

// A plain representation for the tests: a dot is [node, counter], a causal context a version
// vector as an object. The checker never looks inside either.
type Dot = readonly [string, number];
type Context = Readonly<Record<string, number>>;

const options = {
  covers: (context: Context, [node, counter]: Dot) => (context[node] ?? 0) >= counter,
  dotKey: ([node, counter]: Dot) => `${node}:${counter}`,
};

type Write = EventualWrite<Dot, Context>;
type Final = EventualFinalState<Dot, Context>;

let nextId = 0;
function put(dot: Dot, context: Context = {}, acknowledged = true, key = "k"): Write {
  return { id: nextId++, client: "c1", key, kind: "put", value: `v${dot[1]}`, dot, context, acknowledged };
}
function del(context: Context, acknowledged = true, key = "k"): Write {
  return { id: nextId++, client: "c2", key, kind: "delete", context, acknowledged };
}
function finals(entries: Record<string, Final>): Map<string, Final> {
  return new Map(Object.entries(entries));
}
function check(writes: Write[], final: Map<string, Final>) {
  return checkEventualHistory(writes, final, options);
}
function violationsOf(result: ReturnType<typeof check>) {
  assert.equal(result.ok, false, "expected violations");
  assert(result.ok === false);
  return result.violations;
}

test("acknowledged concurrent writes kept as siblings are not lost", () => {
  const a = put(["n1", 1]);
  const b = put(["n2", 1]);
  const result = check([a, b], finals({ k: { siblings: [{ dot: ["n1", 1] }, { dot: ["n2", 1] }], context: { n1: 1, n2: 1 } } }));
  assert.equal(result.ok, true);
});

test("last-writer-wins dropping a concurrent acknowledged write is a lost write", () => {
  // Jepsen's Riak finding: two blind writes, the later timestamp wins, the other vanishes.
  const a = put(["n1", 1]);
  const b = put(["n2", 1]);
  const [violation] = violationsOf(check([a, b], finals({ k: { siblings: [{ dot: ["n2", 1] }], context: { n1: 1, n2: 1 } } })));
  assert.equal(violation?.kind, "lost-write");
  assert(violation?.kind === "lost-write");
  assert.equal(violation.write, a);
  assert.match(violation.reason, /no recorded write saw it/);
});

test("a write superseded by a later write that saw it is not lost", () => {
  const a = put(["n1", 1]);
  const b = put(["n1", 2], { n1: 1 });
  assert.equal(check([a, b], finals({ k: { siblings: [{ dot: ["n1", 2] }], context: { n1: 2 } } })).ok, true);
});

test("a write superseded by an unacknowledged write that landed is not lost", () => {
  const a = put(["n1", 1]);
  const b = put(["n2", 1], { n1: 1 }, false);
  assert.equal(check([a, b], finals({ k: { siblings: [{ dot: ["n2", 1] }], context: { n1: 1, n2: 1 } } })).ok, true);
});

test("a write that a writer saw but the final state neither holds nor covers is lost", () => {
  // The superseding write never landed (unacknowledged), and the put vanished anyway.
  const a = put(["n1", 1]);
  const b = put(["n2", 1], { n1: 1 }, false);
  const [violation] = violationsOf(check([a, b], finals({ k: { siblings: [], context: {} } })));
  assert(violation?.kind === "lost-write");
  assert.match(violation.reason, /final causal context does not cover its dot/);
});

test("an acknowledged put missing from a key with no final state is lost", () => {
  const [violation] = violationsOf(check([put(["n1", 1])], new Map()));
  assert(violation?.kind === "lost-write");
  assert.match(violation.reason, /not among the 0 final siblings/);
});

test("unacknowledged puts may vanish", () => {
  assert.equal(check([put(["n1", 1], {}, false)], finals({ k: { siblings: [], context: {} } })).ok, true);
});

test("a put deleted by an acknowledged delete that saw it is not lost, even after the tombstone is collected", () => {
  const a = put(["n1", 1]);
  const d = del({ n1: 1 });
  assert.equal(check([a, d], new Map()).ok, true);
});

test("a value an acknowledged delete covered must not come back", () => {
  const a = put(["n1", 1]);
  const d = del({ n1: 1 });
  const [violation] = violationsOf(check([a, d], finals({ k: { siblings: [{ dot: ["n1", 1], value: "v1" }], context: { n1: 1 } } })));
  assert(violation?.kind === "resurrection");
  assert.equal(violation.deletedBy, d);
  assert.deepEqual(violation.sibling.dot, ["n1", 1]);
});

test("a delete removes only what it saw: a concurrent put survives it", () => {
  const a = put(["n1", 1]);
  const b = put(["n2", 1]);
  const d = del({ n1: 1 });
  assert.equal(check([a, b, d], finals({ k: { siblings: [{ dot: ["n2", 1] }], context: { n1: 1, n2: 1 } } })).ok, true);
});

test("an unacknowledged delete may not have happened, and a tombstone sibling is not a resurrection", () => {
  const a = put(["n1", 1]);
  assert.equal(check([a, del({ n1: 1 }, false)], finals({ k: { siblings: [{ dot: ["n1", 1] }], context: { n1: 1 } } })).ok, true);
  const b = put(["n1", 2]);
  const d: Write = { ...del({ n1: 2 }), dot: ["n1", 3] };
  assert.equal(check([b, d], finals({ k: { siblings: [{ dot: ["n1", 3], tombstone: true }], context: { n1: 3 } } })).ok, true);
});

test("keys are judged by their own final state", () => {
  const x = put(["n1", 1], {}, true, "x");
  const y = put(["n1", 2], {}, true, "y");
  const result = check([x, y], finals({ x: { siblings: [{ dot: ["n1", 1] }], context: { n1: 1 } }, y: { siblings: [], context: {} } }));
  const violations = violationsOf(result);
  assert.deepEqual(violations.map((v) => v.key), ["y"]);
});

test("violations beyond violationsMax are counted, not kept", () => {
  const writes = Array.from({ length: 5 }, (_, i) => put(["n1", i + 1]));
  const result = checkEventualHistory(writes, new Map(), { ...options, violationsMax: 2 });
  assert(result.ok === false);
  assert.equal(result.violations.length, 2);
  assert.equal(result.violationsTotal, 5);
  assert.match(formatEventualViolations(result, options.dotKey), /\.\.\. 3 more$/);
});

test("an acknowledged put without a dot is a harness bug the checker refuses", () => {
  const write: Write = { id: 1, key: "k", kind: "put", context: {}, acknowledged: true };
  assert.throws(() => check([write], new Map()), /has no dot/);
});

test("violations print one per line with key, write, client, value and dot", () => {
  const a: Write = { id: 7, client: "c3", key: "cart", kind: "put", value: "apple", dot: ["n1", 4], context: {}, acknowledged: true };
  const d: Write = { id: 9, client: "c4", key: "cart", kind: "delete", context: { n1: 5 }, acknowledged: true };
  const sibling = { dot: ["n1", 5] as Dot, value: "pear" };
  const result = check([a, d], finals({ cart: { siblings: [sibling], context: { n1: 5 } } }));
  assert(result.ok === false);
  assert.equal(
    formatEventualViolations(result, options.dotKey),
    [
      "eventual history: 1 violations among 2 writes (2 acknowledged) on 1 keys",
      'resurrection: key "cart", sibling at dot n1:5 ("pear") is back although acknowledged delete #9 by c4 covered it',
    ].join("\n"),
  );
  const lost = check([a], finals({ cart: { siblings: [], context: {} } }));
  assert(lost.ok === false);
  assert.match(
    formatEventualViolations(lost, options.dotKey),
    /lost write: key "cart", put #7 by c3 "apple" at dot n1:4: not among the 0 final siblings, and no recorded write saw it/,
  );
});

// A single replica that keeps siblings correctly: a write removes the siblings its context
// covers and adds its own dot; a delete removes what its context covers. Whatever the
// interleaving, the checker must accept the result, and must notice one dropped sibling.
interface Step {
  readonly kind: "put" | "delete";
  readonly node: string;
  /** 0: blind; 1: the full current context (read-modify-write); 2: a stale, partial one. */
  readonly contextChoice: 0 | 1 | 2;
  readonly acknowledged: boolean;
}

const stepArb: fc.Arbitrary<Step> = fc.record({
  kind: fc.constantFrom<"put" | "delete">("put", "put", "put", "delete"),
  node: fc.constantFrom("n1", "n2", "n3"),
  contextChoice: fc.constantFrom<0 | 1 | 2>(0, 1, 2),
  acknowledged: fc.boolean(),
});

function runReplica(steps: readonly Step[]): { writes: Write[]; final: Final } {
  let siblings: Array<{ dot: Dot }> = [];
  let context: Record<string, number> = {};
  const writes: Write[] = [];
  steps.forEach((step, id) => {
    const seen: Context =
      step.contextChoice === 0 ? {} : step.contextChoice === 1 ? { ...context } : Object.fromEntries(Object.entries(context).slice(0, 1));
    siblings = siblings.filter((s) => !options.covers(seen, s.dot));
    if (step.kind === "put") {
      const dot: Dot = [step.node, (context[step.node] ?? 0) + 1];
      context = { ...context, [step.node]: dot[1] };
      siblings.push({ dot });
      writes.push({ id, key: "k", kind: "put", dot, context: seen, acknowledged: step.acknowledged });
    } else {
      writes.push({ id, key: "k", kind: "delete", context: seen, acknowledged: step.acknowledged });
    }
  });
  return { writes, final: { siblings, context } };
}

test("a replica that keeps siblings correctly always passes the eventual checker", () => {
  fc.assert(
    fc.property(fc.array(stepArb, { maxLength: 30 }), (steps) => {
      const { writes, final } = runReplica(steps);
      const result = check(writes, finals({ k: final }));
      assert.equal(result.ok, true, result.ok ? "" : formatEventualViolations(result, options.dotKey));
    }),
    { numRuns: 200, seed: 0xe7e01 },
  );
});

test("dropping a final sibling that no write saw is always caught", () => {
  fc.assert(
    fc.property(fc.array(stepArb, { minLength: 1, maxLength: 30 }), fc.nat(), (steps, pick) => {
      const { writes, final } = runReplica(steps);
      const unseen = final.siblings.filter((s) => {
        const write = writes.find((w) => w.dot !== undefined && options.dotKey(w.dot) === options.dotKey(s.dot))!;
        return write.acknowledged && !writes.some((w) => w !== write && options.covers(w.context, s.dot));
      });
      fc.pre(unseen.length > 0);
      const dropped = unseen[pick % unseen.length]!;
      const siblings = final.siblings.filter((s) => s !== dropped);
      const result = check(writes, finals({ k: { siblings, context: final.context } }));
      assert(result.ok === false);
      assert(result.violations.some((v) => v.kind === "lost-write" && v.write.dot === dropped.dot));
    }),
    { numRuns: 200, seed: 0xe7e02 },
  );
});
