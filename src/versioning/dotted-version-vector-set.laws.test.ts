import { test } from "node:test";
import assert from "node:assert/strict";
import { isDeepStrictEqual } from "node:util";
import fc from "fast-check";
import * as dvvset from "./dotted-version-vector-set.js";
import type { DottedVersionVectorSet } from "./dotted-version-vector-set.js";
import { descends, dominates, mergeVersionVectors } from "./version-vector.js";

/*
 * The laws of dotted version vector sets, checked on sets that real histories produce: three
 * replicas (also the coordinators), clients that read from one replica and write later through
 * another with that (possibly stale) context, anti-entropy syncs between replicas, and now and
 * then a client proposal synced in without a coordinator (an anonymous value). Arbitrary
 * structures would not do: a dot names one value everywhere only in a real history.
 *
 * Beside the sets the model keeps the ground truth: every value's causal past (what its writer
 * had read) and, per replica and read, every value it has seen. A value should be present
 * exactly when it has been seen and no seen value has it in its past.
 */

const nodeIds = ["a", "b", "c"] as const;
const slotCount = 3;
const runs = { numRuns: 200 };

type Values = DottedVersionVectorSet<string>;
/** A set together with the ids of every value whose write it has seen (its causal history). */
interface State {
  readonly set: Values;
  readonly seen: ReadonlySet<string>;
}

type Op =
  | { kind: "read"; replica: number; slot: number }
  | { kind: "write"; replica: number; slot: number | null }
  | { kind: "sync"; from: number; to: number }
  | { kind: "anonymous"; replica: number; slot: number | null };

const replicaArb = fc.integer({ min: 0, max: nodeIds.length - 1 });
const slotArb = fc.integer({ min: 0, max: slotCount - 1 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("read" as const), replica: replicaArb, slot: slotArb }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("write" as const), replica: replicaArb, slot: fc.option(slotArb, { freq: 4 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("sync" as const), from: replicaArb, to: replicaArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("anonymous" as const), replica: replicaArb, slot: fc.option(slotArb, { freq: 2 }) }) },
);
const historyArb = fc.array(opArb, { maxLength: 40 });

class Model {
  readonly replicas: State[] = nodeIds.map(() => ({ set: dvvset.empty<string>(), seen: new Set<string>() }));
  readonly reads: State[] = Array.from({ length: slotCount }, () => ({ set: dvvset.empty<string>(), seen: new Set<string>() }));
  /** Every state the history passed through, for the laws over pairs and triples. */
  readonly states: State[] = [];
  /** The causal past of each value: what its writer had seen. */
  readonly past = new Map<string, ReadonlySet<string>>();
  readonly anonymousIds = new Set<string>();
  private nextId = 0;

  apply(op: Op): void {
    if (op.kind === "read") this.reads[op.slot] = this.replicas[op.replica]!;
    else if (op.kind === "sync") this.syncInto(op.to, this.replicas[op.from]!);
    else if (op.kind === "write") this.write(op.replica, op.slot === null ? undefined : this.reads[op.slot]!);
    else this.injectAnonymous(op.replica, op.slot === null ? undefined : this.reads[op.slot]!);
    this.states.push(...this.replicas, ...this.reads);
  }

  /** The values the ground truth says a state must hold. */
  expectedValues(state: State): string[] {
    const dominated = (id: string): boolean => [...state.seen].some((other) => this.past.get(other)!.has(id));
    return [...state.seen].filter((id) => this.anonymousIds.has(id) || !dominated(id)).sort();
  }

  private write(replica: number, read: State | undefined): void {
    const id = `w${this.nextId++}`;
    const before = this.replicas[replica]!;
    const proposal = read === undefined ? dvvset.newValue(id) : dvvset.newWithContext(dvvset.join(read.set), id);
    const after = dvvset.update(proposal, before.set, nodeIds[replica]!);
    const readSeen = read?.seen ?? new Set<string>();
    this.past.set(id, readSeen);
    this.replicas[replica] = { set: after, seen: new Set([...before.seen, ...readSeen, id]) };
    checkUpdateLaw(before.set, after, id, readSeen, this.anonymousIds);
  }

