import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { checkLinearizability } from "./linearizability-checker.js";
import { formatCounterexample } from "./counterexample.js";
import { registerModel } from "./register-model.js";
import {
  type Absent,
  type RegisterOperation,
  type RegisterValue,
  absent,
  failedOutput,
  isFailedOutput,
  isUnknownOutput,
  unknownOutput,
} from "./history.js";

// Laws of the checker on generated histories. The reference register below is written
// independently of register-model.ts, so a bug there cannot hide a bug here.

type CallOf<Op> = Op extends RegisterOperation ? Pick<Op, "kind" | "input"> : never;
type Call = CallOf<RegisterOperation>;
type State = RegisterValue | Absent;

const refused = Object.freeze({ refused: true });

function execute(state: State, call: Call): { output: unknown; next: State } {
  switch (call.kind) {
    case "get":
      return { output: state, next: state };
    case "put":
      return { output: "ok", next: call.input.value };
    case "delete":
      return { output: state === absent ? "not-found" : "deleted", next: absent };
    case "cas":
      return state === call.input.expected ? { output: "ok", next: call.input.value } : { output: "fail", next: state };
    case "increment": {
      // The store refuses to increment a string: no output can match, nothing changes.
      if (typeof state === "string") return { output: refused, next: state };
      const next = (state ?? 0) + call.input.by;
      return { output: next, next };
    }
  }
}

const valueArb = fc.integer({ min: 0, max: 3 });
const callArb: fc.Arbitrary<Call> = fc.oneof(
  fc.constant<Call>({ kind: "get", input: null }),
  fc.constant<Call>({ kind: "get", input: null }),
  valueArb.map<Call>((value) => ({ kind: "put", input: { value } })),
  fc.constant<Call>({ kind: "delete", input: null }),
  fc.tuple(fc.option(valueArb, { nil: absent }), valueArb).map<Call>(([expected, value]) => ({ kind: "cas", input: { expected, value } })),
  fc.integer({ min: 1, max: 3 }).map<Call>((by) => ({ kind: "increment", input: { by } })),
);

type Fate = "acknowledged" | "timed-out" | "never-applied" | "failed";
const fateArb = fc.constantFrom<Fate>("acknowledged", "acknowledged", "acknowledged", "acknowledged", "timed-out", "never-applied", "failed");

interface Planned {
  readonly call: Call;
  readonly key: string;
  readonly client: number;
  readonly before: number;
  readonly after: number;
  readonly fate: Fate;
}

const plannedArb: fc.Arbitrary<Planned> = fc.record({
  call: callArb,
  key: fc.constantFrom("x", "y", "z"),
  client: fc.integer({ min: 0, max: 7 }),
  before: fc.integer({ min: 0, max: 40 }),
  after: fc.integer({ min: 0, max: 40 }),
  fate: fateArb,
});

/**
 * Runs the planned operations one at a time against the reference register, the i-th at time
 * 10 * i, then widens each into an interval around that point. Every such history has a
 * linearization (the execution order), whatever the overlaps.
 */
function executedHistory(planned: readonly Planned[]): RegisterOperation[] {
  const states = new Map<string, State>();
  return planned.map((p, id) => {
    const at = 10 * id;
    const applied = p.fate === "acknowledged" || p.fate === "timed-out";
    const { output, next } = execute(states.get(p.key) ?? absent, p.call);
    if (applied) states.set(p.key, next);
    const callAt = at - p.before;
    const ends: Record<Fate, { output: unknown; returnAt: number }> = {
      acknowledged: { output, returnAt: at + p.after },
      "timed-out": { output: unknownOutput, returnAt: Infinity },
      "never-applied": { output: unknownOutput, returnAt: Infinity },
      failed: { output: failedOutput("refused"), returnAt: at + p.after },
    };
    return { id, client: `c${p.client}`, key: p.key, ...p.call, callAt, ...ends[p.fate] } as RegisterOperation;
  });
}

const historyArb = fc.array(plannedArb, { minLength: 1, maxLength: 40 }).map(executedHistory);

function describeFailure(result: ReturnType<typeof checkLinearizability<State, RegisterOperation>>): string {
  return result.ok === false ? formatCounterexample(result.counterexample) : JSON.stringify(result);
}

test("histories produced by executing operations against the register are always linearizable", () => {
  fc.assert(
    fc.property(historyArb, (history) => {
      const result = checkLinearizability(history, registerModel);
      assert.equal(result.ok, true, describeFailure(result));
    }),
    { numRuns: 200, seed: 0x5eed01 },
  );
});

