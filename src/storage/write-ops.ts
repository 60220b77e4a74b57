import { assert } from "../assert.js";
import { unavailable, type ShoalError } from "../errors.js";
import type { WriteOp } from "./storage-engine.js";

/**
 * The largest key either engine stores. LMDB's limit (MDB_MAXKEYSIZE, 1978 bytes with lmdb-js's
 * 4 KiB pages) binds; the memory engine enforces the same number so the simulator fails where
 * production would. Callers bound keys well below this (limits.ts keyBytesMax, plus the item-key
 * escaping and the expiry-index header).
 */
export const STORAGE_KEY_BYTES_MAX = 1978;

/** Keys are 1..STORAGE_KEY_BYTES_MAX bytes; a violation is a caller's bug, not a user error. */
export function assertStorageKey(key: Uint8Array, action: string): void {
  if (!(key instanceof Uint8Array)) assert(false, `${action}: key is not bytes`);
  if (!(key.length > 0 && key.length <= STORAGE_KEY_BYTES_MAX)) assert(false, `${action}: key is ${key.length} bytes; keys are 1 to ${STORAGE_KEY_BYTES_MAX} bytes`);
}

/** Checks a batch before persisting it (assertions paired around the disk). */
export function assertWriteOps(ops: readonly WriteOp[]): void {
  assert(Array.isArray(ops), "write: ops is not an array");
  for (const op of ops) {
    // Constant action names: a template per op would build a string for every write.
    if (op.type === "put") {
      assertStorageKey(op.key, "write put");
      assert(op.value instanceof Uint8Array, "write put: value is not bytes");
    } else if (op.type === "delete") {
      assertStorageKey(op.key, "write delete");
    } else {
      assert(false, `write: unknown op type ${String((op as { type: unknown }).type)}`);
    }
  }
}

/** What a call on a closed engine fails with (a node shutting down answers 503). */
export function storageClosedError(kind: string, action: string): ShoalError {
  return unavailable("StorageClosed", `cannot ${action}: the ${kind} storage engine is closed`);
}
