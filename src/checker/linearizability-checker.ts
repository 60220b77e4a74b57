import { assert } from "../assert.js";
import type { Counterexample } from "./counterexample.js";
import { type HistoryOperation, isFailedOutput, isUnknownOutput, validateHistory } from "./history.js";
import { type SearchDeadEnd, searchLinearization } from "./linearization-search.js";
import type { Model } from "./model.js";

/**
 * Checks a history for linearizability (Herlihy & Wing 1990) against a sequential model, key by
 * key: linearizability is local, so a history is linearizable exactly when each key's
 * sub-history is, and splitting turns one exponential search into many small ones.
 *
 * Before searching, failed operations are dropped (they did not happen) and so are
 * indeterminate read-only ones (they cannot explain anything); then the model may reduce each
 * key's operations to an equivalent, smaller history (register-model.ts: values nobody read
 * merge, unknown writes nothing could depend on go). Keys are searched in sorted order, each
 * with its own step budget, so a result is reproducible and bounded; a key that fails ends the
 * check with a counterexample, and keys whose search spent its budget make the answer "unknown"
 * (listed) unless a later key fails.
 *
 * Cost: the search is exponential in the worst case (the problem is NP-complete). What grows it
 * is concurrency per key and, to reject a history, indeterminate operations per key (each may
 * or may not have happened, and all combinations must be ruled out). Workloads should spread
 * clients over keys and move to fresh keys every few hundred operations, as Jepsen's
 * independent keys do; 10,000 operations over 10 keys from 20 clients take well under a second.
 */

export interface LinearizabilityOptions {
  /**
   * Search steps (loop iterations, not time) per key: every key gets its own budget, so one hard
   * key cannot starve the others, and the whole check takes at most keys x stepsMax steps.
   */
  readonly stepsMax?: number;
  /** Memo entries per key; each holds a bitset of that key's operations and a state. */
  readonly cacheEntriesMax?: number;
}

export const linearizabilityDefaults = Object.freeze({
  stepsMax: 10_000_000,
  cacheEntriesMax: 1_000_000,
});

export interface KeyStats {
  readonly key: string;
  /** Operations searched on this key, after dropping and the model's reduction. */
  readonly operations: number;
  /** Operations the model's reduction removed (indeterminate writes nothing could depend on). */
  readonly reduced: number;
  readonly steps: number;
  readonly ok: boolean | "unknown";
}

export interface LinearizabilityStats {
  readonly keys: number;
  /** Operations searched, after dropping failed and indeterminate read-only ones and reducing. */
  readonly operations: number;
  /** Steps over all keys searched. */
  readonly steps: number;
  /** Per key searched, in key order (a failed key ends the check: later keys are not listed). */
  readonly perKey: readonly KeyStats[];
}

export type LinearizabilityResult<Op extends HistoryOperation> =
  | { readonly ok: true; readonly stats: LinearizabilityStats }
  | { readonly ok: false; readonly counterexample: Counterexample<Op>; readonly stats: LinearizabilityStats }
  | {
      readonly ok: "unknown";
      readonly reason: "budget";
      /** The first key whose search spent its budget. */
      readonly key: string;
      /** Every such key, in key order; every other key was decided linearizable. */
      readonly keys: readonly string[];
      readonly stats: LinearizabilityStats;
    };

/**
 * @example
 * const result = checkLinearizability(recorder.history(), registerModel, { stepsMax: 1_000_000 });
 * if (result.ok === false) console.error(formatCounterexample(result.counterexample));
 */
