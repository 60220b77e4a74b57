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
  describeState: formatRegisterValue,
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
