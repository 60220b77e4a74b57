import type { NameRecord } from "./catalog-record.js";
import { digestBucketCount } from "./catalog-digest.js";
import { parseNameRecord, type NameRecordBounds } from "./parse-name-record.js";

/**
 * The "catalog." messages between nodes (all requests with a reply):
 *
 * - `catalog.merge {records}`: a change (create, update, drop) pushed by the node that made it,
 *   or the second half of a sync round. The receiver merges and persists, then answers
 *   `catalog.merged {records}`: its records for the same names after the merge, so the sender
 *   learns at once about a concurrent create the receiver already had.
 * - `catalog.digest {buckets}`: the first half of a sync round (catalog-digest.ts). The receiver
 *   answers `catalog.records {differing, records}`: which buckets differ, and its records of
 *   those buckets (up to a byte bound); the sender merges them and pushes its own records of the
 *   same buckets with `catalog.merge`.
 *
 * Everything is plain data. A message that does not parse is refused (the handler throws, and
 * the sender sees a RemoteFailure).
 */
export interface CatalogMergeMessage {
  type: "catalog.merge";
  records: NameRecord[];
}

export interface CatalogDigestMessage {
  type: "catalog.digest";
  buckets: number[];
}

export interface CatalogMergedReply {
  type: "catalog.merged";
  records: NameRecord[];
}

export interface CatalogRecordsReply {
  type: "catalog.records";
  differing: number[];
  records: NameRecord[];
}

export type CatalogMessage = CatalogMergeMessage | CatalogDigestMessage;

export interface CatalogMessageBounds extends NameRecordBounds {
  /** Records one message may carry. */
  recordsPerMessageMax: number;
}

export function parseCatalogMessage(value: unknown, bounds: CatalogMessageBounds): CatalogMessage | undefined {
  if (!isObject(value)) return undefined;
  if (value.type === "catalog.merge") {
    const records = parseRecords(value.records, bounds);
    return records === undefined ? undefined : { type: "catalog.merge", records };
  }
  if (value.type === "catalog.digest") {
    const buckets = parseBuckets(value.buckets);
    return buckets === undefined ? undefined : { type: "catalog.digest", buckets };
  }
  return undefined;
}

export function parseMergedReply(value: unknown, bounds: CatalogMessageBounds): CatalogMergedReply | undefined {
  if (!isObject(value) || value.type !== "catalog.merged") return undefined;
  const records = parseRecords(value.records, bounds);
  return records === undefined ? undefined : { type: "catalog.merged", records };
}

export function parseRecordsReply(value: unknown, bounds: CatalogMessageBounds): CatalogRecordsReply | undefined {
  if (!isObject(value) || value.type !== "catalog.records") return undefined;
  const records = parseRecords(value.records, bounds);
  const differing = value.differing;
  const validBucket = (b: unknown): b is number => Number.isInteger(b) && (b as number) >= 0 && (b as number) < digestBucketCount;
  if (records === undefined || !Array.isArray(differing) || differing.length > digestBucketCount || !differing.every(validBucket)) return undefined;
  return { type: "catalog.records", differing: differing as number[], records };
}

function parseRecords(value: unknown, bounds: CatalogMessageBounds): NameRecord[] | undefined {
  if (!Array.isArray(value) || value.length > bounds.recordsPerMessageMax) return undefined;
  const records: NameRecord[] = [];
  for (const item of value) {
    const record = parseNameRecord(item, bounds);
    if (record === undefined) return undefined;
    records.push(record);
  }
  return records;
}

function parseBuckets(value: unknown): number[] | undefined {
  if (!Array.isArray(value) || value.length !== digestBucketCount) return undefined;
  return value.every((b) => Number.isInteger(b) && b >= 0 && b <= 0xffffffff) ? (value as number[]) : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
