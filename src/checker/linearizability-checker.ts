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
 * indeterminate read-only ones (they cannot explain anything). Keys are searched in sorted order
 * against one shared step budget, so a result is reproducible and bounded; a key whose search
 * exhausts the budget makes the answer "unknown", unless an earlier key already failed.
 *
 * Cost: the search is exponential in the worst case (the problem is NP-complete). What grows it
 * is concurrency per key and, to reject a history, indeterminate operations per key (each may
 * or may not have happened, and all combinations must be ruled out). Workloads should spread
 * clients over keys and move to fresh keys every few hundred operations, as Jepsen's
 * independent keys do; 10,000 operations over 10 keys from 20 clients take well under a second.
 */

export interface LinearizabilityOptions {
  /** Search steps (loop iterations, not time) for the whole history. */
  readonly stepsMax?: number;
  /** Memo entries per key; each holds a bitset of that key's operations and a state. */
  readonly cacheEntriesMax?: number;
}

export const linearizabilityDefaults = Object.freeze({
  stepsMax: 10_000_000,
  cacheEntriesMax: 1_000_000,
});

export interface LinearizabilityStats {
  readonly keys: number;
  /** Operations searched, after dropping failed and indeterminate read-only ones. */
  readonly operations: number;
  readonly steps: number;
}

export type LinearizabilityResult<Op extends HistoryOperation> =
  | { readonly ok: true; readonly stats: LinearizabilityStats }
  | { readonly ok: false; readonly counterexample: Counterexample<Op>; readonly stats: LinearizabilityStats }
  | { readonly ok: "unknown"; readonly reason: "budget"; readonly key: string; readonly stats: LinearizabilityStats };

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
  let steps = 0;
  let operations = 0;
  let exhaustedKey: string | null = null;
  for (const [key, ops] of byKey) {
    operations += ops.length;
    const result = searchLinearization(ops, model, { stepsMax: stepsMax - steps, cacheEntriesMax });
    steps += result.steps;
    if (result.ok === false) {
      const counterexample = buildCounterexample(key, ops, model, result.deadEnd);
      return { ok: false, counterexample, stats: { keys: byKey.size, operations, steps } };
    }
    if (result.ok === "unknown") {
      exhaustedKey = key;
      break;
    }
  }
  const stats = { keys: byKey.size, operations, steps };
  return exhaustedKey === null ? { ok: true, stats } : { ok: "unknown", reason: "budget", key: exhaustedKey, stats };
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
  model: Model<State, Op>,
  deadEnd: SearchDeadEnd<State>,
): Counterexample<Op> {
  const describe = (op: Op) => ({ op, text: model.describeOperation(op) });
  const inPrefix = new Set(deadEnd.prefix.map((item) => item.index));
  const stuck = ops[deadEnd.stuckIndex]!;
  const concurrent = ops
    .map((op, index) => ({ ...describe(op), inPrefix: inPrefix.has(index) }))
    .filter(({ op }) => op.callAt <= stuck.returnAt && op.returnAt >= stuck.callAt);
  return {
    model: model.name,
    key,
    operations: ops.length,
    initialState: model.describeState(model.init()),
    prefix: deadEnd.prefix.map((item) => ({ ...describe(ops[item.index]!), stateAfter: model.describeState(item.stateAfter) })),
    stuck: describe(stuck),
    concurrent,
  };
}