  private injectAnonymous(replica: number, read: State | undefined): void {
    const id = `x${this.nextId++}`;
    this.anonymousIds.add(id);
    const readSeen = read?.seen ?? new Set<string>();
    this.past.set(id, readSeen);
    const proposal = read === undefined ? dvvset.newValue(id) : dvvset.newWithContext(dvvset.join(read.set), id);
    this.syncInto(replica, { set: proposal, seen: new Set([...readSeen, id]) });
  }

  private syncInto(replica: number, incoming: State): void {
    const local = this.replicas[replica]!;
    this.replicas[replica] = { set: dvvset.sync(local.set, incoming.set), seen: new Set([...local.seen, ...incoming.seen]) };
  }
}

/** The new value joins; what the read saw leaves; everything else (and every anonymous value) stays. */
function checkUpdateLaw(before: Values, after: Values, id: string, readSeen: ReadonlySet<string>, anonymousIds: ReadonlySet<string>): void {
  const kept = dvvset.values(before).filter((v) => anonymousIds.has(v) || !readSeen.has(v));
  assert.deepEqual(sorted(dvvset.values(after)), sorted([...kept, id]), `update with ${id}`);
  if (readSeen.size === 0) assert.deepEqual(sorted(dvvset.values(after)), sorted([...dvvset.values(before), id]));
}

const sorted = (values: readonly string[]): string[] => [...values].sort();
const isString = (value: unknown): value is string => typeof value === "string";
const dotted = (set: Values): string[] => sorted(set.entries.flatMap((entry) => entry[2]));

function run(ops: readonly Op[]): Model {
  const model = new Model();
  for (const op of ops) model.apply(op);
  return model;
}

/** Three states of one history, chosen by the indices. */
function pick(model: Model, picks: readonly number[]): State[] {
  const all = model.states.length > 0 ? model.states : model.replicas;
  return picks.map((i) => all[i % all.length]!);
}

const picksArb = fc.array(fc.nat(), { minLength: 3, maxLength: 3 });

test("every state holds exactly the values seen and not superseded, each once", () => {
  fc.assert(
    fc.property(historyArb, (ops) => {
      const model = run(ops);
      for (const state of [...model.states, ...model.replicas]) {
        const actual = sorted(dvvset.values(state.set));
        assert.deepEqual(actual, model.expectedValues(state));
        assert.equal(new Set(actual).size, actual.length, "a value appears twice");
        assert.ok(dvvset.parse(state.set, isString).ok, "a set built by the operations is well formed");
      }
    }),
    { ...runs, seed: 0x5eed_0010 },
  );
});

test("sync is commutative, associative and idempotent", () => {
  fc.assert(
    fc.property(historyArb, picksArb, (ops, picks) => {
      const [a, b, c] = pick(run(ops), picks).map((state) => state.set) as [Values, Values, Values];
      assert.deepEqual(dvvset.sync(a, b), dvvset.sync(b, a));
      assert.deepEqual(dvvset.sync(dvvset.sync(a, b), c), dvvset.sync(a, dvvset.sync(b, c)));
      assert.deepEqual(dvvset.sync(a, a), a);
      assert.deepEqual(dvvset.sync(dvvset.sync(a, b), b), dvvset.sync(a, b));
    }),
    { ...runs, seed: 0x5eed_0011 },
  );
});

test("sync loses a value only when the other side saw a write that supersedes it", () => {
  fc.assert(
    fc.property(historyArb, picksArb, (ops, picks) => {
      const model = run(ops);
      const [a, b] = pick(model, picks) as [State, State];
      const merged = new Set(dvvset.values(dvvset.sync(a.set, b.set)));
      for (const [side, other] of [[a, b], [b, a]] as const) {
        for (const value of dvvset.values(side.set)) {
          if (merged.has(value)) continue;
          assert.ok(!model.anonymousIds.has(value), `anonymous ${value} was dropped`);
          assert.ok([...other.seen].some((id) => model.past.get(id)!.has(value)), `${value} was dropped without a superseding write`);
        }
      }
    }),
    { ...runs, seed: 0x5eed_0012 },
  );
});

