import type { DynamoError, Result } from "../model/validation-error.js";
import type { ExpressionKind } from "./expression-parser.js";

/**
 * Inside the builders and resolvers a validation failure unwinds the tree walk as an
 * exception; `catchFailure` at each entry point turns it back into a `Result`, so callers
 * still see failures as values (STYLE.md, "Errors") and the walks stay short.
 */
export class ExpressionFailure extends Error {
  override readonly name = "ExpressionFailure";
  constructor(readonly error: DynamoError) {
    super(error.message);
  }
}

export function fail(kind: ExpressionKind, message: string): never {
  throw new ExpressionFailure({ type: "ValidationException", message: `Invalid ${kind}: ${message}` });
}

/** Throws the failure a Result carries, or returns its value. */
export function unwrap<T>(result: Result<T>): T {
  if (!result.ok) throw new ExpressionFailure(result.error);
  return result.value;
}

export function catchFailure<T>(walk: () => T): Result<T> {
  try {
    return { ok: true, value: walk() };
  } catch (error) {
    if (error instanceof ExpressionFailure) return { ok: false, error: error.error };
    throw error;
  }
}

/** A failure whose message DynamoDB does not prefix with "Invalid <Parameter>: ". */
export function failPlain(message: string): never {
  throw new ExpressionFailure({ type: "ValidationException", message });
}