test("the verdict does not depend on the order operations are listed in", () => {
  fc.assert(
    fc.property(historyArb, fc.integer(), (history, seed) => {
      const shuffled = [...history].sort((a, b) => (((a.id + 1) * seed) % 97) - (((b.id + 1) * seed) % 97));
      assert.equal(checkLinearizability(shuffled, registerModel).ok, true);
    }),
    { numRuns: 100, seed: 0x5eed02 },
  );
});

test("corrupting one read to a value never written is always caught, on that read's key", () => {
  const withReadArb = historyArb
    .filter((history) => history.some((op) => op.kind === "get" && !isUnknownOutput(op.output) && !isFailedOutput(op.output)))
    .chain((history) => {
      const reads = history.filter((op) => op.kind === "get" && !isUnknownOutput(op.output) && !isFailedOutput(op.output));
      return fc.constantFrom(...reads).map((read) => ({ history, read }));
    });
  fc.assert(
    fc.property(withReadArb, ({ history, read }) => {
      const corrupted = history.map((op) => (op.id === read.id ? ({ ...op, output: "never-written" } as RegisterOperation) : op));
      const result = checkLinearizability(corrupted, registerModel);
      assert.equal(result.ok, false, JSON.stringify(result));
      assert(result.ok === false);
      assert.equal(result.counterexample.key, read.key);
    }),
    { numRuns: 200, seed: 0x5eed03 },
  );
});

/** A delete answering "ok" does not say whether something was there. */
function deleteWithoutReport(op: RegisterOperation): boolean {
  return op.kind === "delete" && op.output === "ok";
}

/**
 * Linearizability straight from the definition, without lists or memo: some operation that no
 * remaining determinate operation returned before goes next, its output must match, and every
 * determinate operation must be placed; indeterminate ones may be left out.
 */
function linearizableByDefinition(ops: readonly RegisterOperation[]): boolean {
  const relevant = ops.filter((op) => !isFailedOutput(op.output));
  const place = (remaining: readonly RegisterOperation[], state: State): boolean => {
    if (remaining.every((op) => isUnknownOutput(op.output))) return true;
    return remaining.some((candidate, i) => {
      if (remaining.some((other) => other.returnAt < candidate.callAt)) return false;
      const { output, next } = execute(state, candidate);
      if (!isUnknownOutput(candidate.output) && candidate.output !== output && !deleteWithoutReport(candidate)) return false;
      return place([...remaining.slice(0, i), ...remaining.slice(i + 1)], next);
    });
  };
  return place(relevant, absent);
}

/**
 * The checker's verdict equals the brute-force definition's on every generated history, and
 * both verdicts occur often enough (more than `linearizableMin`, fewer than `linearizableMax`
 * linearizable), or the comparison proves little.
 */
function agreesWithDefinition(historyArb: fc.Arbitrary<RegisterOperation[]>, options: { numRuns: number; seed: number; linearizableMin: number; linearizableMax: number }): void {
  let linearizable = 0;
  fc.assert(
    fc.property(historyArb, (history) => {
      const expected = linearizableByDefinition(history);
      if (expected) linearizable += 1;
      assert.equal(checkLinearizability(history, registerModel).ok, expected, JSON.stringify(history));
    }),
    { numRuns: options.numRuns, seed: options.seed },
  );
  assert(linearizable > options.linearizableMin && linearizable < options.linearizableMax, `${linearizable} of ${options.numRuns} generated histories were linearizable`);
}

test("on small random histories the checker agrees with the definition", () => {
  const outputFor = (call: Call): fc.Arbitrary<unknown> => {
    switch (call.kind) {
      case "get":
        return fc.option(valueArb, { nil: absent });
      case "put":
        return fc.constant("ok");
      case "delete":
        return fc.constantFrom("ok", "deleted", "not-found");
      case "cas":
        return fc.constantFrom("ok", "fail");
      case "increment":
        return fc.integer({ min: 1, max: 6 });
    }
  };
  const opArb = fc
    .record({ call: callArb, callAt: fc.integer({ min: 0, max: 30 }), length: fc.integer({ min: 0, max: 15 }), fate: fateArb })
    .chain((p) => outputFor(p.call).map((output) => ({ ...p, output })));
  const smallHistoryArb = fc.array(opArb, { minLength: 1, maxLength: 7 }).map((planned) =>
    planned.map((p, id) => {
      const unknown = p.fate === "timed-out" || p.fate === "never-applied";
      const output = unknown ? unknownOutput : p.fate === "failed" ? failedOutput() : p.output;
      const returnAt = unknown ? Infinity : p.callAt + p.length;
      return { id, client: `c${id}`, key: "k", ...p.call, output, callAt: p.callAt, returnAt } as RegisterOperation;
    }),
  );
  agreesWithDefinition(smallHistoryArb, { numRuns: 300, seed: 0x5eed04, linearizableMin: 30, linearizableMax: 270 });
});

