import { assert } from "../assert.js";

/**
 * The history model the linearizability checker reads (TESTING.md, "The linearizability
 * checker"; Herlihy & Wing 1990). An operation is a closed interval [callAt, returnAt] on one
 * real-time axis plus what the client asked and what it was told. Time is any number: virtual
 * milliseconds in the simulator, a monotonic clock in multi-process tests. All operations of
 * one history must be timed by the same clock, and that clock must not jump backwards (a
 * node's wall clock may; the simulator's true time and `performance.now()` do not).
 *
 * Three kinds of outcome:
 * - a definite output (`"ok"`, a value, ...): the operation took effect once, inside its
 *   interval, and produced that output;
 * - failed (`failedOutput(...)`, e.g. a 503 before any acceptor could accept): it did not take
 *   effect; the checker drops it;
 * - unknown (`unknownOutput`, e.g. a timeout or a crashed client): it may have taken effect at
 *   any point after its call, or never. Such an operation returns at +Infinity.
 */

/** Who issued an operation; operations of one client are usually sequential, but need not be. */
export type ClientId = string | number;

export interface UnknownOutput {
  readonly unknown: true;
}

export interface FailedOutput {
  readonly failed: true;
  readonly reason?: string;
}

/** The output of an operation whose outcome is indeterminate (timed out, client crashed). */
export const unknownOutput: UnknownOutput = Object.freeze({ unknown: true as const });

/** The output of an operation that definitely did not take effect. */
export function failedOutput(reason?: string): FailedOutput {
  return reason === undefined ? { failed: true } : { failed: true, reason };
}

/**
 * One operation of a history, generic over the operation's kind, input and output so that
 * models other than the register (queues later) reuse the checker. `output` is either the
 * definite output, `unknownOutput`, or a `FailedOutput`.
 */
export interface HistoryOperation<Kind extends string = string, Input = unknown, Output = unknown> {
  readonly id: number;
  readonly client: ClientId;
  /** Linearizability is local (Herlihy & Wing, theorem 1): the checker splits by key. */
  readonly key: string;
  readonly kind: Kind;
  readonly input: Input;
  readonly output: Output | UnknownOutput | FailedOutput;
  readonly callAt: number;
  /** +Infinity exactly when the output is unknown. */
  readonly returnAt: number;
}

/** A register holds a string or a number; values compare with `===`. */
export type RegisterValue = string | number;

/** The register's "nothing stored" (never written, or deleted). */
export const absent = null;
export type Absent = typeof absent;

/**
 * The operations of the per-key register (register-model.ts):
 * - get -> the value or `absent`;
 * - put(value) -> "ok";
 * - delete -> "ok", or "deleted" / "not-found" when the store reports whether something existed;
 * - cas(expected, value) -> "ok" | "fail"; `expected: absent` means create-only (If-None-Match: *);
 * - increment(by) -> the new value (absent counts as 0).
 */
export type RegisterOperation =
  | HistoryOperation<"get", null, RegisterValue | Absent>
  | HistoryOperation<"put", { readonly value: RegisterValue }, "ok">
  | HistoryOperation<"delete", null, "ok" | "deleted" | "not-found">
  | HistoryOperation<"cas", { readonly expected: RegisterValue | Absent; readonly value: RegisterValue }, "ok" | "fail">
  | HistoryOperation<"increment", { readonly by: number }, number>;

export type RegisterKind = RegisterOperation["kind"];

export function isUnknownOutput(output: unknown): output is UnknownOutput {
  return typeof output === "object" && output !== null && (output as { unknown?: unknown }).unknown === true;
}

export function isFailedOutput(output: unknown): output is FailedOutput {
  return typeof output === "object" && output !== null && (output as { failed?: unknown }).failed === true;
}

/** An operation that may or may not have taken effect. */
export function isIndeterminate(op: HistoryOperation): boolean {
  return isUnknownOutput(op.output);
}

/** An operation that definitely did not take effect. */
export function isFailed(op: HistoryOperation): boolean {
  return isFailedOutput(op.output);
}

/**
 * Asserts the shape the checker relies on: unique ids, finite calls, returns not before calls,
 * and +Infinity returns exactly for unknown outputs (a timed-out request may still take effect
 * after the client gave up, so its interval never closes).
 */
export function validateHistory(history: readonly HistoryOperation[]): void {
  const ids = new Set<number>();
  for (const op of history) {
    assert(!ids.has(op.id), `history has two operations with id ${op.id}`);
    ids.add(op.id);
    assert(Number.isFinite(op.callAt), `operation ${op.id} calls at ${op.callAt}; calls must be finite`);
    assert(op.returnAt >= op.callAt, `operation ${op.id} returns at ${op.returnAt}, before its call at ${op.callAt}`);
    const unknown = isUnknownOutput(op.output);
    assert(
      unknown === (op.returnAt === Infinity),
      unknown
        ? `operation ${op.id} has an unknown output but returns at ${op.returnAt}; indeterminate operations return at Infinity`
        : `operation ${op.id} returns at Infinity but has a definite output; give it unknownOutput`,
    );
  }
}

/** "[10, 25]" or "[10, ∞)": closed intervals, open at infinity. */
export function formatInterval(op: HistoryOperation): string {
  return op.returnAt === Infinity ? `[${op.callAt}, ∞)` : `[${op.callAt}, ${op.returnAt}]`;
}

/** "absent", "\"v1\"", "7": how the checker prints a register value. */
export function formatRegisterValue(value: RegisterValue | Absent): string {
  return value === absent ? "absent" : JSON.stringify(value);
}
