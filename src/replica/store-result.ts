/**
 * Expected failures of replica and coordinator operations, as values (STYLE.md, "Errors"):
 * the edge turns them into ShoalErrors with an HTTP status:
 *   PreconditionFailed 412, ItemNotFound 404, TableNotFound 404, BadRequest 400,
 *   TooManySiblings 409 (resolve the siblings with a write carrying their context),
 *   Overloaded 503, Unavailable 503 (nothing was written: a quorum could not be reached; the
 *   message names how many replies of how many were needed), Indeterminate 504 (the outcome is
 *   unknown: accepts went out but no majority answered in time; a read may show it either way).
 */
export type StoreFailureCode =
  | "PreconditionFailed"
  | "ItemNotFound"
  | "Overloaded"
  | "TableNotFound"
  | "BadRequest"
  | "TooManySiblings"
  | "Unavailable"
  | "Indeterminate";

export interface StoreFailure {
  code: StoreFailureCode;
  message: string;
}

export type StoreResult<T> = { ok: true; value: T } | { ok: false; error: StoreFailure };

export function storeFailure(code: StoreFailureCode, message: string): { ok: false; error: StoreFailure } {
  return { ok: false, error: { code, message } };
}
