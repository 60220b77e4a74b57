import { scanEntriesMax, type ScanBound, type ScanRange } from "./sibling-scan.js";

/**
 * The scan messages a coordinator sends to replicas for list and query, and their check on
 * arrival (a message from the wire is not trusted: shape and bounds are checked before use).
 *
 *   { type: "replica.list" | "replica.query", prefix, low: bound | null, high: bound | null, reverse, limit, records }
 *   bound = { key: bytes, inclusive: boolean }; records = "siblings" (default) | "accepted"
 * The reply is { ok: true, entries: [key, set][] } for sibling sets, { ok: true, entries:
 * [key, value | null][] } for accepted values (null: a tombstone or only a promise), with
 * `exhausted`. `ringVersion`, on the ownership transfer's scans only: the scanner's ring version
 * (ring-fence.ts: a source on an older ring refuses the scan with "ring-behind").
 * `placedRingVersion` and `n`, on a query's scans: the ring version and n the coordinator placed
 * the partition key on (ring-fence.ts: a replica whose newer ring does not place it answers
 * { ok: false, error: "ring", ringVersion, message }); on a list's scans, the ring version the
 * coordinator worked out which members cover the table on (a replica on any newer ring refuses).
 */
export interface ScanMessage {
  type: "replica.list" | "replica.query";
  prefix: Uint8Array;
  low: ScanBound | null;
  high: ScanBound | null;
  reverse: boolean;
  limit: number;
  /** Which records to return: sibling sets (eventual tables, the default) or a strong table's accepted values. */
  records?: ScanRecords;
  /** The scanner's ring version (ownership transfer scans; ring-fence.ts). */
  ringVersion?: number;
  /** The ring version a query's coordinator placed its partition key on (a list's: its coverage), and its n (ring-fence.ts). */
  placedRingVersion?: number;
  n?: number;
}

export type ScanRecords = "siblings" | "accepted";

export function scanMessage(type: ScanMessage["type"], range: ScanRange, records: ScanRecords = "siblings", ringVersion?: number, placed?: ScanPlacement): ScanMessage {
  const message: ScanMessage = { type, prefix: range.prefix, low: range.low ?? null, high: range.high ?? null, reverse: range.reverse, limit: range.limit, records };
  if (ringVersion !== undefined) message.ringVersion = ringVersion;
  if (placed !== undefined) {
    message.placedRingVersion = placed.ringVersion;
    message.n = placed.n;
  }
  return message;
}

/** Where a query's coordinator placed the partition key it scans: its ring version and n. */
export interface ScanPlacement {
  ringVersion: number;
  n: number;
}

export type ParsedScan = { ok: true; range: ScanRange; records: ScanRecords; ringVersion?: number; placed?: ScanPlacement } | { ok: false; error: string };

export function parseScanMessage(message: unknown): ParsedScan {
  const m = message as Partial<ScanMessage> | null;
  if (m === null || typeof m !== "object") return { ok: false, error: "not an object" };
  if (!(m.prefix instanceof Uint8Array) || m.prefix.length === 0) return { ok: false, error: "prefix is not bytes" };
  if (typeof m.reverse !== "boolean") return { ok: false, error: "reverse is not a boolean" };
  if (typeof m.limit !== "number" || !Number.isSafeInteger(m.limit) || m.limit < 1 || m.limit > scanEntriesMax) {
    return { ok: false, error: `limit ${String(m.limit)} is outside 1..${scanEntriesMax}` };
  }
  if (!isBound(m.low) || !isBound(m.high)) return { ok: false, error: "a bound is not { key, inclusive }" };
  const records = m.records ?? "siblings";
  if (records !== "siblings" && records !== "accepted") return { ok: false, error: `records ${String(records)} is neither "siblings" nor "accepted"` };
  if (m.ringVersion !== undefined && !(typeof m.ringVersion === "number" && Number.isSafeInteger(m.ringVersion) && m.ringVersion >= 0)) {
    return { ok: false, error: `ringVersion ${String(m.ringVersion)} is not a non-negative integer` };
  }
  let placed: ScanPlacement | undefined;
  if (m.placedRingVersion !== undefined) {
    if (!(typeof m.placedRingVersion === "number" && Number.isSafeInteger(m.placedRingVersion) && m.placedRingVersion >= 0)) {
      return { ok: false, error: `placedRingVersion ${String(m.placedRingVersion)} is not a non-negative integer` };
    }
    if (!(typeof m.n === "number" && Number.isSafeInteger(m.n) && m.n >= 1)) return { ok: false, error: `n ${String(m.n)} is not a positive integer (it goes with placedRingVersion)` };
    placed = { ringVersion: m.placedRingVersion, n: m.n };
  }
  const range: ScanRange = { prefix: m.prefix, reverse: m.reverse, limit: m.limit };
  if (m.low) range.low = m.low;
  if (m.high) range.high = m.high;
  const parsed: ParsedScan = m.ringVersion === undefined ? { ok: true, range, records } : { ok: true, range, records, ringVersion: m.ringVersion };
  if (placed !== undefined) parsed.placed = placed;
  return parsed;
}

function isBound(value: unknown): value is ScanBound | null | undefined {
  if (value === null || value === undefined) return true;
  const bound = value as Partial<ScanBound>;
  return typeof bound === "object" && bound.key instanceof Uint8Array && typeof bound.inclusive === "boolean";
}
