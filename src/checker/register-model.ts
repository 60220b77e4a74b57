import { unreachable } from "../assert.js";
import {
  type Absent,
  type RegisterOperation,
  type RegisterValue,
  absent,
  formatRegisterValue,
  isUnknownOutput,
} from "./history.js";
import type { Model, ModelStep } from "./model.js";

/** The per-key register state: a value, or absent (never written or deleted). */
export type RegisterState = RegisterValue | Absent;

const reject: ModelStep<never> = Object.freeze({ ok: false as const });

function accept(next: RegisterState): ModelStep<RegisterState> {
  return { ok: true, next };
}

/**
 * The sequential specification of one key of the strong path (DESIGN.md, "The strong path"):
 * a register that is a value or absent, with get, put, delete, compare-and-set and increment.
 * Each step checks the output the client saw against the state, as a single copy would answer.
 */
export const registerModel: Model<RegisterState, RegisterOperation> = {
  name: "register",
  init: () => absent,
  step: stepRegister,
  equal: (a, b) => a === b,
  hash: hashRegisterState,
  isReadOnly: isReadOnlyRegisterOperation,
  describeOperation: describeRegisterOperation,
  describeState: describeRegisterState,
  reduce: reduceRegisterHistory,
};

export function stepRegister(state: RegisterState, op: RegisterOperation): ModelStep<RegisterState> {
  const unknown = isUnknownOutput(op.output);
  switch (op.kind) {
    case "get":
      return unknown || op.output === state ? accept(state) : reject;
    case "put":
      return accept(op.input.value);
    case "delete":
      return stepDelete(state, op.output);
    case "cas":
      return stepCompareAndSet(state, op);
    case "increment":
      return stepIncrement(state, op);
    default:
      return unreachable(op);
  }
}

function stepDelete(state: RegisterState, output: Extract<RegisterOperation, { kind: "delete" }>["output"]): ModelStep<RegisterState> {
  // "deleted" and "not-found" are the variant of delete that reports whether a value existed.
  if (output === "deleted" && state === absent) return reject;
  if (output === "not-found" && state !== absent) return reject;
  return accept(absent);
}

function stepCompareAndSet(state: RegisterState, op: Extract<RegisterOperation, { kind: "cas" }>): ModelStep<RegisterState> {
  const matches = state === op.input.expected;
  if (isUnknownOutput(op.output)) return accept(matches ? op.input.value : state);
  if (op.output === "ok") return matches ? accept(op.input.value) : reject;
  return matches ? reject : accept(state);
}

function stepIncrement(state: RegisterState, op: Extract<RegisterOperation, { kind: "increment" }>): ModelStep<RegisterState> {
  // An increment of a non-number fails in the store and changes nothing; a definite numeric
  // output cannot come from such a state.
  if (typeof state === "string") return isUnknownOutput(op.output) ? accept(state) : reject;
  const next = (state ?? 0) + op.input.by;
  if (isUnknownOutput(op.output)) return accept(next);
  return op.output === next ? accept(next) : reject;
}

/**
 * Operations whose every accepted step leaves the state as it was: reads, compare-and-sets
 * reported as failed, and deletes reported as not-found.
 */
export function isReadOnlyRegisterOperation(op: RegisterOperation): boolean {
  return op.kind === "get" || (op.kind === "cas" && op.output === "fail") || (op.kind === "delete" && op.output === "not-found");
}

/**
 * The state the reduction below gives every string value that no operation observes. It starts
 * with this prefix; `reduceRegisterHistory` makes it longer when a history already holds it.
 */
export const unreadValuePrefix = "\u0000unread";

export function describeRegisterState(state: RegisterState): string {
  return typeof state === "string" && state.startsWith(unreadValuePrefix) ? "(a value no operation read)" : formatRegisterValue(state);
}

