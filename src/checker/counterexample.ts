import { type HistoryOperation, formatInterval } from "./history.js";

/** One operation as a counterexample shows it: the operation and the model's rendering. */
export interface CounterexampleOperation<Op extends HistoryOperation> {
  readonly op: Op;
  /** e.g. `put("v1") -> ok` */
  readonly text: string;
}

/**
 * Why one key's history is not linearizable, at the deepest point the search reached: the
 * longest prefix it could linearize, the operation that then returned although no order
 * including it worked, and every operation whose interval overlaps that operation's (the ones
 * a reader has to reorder in their head to see the contradiction).
 */
export interface Counterexample<Op extends HistoryOperation> {
  readonly model: string;
  readonly key: string;
  /** Operations of this key the checker searched (failed and indeterminate reads dropped). */
  readonly operations: number;
  readonly initialState: string;
  /** In linearization order, with the model state after each. */
  readonly prefix: ReadonlyArray<CounterexampleOperation<Op> & { readonly stateAfter: string }>;
  /** Returned while unlinearized: nothing in the prefix's state could explain it. */
  readonly stuck: CounterexampleOperation<Op>;
  /** Operations overlapping `stuck` in time (itself included), by call time. */
  readonly concurrent: ReadonlyArray<CounterexampleOperation<Op> & { readonly inPrefix: boolean }>;
}

export interface FormatCounterexampleOptions {
  /** Prefix operations printed (the last ones); earlier ones are summarised as a count. */
  readonly prefixLinesMax?: number;
  /** Concurrent operations printed (the first ones by call time). */
  readonly concurrentLinesMax?: number;
}

/**
 * Renders a counterexample one operation per line with id, client, operation, output and
 * interval, e.g.
 *
 *     not linearizable (register): key "k", 3 operations
 *     longest linearizable prefix (2 of 3), from absent:
 *       #0 client c1  put("a") -> ok   [0, 10]    => "a"
 *       #1 client c1  put("b") -> ok   [20, 30]   => "b"
 *     no order works once #2 returns (state after the prefix: "b"): get() -> "a"   [40, 50]
 *     operations overlapping #2:
 *       #2 client c2  get() -> "a"   [40, 50]
 */
export function formatCounterexample<Op extends HistoryOperation>(
  counterexample: Counterexample<Op>,
  options: FormatCounterexampleOptions = {},
): string {
  const prefixLinesMax = options.prefixLinesMax ?? 20;
  const concurrentLinesMax = options.concurrentLinesMax ?? 40;
  const { prefix, stuck, concurrent } = counterexample;
  const lastState = prefix.length === 0 ? counterexample.initialState : prefix[prefix.length - 1]!.stateAfter;
  const lines = [
    `not linearizable (${counterexample.model}): key ${JSON.stringify(counterexample.key)}, ${counterexample.operations} operations`,
    `longest linearizable prefix (${prefix.length} of ${counterexample.operations}), from ${counterexample.initialState}:`,
  ];
  const shownPrefix = prefix.slice(Math.max(0, prefix.length - prefixLinesMax));
  if (shownPrefix.length < prefix.length) lines.push(`  ... ${prefix.length - shownPrefix.length} earlier operations`);
  for (const item of shownPrefix) lines.push(`  ${formatOperationLine(item)}   => ${item.stateAfter}`);
  lines.push(`no order works once #${stuck.op.id} returns (state after the prefix: ${lastState}): ${stuck.text}   ${formatInterval(stuck.op)}`);
  lines.push(`operations overlapping #${stuck.op.id}:`);
  for (const item of concurrent.slice(0, concurrentLinesMax)) {
    lines.push(`  ${formatOperationLine(item)}${item.inPrefix ? "   (in the prefix)" : ""}`);
  }
  if (concurrent.length > concurrentLinesMax) lines.push(`  ... ${concurrent.length - concurrentLinesMax} more`);
  return lines.join("\n");
}

function formatOperationLine<Op extends HistoryOperation>(item: CounterexampleOperation<Op>): string {
  return `#${item.op.id} client ${String(item.op.client)}  ${item.text}   ${formatInterval(item.op)}`;
}
