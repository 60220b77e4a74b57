/**
 * Expected failures of replica and coordinator operations, as values (STYLE.md, "Errors"):
 * the edge turns them into ShoalErrors with an HTTP status.
 */
export type StoreFailureCode = "PreconditionFailed" | "ItemNotFound" | "Overloaded" | "TableNotFound";

export interface StoreFailure {
  code: StoreFailureCode;
  message: string;
}

export type StoreResult<T> = { ok: true; value: T } | { ok: false; error: StoreFailure };

export function storeFailure(code: StoreFailureCode, message: string): { ok: false; error: StoreFailure } {
  return { ok: false, error: { code, message } };
}