test("on small random histories of string values, many unknown and many never read, the checker agrees with the definition", () => {
  // Strings are what the register's reduction rewrites (values nobody read merge; unknown writes
  // nothing could depend on are dropped), and unknown operations are what the search's normal
  // form and twin rule prune: this compares all of it with the brute-force definition.
  const stringArb = fc.constantFrom("a", "b", "c", "d", "e", "f");
  const stringCallArb: fc.Arbitrary<Call> = fc.oneof(
    fc.constant<Call>({ kind: "get", input: null }),
    stringArb.map<Call>((value) => ({ kind: "put", input: { value } })),
    stringArb.map<Call>((value) => ({ kind: "put", input: { value } })),
    fc.constant<Call>({ kind: "delete", input: null }),
    fc.tuple(fc.option(stringArb, { nil: absent }), stringArb).map<Call>(([expected, value]) => ({ kind: "cas", input: { expected, value } })),
    fc.integer({ min: 1, max: 2 }).map<Call>((by) => ({ kind: "increment", input: { by } })),
  );
  const outputFor = (call: Call): fc.Arbitrary<unknown> => {
    switch (call.kind) {
      case "get":
        return fc.oneof(fc.constantFrom<State>(absent, "a", "b"), fc.integer({ min: 1, max: 3 }));
      case "put":
        return fc.constant("ok");
      case "delete":
        return fc.constantFrom("ok", "deleted", "not-found");
      case "cas":
        return fc.constantFrom("ok", "fail");
      case "increment":
        return fc.integer({ min: 1, max: 4 });
    }
  };
  const opArb = fc
    .record({ call: stringCallArb, callAt: fc.integer({ min: 0, max: 30 }), length: fc.integer({ min: 0, max: 15 }), unknown: fc.boolean() })
    .chain((p) => outputFor(p.call).map((output) => ({ ...p, output })));
  const smallHistoryArb = fc.array(opArb, { minLength: 1, maxLength: 8 }).map((planned) =>
    planned.map((p, id) => {
      const output = p.unknown ? unknownOutput : p.output;
      const returnAt = p.unknown ? Infinity : p.callAt + p.length;
      return { id, client: `c${id}`, key: "k", ...p.call, output, callAt: p.callAt, returnAt } as RegisterOperation;
    }),
  );
  agreesWithDefinition(smallHistoryArb, { numRuns: 1000, seed: 0x5eed05, linearizableMin: 100, linearizableMax: 900 });
});

test("on small random counter histories, half the increments unknown, the checker agrees with the definition", () => {
  // Unknown increments with equal amounts are twins (the search tries only the earliest) and
  // chains of them may be needed to explain one read: the case the twin rule must not prune.
  const counterCallArb: fc.Arbitrary<Call> = fc.oneof(
    fc.constant<Call>({ kind: "get", input: null }),
    fc.integer({ min: 1, max: 2 }).map<Call>((by) => ({ kind: "increment", input: { by } })),
    fc.integer({ min: 1, max: 2 }).map<Call>((by) => ({ kind: "increment", input: { by } })),
    fc.constant<Call>({ kind: "delete", input: null }),
    fc.tuple(fc.option(fc.integer({ min: 0, max: 4 }), { nil: absent }), fc.integer({ min: 0, max: 4 })).map<Call>(([expected, value]) => ({ kind: "cas", input: { expected, value } })),
  );
  const opArb = fc.record({
    call: counterCallArb,
    callAt: fc.integer({ min: 0, max: 30 }),
    length: fc.integer({ min: 0, max: 15 }),
    unknown: fc.boolean(),
    output: fc.integer({ min: 0, max: 5 }),
    deleteOutput: fc.constantFrom("ok", "deleted", "not-found"),
    casOutput: fc.constantFrom("ok", "fail"),
  });
  const smallHistoryArb = fc.array(opArb, { minLength: 1, maxLength: 8 }).map((planned) =>
    planned.map((p, id) => {
      const known = p.call.kind === "delete" ? p.deleteOutput : p.call.kind === "cas" ? p.casOutput : p.output;
      const output = p.unknown ? unknownOutput : known;
      const returnAt = p.unknown ? Infinity : p.callAt + p.length;
      return { id, client: `c${id}`, key: "k", ...p.call, output, callAt: p.callAt, returnAt } as RegisterOperation;
    }),
  );
  agreesWithDefinition(smallHistoryArb, { numRuns: 1000, seed: 0x5eed06, linearizableMin: 100, linearizableMax: 900 });
});