/**
 * Rewrites one key's operations (failed ones already removed) into a history that is
 * linearizable exactly when the original is, and is cheaper to search. Two steps:
 *
 * 1. Unread values merge. A string value is observed when a determinate get returns it or a
 *    compare-and-set (any outcome) expects it. Every other string is written but never
 *    observed, and no operation of the history can tell two such strings apart: a get's output
 *    and a cas's expected value equal neither; both are present for delete; an increment
 *    rejects (or, unknown, ignores) every string alike. So replacing each of them by one fresh
 *    token U is a bisimulation of the register's states: the verdict cannot change. Numbers are
 *    left alone (increments read them).
 *
 * 2. Unknown writes of U that nothing could depend on are dropped. Let w be an indeterminate
 *    put(U) or cas(e, U). If a linearization L places w, remove w from L: until the next write,
 *    the state is the one before w (s) instead of U (or e instead of U). Every operation L applied
 *    in state U is then still explained, or may be left out: puts and deletes answering "ok"
 *    ignore the state; no determinate get returns U and no cas expects it; a determinate
 *    increment rejects U, so none was there; indeterminate cas and increments left U unchanged,
 *    so L' leaves them out. The exceptions are the determinate operations U satisfies that s
 *    might not: a delete answering "deleted" (needs something present) and a cas answering
 *    "fail" (needs the state to differ from its expected value). Those are the operations w
 *    could have helped; when every one of them returned before w was called, they precede w in
 *    every linearization, and w is dropped: "it may have happened and been overwritten, or never
 *    happened" is then the same history.
 *
 * Indeterminate deletes are not dropped: "absent" is observed by gets, not-found deletes,
 * create-only cas and increments (absent counts as 0).
 */
export function reduceRegisterHistory(ops: readonly RegisterOperation[]): RegisterOperation[] {
  const observed = new Set<RegisterValue>();
  const written = new Set<string>();
  let helpersReturnedBy = -Infinity;
  for (const op of ops) {
    const unknown = isUnknownOutput(op.output);
    if (op.kind === "get" && !unknown && typeof op.output === "string") observed.add(op.output);
    if (op.kind === "cas" && op.input.expected !== absent) observed.add(op.input.expected);
    if ((op.kind === "put" || op.kind === "cas") && typeof op.input.value === "string") written.add(op.input.value);
    const helper = (op.kind === "delete" && op.output === "deleted") || (op.kind === "cas" && op.output === "fail");
    if (helper) helpersReturnedBy = Math.max(helpersReturnedBy, op.returnAt);
  }
  let unread = unreadValuePrefix;
  while (written.has(unread) || observed.has(unread)) unread += "\u0000";
  const reduced: RegisterOperation[] = [];
  for (const op of ops) {
    if ((op.kind !== "put" && op.kind !== "cas") || typeof op.input.value !== "string" || observed.has(op.input.value)) {
      reduced.push(op);
      continue;
    }
    if (isUnknownOutput(op.output) && op.callAt > helpersReturnedBy) continue;
    reduced.push({ ...op, input: { ...op.input, value: unread } } as RegisterOperation);
  }
  return reduced;
}

/** FNV-1a over the value's type tag and text; absent hashes to its own constant. */
export function hashRegisterState(state: RegisterState): number {
  if (state === absent) return 0x2545f491;
  const text = typeof state === "number" ? `n${state}` : `s${state}`;
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

export function describeRegisterOperation(op: RegisterOperation): string {
  const output = isUnknownOutput(op.output) ? "unknown" : describeOutput(op);
  return `${describeCall(op)} -> ${output}`;
}

function describeCall(op: RegisterOperation): string {
  switch (op.kind) {
    case "get":
      return "get()";
    case "put":
      return `put(${formatRegisterValue(op.input.value)})`;
    case "delete":
      return "delete()";
    case "cas":
      return `cas(${formatRegisterValue(op.input.expected)}, ${formatRegisterValue(op.input.value)})`;
    case "increment":
      return `increment(${op.input.by})`;
    default:
      return unreachable(op);
  }
}

function describeOutput(op: RegisterOperation): string {
  const output = op.output;
  if (typeof output === "object" && output !== null) return "failed" in output ? "failed" : "unknown";
  return op.kind === "get" || op.kind === "increment" ? formatRegisterValue(output) : String(output);
}
