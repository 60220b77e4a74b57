/**
 * Expected failures of replica and coordinator operations, as values (STYLE.md, "Errors"):
 * the edge turns them into ShoalErrors with an HTTP status:
 *   PreconditionFailed 412, ItemNotFound 404, TableNotFound 404, BadRequest 400,
 *   TooManySiblings 409 (resolve the siblings with a write carrying their context),
 *   Overloaded 503, Unavailable 503 (the request could not meet its quorum; the message names how
 *   many replies it got of how many it needed. On a strong table nothing was accepted. On an
 *   eventual table a write was not acknowledged but may have reached some replicas — as in
 *   Dynamo and Riak, it may still show up and spread; retry with the read's context),
 *   Indeterminate 504 (strong tables: the outcome is unknown — accepts went out but no
 *   majority confirmed in time; a later read shows it either way).
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
