/**
 * An expected failure of DynamoDB's validation, as a value (STYLE.md, "Errors"). `type` is the
 * exception name the DynamoDB front door puts in `__type`; `message` is DynamoDB's own text, so
 * clients that match on it keep working.
 */
export interface DynamoError {
  readonly type: "ValidationException" | "SerializationException";
  readonly message: string;
}

export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: DynamoError };

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function serializationError<T = never>(message: string): Result<T> {
  return { ok: false, error: { type: "SerializationException", message } };
}

export function validationError<T = never>(message: string): Result<T> {
  return { ok: false, error: { type: "ValidationException", message } };
}
