import { Packr } from "msgpackr";
import type { StorageEngine } from "../storage/storage-engine.js";
import { metaKey } from "../storage/keyspace.js";

/**
 * Where a node's incoming ownership transfer stands, persisted after every page so a restart
 * resumes where it stopped (issue 6: "resumable: a per-partition cursor persisted in meta
 * keys"). One record per node, for one ring version: a record of another version is stale and
 * starts over. Scans go table by table, source by source; `completed` names the finished
 * (table, source) pairs and `cursor` the last key merged from the scan in progress.
 */
export interface TransferProgress {
  ringVersion: number;
  /** `${tableId}:${source}` of every finished scan. */
  completed: string[];
  cursor: { tableId: number; source: string; afterKey: Uint8Array } | null;
  done: boolean;
}

export const transferProgressKey = metaKey("handoff.ownership");
const packr = new Packr({ useRecords: false, moreTypes: false, structuredClone: false });

export function freshProgress(ringVersion: number): TransferProgress {
  return { ringVersion, completed: [], cursor: null, done: false };
}

export function scanId(tableId: number, source: string): string {
  return `${tableId}:${source}`;
}

/** The stored progress for `ringVersion`, or a fresh one (none stored, another version, or unreadable). */
export function loadProgress(storage: StorageEngine, ringVersion: number): TransferProgress {
  const bytes = storage.get(transferProgressKey);
  if (bytes === undefined) return freshProgress(ringVersion);
  const value = packr.unpack(bytes) as Partial<TransferProgress> | null;
  if (value === null || typeof value !== "object" || value.ringVersion !== ringVersion || !Array.isArray(value.completed)) return freshProgress(ringVersion);
  const cursor = value.cursor;
  const cursorOk = cursor === null || (typeof cursor === "object" && cursor !== undefined && cursor.afterKey instanceof Uint8Array && typeof cursor.source === "string" && Number.isSafeInteger(cursor.tableId));
  return { ringVersion, completed: value.completed.filter((id): id is string => typeof id === "string"), cursor: cursorOk ? (cursor ?? null) : null, done: value.done === true };
}

export function saveProgress(storage: StorageEngine, progress: TransferProgress): Promise<void> {
  return storage.write([{ type: "put", key: transferProgressKey, value: packr.pack(progress) }], { durable: true });
}