test("equal agrees with structural equality on sets of one history", () => {
  fc.assert(
    fc.property(historyArb, (ops) => {
      // The latest states of the replicas and reads: near neighbours, so near misses are common.
      const recent = run(ops).states.slice(-2 * (nodeIds.length + slotCount)).map((state) => state.set);
      for (const a of recent) {
        for (const b of recent) {
          assert.equal(dvvset.equal(a, b), isDeepStrictEqual(a, b));
          assert.ok(dvvset.equal(dvvset.sync(a, b), dvvset.sync(b, a)));
        }
      }
    }),
    { ...runs, seed: 0x5eed_0017 },
  );
});

test("the context of a sync descends both contexts, and is their merge", () => {
  fc.assert(
    fc.property(historyArb, picksArb, (ops, picks) => {
      const [a, b] = pick(run(ops), picks).map((state) => state.set) as [Values, Values];
      const context = dvvset.join(dvvset.sync(a, b));
      assert.ok(descends(context, dvvset.join(a)) && descends(context, dvvset.join(b)));
      assert.deepEqual(context, mergeVersionVectors(dvvset.join(a), dvvset.join(b)));
    }),
    { ...runs, seed: 0x5eed_0013 },
  );
});

test("less is the strict order of contexts, and sync with a later set keeps the later set's dotted values", () => {
  fc.assert(
    fc.property(historyArb, picksArb, (ops, picks) => {
      const [a, b] = pick(run(ops), picks).map((state) => state.set) as [Values, Values];
      assert.equal(dvvset.less(a, b), dominates(dvvset.join(b), dvvset.join(a)));
      assert.ok(!(dvvset.less(a, b) && dvvset.less(b, a)));
      if (dvvset.less(a, b)) assert.deepEqual(dotted(dvvset.sync(a, b)), dotted(b));
    }),
    { ...runs, seed: 0x5eed_0014 },
  );
});

test("a write with a read's context supersedes that read everywhere it travels", () => {
  fc.assert(
    fc.property(historyArb, replicaArb, replicaArb, (ops, readFrom, coordinator) => {
      const model = run(ops);
      const read = model.replicas[readFrom]!.set;
      const written = dvvset.update(dvvset.newWithContext(dvvset.join(read), "final"), model.replicas[coordinator]!.set, nodeIds[coordinator]!);
      let everywhere = written;
      for (const replica of model.replicas) everywhere = dvvset.sync(everywhere, replica.set);
      const survivors = dvvset.values(everywhere).filter((v) => dvvset.values(read).includes(v) && !model.anonymousIds.has(v));
      assert.deepEqual(survivors, []);
      assert.ok(dvvset.values(everywhere).includes("final"));
    }),
    { ...runs, seed: 0x5eed_0015 },
  );
});

test("lww keeps the history and the single greatest value, and is idempotent", () => {
  fc.assert(
    fc.property(historyArb, picksArb, (ops, picks) => {
      const [a] = pick(run(ops), picks).map((state) => state.set) as [Values];
      const kept = dvvset.lww(a, (x, y) => (x < y ? -1 : x > y ? 1 : 0));
      assert.deepEqual(dvvset.join(kept), dvvset.join(a));
      assert.deepEqual(dvvset.values(kept), dvvset.size(a) === 0 ? [] : [sorted(dvvset.values(a)).at(-1)]);
      assert.deepEqual(dvvset.lww(kept, (x, y) => (x < y ? -1 : x > y ? 1 : 0)), kept);
      assert.ok(dvvset.parse(kept, isString).ok);
    }),
    { ...runs, seed: 0x5eed_0016 },
  );
});