export function checkLinearizability<State, Op extends HistoryOperation>(
  history: readonly Op[],
  model: Model<State, Op>,
  options: LinearizabilityOptions = {},
): LinearizabilityResult<Op> {
  const stepsMax = options.stepsMax ?? linearizabilityDefaults.stepsMax;
  const cacheEntriesMax = options.cacheEntriesMax ?? linearizabilityDefaults.cacheEntriesMax;
  assert(Number.isSafeInteger(stepsMax) && stepsMax > 0, `stepsMax must be a positive integer, got ${stepsMax}`);
  assert(Number.isSafeInteger(cacheEntriesMax) && cacheEntriesMax >= 0, `cacheEntriesMax must be a non-negative integer, got ${cacheEntriesMax}`);
  validateHistory(history);

  const byKey = splitByKey(history.filter((op) => isRelevant(op, model)));
  const perKey: KeyStats[] = [];
  const stats = () => ({ keys: byKey.size, operations: sum(perKey, "operations"), steps: sum(perKey, "steps"), perKey });
  const unknownKeys: string[] = [];
  for (const [key, relevant] of byKey) {
    const ops = model.reduce === undefined ? relevant : model.reduce(relevant);
    const result = searchLinearization(ops, model, { stepsMax, cacheEntriesMax });
    perKey.push({ key, operations: ops.length, reduced: relevant.length - ops.length, steps: result.steps, ok: result.ok });
    if (result.ok === false) {
      const counterexample = buildCounterexample(key, ops, relevant, model, result.deadEnd);
      return { ok: false, counterexample, stats: stats() };
    }
    if (result.ok === "unknown") unknownKeys.push(key);
  }
  if (unknownKeys.length === 0) return { ok: true, stats: stats() };
  return { ok: "unknown", reason: "budget", key: unknownKeys[0]!, keys: unknownKeys, stats: stats() };
}

function sum(perKey: readonly KeyStats[], field: "operations" | "steps"): number {
  let total = 0;
  for (const key of perKey) total += key[field];
  return total;
}

function isRelevant<State, Op extends HistoryOperation>(op: Op, model: Model<State, Op>): boolean {
  if (isFailedOutput(op.output)) return false;
  return !(isUnknownOutput(op.output) && model.isReadOnly(op));
}

/** Per key, in sorted key order, each key's operations in call order. */
function splitByKey<Op extends HistoryOperation>(history: readonly Op[]): Map<string, Op[]> {
  const byKey = new Map<string, Op[]>();
  for (const op of history) {
    const ops = byKey.get(op.key);
    if (ops === undefined) byKey.set(op.key, [op]);
    else ops.push(op);
  }
  const sorted = new Map<string, Op[]>();
  for (const key of [...byKey.keys()].sort()) {
    sorted.set(key, byKey.get(key)!.sort((a, b) => a.callAt - b.callAt || a.id - b.id));
  }
  return sorted;
}

function buildCounterexample<State, Op extends HistoryOperation>(
  key: string,
  ops: readonly Op[],
  recorded: readonly Op[],
  model: Model<State, Op>,
  deadEnd: SearchDeadEnd<State>,
): Counterexample<Op> {
  // The searched operations may be rewritten or removed by the model's reduction; show what
  // was recorded, including what the reduction removed.
  const originals = new Map(recorded.map((op) => [op.id, op]));
  const describe = (searched: Op) => {
    const op = originals.get(searched.id) ?? searched;
    return { op, text: model.describeOperation(op) };
  };
  const inPrefix = new Set(deadEnd.prefix.map((item) => ops[item.index]!.id));
  const stuck = ops[deadEnd.stuckIndex]!;
  const concurrent = recorded
    .map((op) => ({ ...describe(op), inPrefix: inPrefix.has(op.id) }))
    .filter(({ op }) => op.callAt <= stuck.returnAt && op.returnAt >= stuck.callAt);
  return {
    model: model.name,
    key,
    operations: recorded.length,
    initialState: model.describeState(model.init()),
    prefix: recordedStates(deadEnd, ops, describe, model),
    stuck: describe(stuck),
    concurrent,
  };
}

/**
 * The prefix with the states the recorded operations lead to: the reduction's states are
 * equivalent (values nobody read merged into one), and the recorded ones read better.
 */
function recordedStates<State, Op extends HistoryOperation>(
  deadEnd: SearchDeadEnd<State>,
  ops: readonly Op[],
  describe: (op: Op) => { op: Op; text: string },
  model: Model<State, Op>,
): Array<{ op: Op; text: string; stateAfter: string }> {
  let state = model.init();
  let replayed = true;
  return deadEnd.prefix.map((item) => {
    const described = describe(ops[item.index]!);
    const step = replayed ? model.step(state, described.op) : undefined;
    replayed = step?.ok === true;
    if (step?.ok === true) state = step.next;
    return { ...described, stateAfter: model.describeState(replayed ? state : item.stateAfter) };
  });
}
