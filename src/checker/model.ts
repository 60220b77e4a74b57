import type { HistoryOperation } from "./history.js";

/** The outcome of applying one operation to a model state. */
export type ModelStep<State> = { readonly ok: true; readonly next: State } | { readonly ok: false };

/**
 * A sequential specification (Herlihy & Wing's "sequential object") the linearizability
 * checker searches against. States are immutable values: `step` returns a new one.
 *
 * `step(state, op)` says whether `op`, applied alone to `state`, could have produced
 * `op.output`, and if so the state after it. When the output is unknown (`unknownOutput`),
 * `step` must accept and return the state the operation would leave; the checker itself
 * decides whether the operation took effect at all (it may stay unlinearized). Failed
 * operations never reach `step`. `step` must depend only on the operation's kind, input and
 * output (not its id, client or times): the search treats indeterminate operations with the
 * same kind and input as interchangeable.
 */
export interface Model<State, Op extends HistoryOperation> {
  readonly name: string;
  init(): State;
  step(state: State, op: Op): ModelStep<State>;
  equal(a: State, b: State): boolean;
  /** A 32-bit hash consistent with `equal`, for the memo of visited (linearized set, state). */
  hash(state: State): number;
  /**
   * True when no step `op`'s output allows changes the state (a get; a compare-and-set that
   * reported failure). The checker drops indeterminate read-only operations (they cannot
   * explain anything) and linearizes determinate ones as soon as the state allows, which is
   * always safe: a linearization that places a read-only operation later can place it earlier.
   */
  isReadOnly(op: Op): boolean;
  /** One operation as the counterexample prints it, e.g. `put("v1") -> ok`. */
  describeOperation(op: Op): string;
  /**
   * Optional: one key's operations (call order, failed and indeterminate read-only ones already
   * removed) rewritten into a history with the same verdict that is cheaper to search, e.g. with
   * values nobody observed merged and operations nothing can depend on removed. Rewritten
   * operations keep their ids; the counterexample shows the originals.
   */
  reduce?(ops: readonly Op[]): Op[];
  describeState(state: State): string;
}
