import { assert } from "../assert.js";

/**
 * The DynamoDB front door's bounds (DynamoDB developer guide, "Service, account, and table
 * quotas"), kept with the module and asserted against each other at construction.
 */
export interface DynamoLimits {
  /** A request body; DynamoDB accepts up to 16 MB (a full BatchWriteItem). */
  requestBodyBytesMax: number;
  /** Data one BatchGetItem answer carries before the rest goes to UnprocessedKeys (16 MB). */
  batchGetResponseBytesMax: number;
  /** Requests this front door serves at once; beyond it, ServiceUnavailable (503) until one finishes. */
  requestsInFlightMax: number;
  /** An item: attribute names plus values (400 KB). */
  itemBytesMax: number;
  partitionKeyBytesMax: number;
  sortKeyBytesMax: number;
  /** Data one Query or Scan page reads before it stops with LastEvaluatedKey (1 MB). */
  pageBytesMax: number;
  /** Items a Query or Scan page returns at most when no Limit is given (bounds one response). */
  pageItemsMax: number;
  /** Items fetched from the store per underlying list/query call. */
  fetchItemsMax: number;
  batchGetKeysMax: number;
  batchWriteItemsMax: number;
  listTablesLimitMax: number;
  /** Scan's TotalSegments upper bound (DynamoDB: 1,000,000). */
  scanSegmentsMax: number;
  /** Expired items the TTL sweeper deletes per step, and the pause between steps. */
  ttlSweepBatchMax: number;
  ttlSweepIntervalMs: number;
  /** How far a SigV4 request time may be from the server's clock (15 minutes). */
  signatureSkewMaxMs: number;
  /** DescribeTable's ItemCount and TableSizeBytes are recounted once older than this (six hours, as DynamoDB). */
  statsMaxAgeMs: number;
  /** The pause between pages of a recount (tables/table-stats.ts). */
  statsStepIntervalMs: number;
}

const KiB = 1024;
const MiB = 1024 * KiB;

export const defaultDynamoLimits: Readonly<DynamoLimits> = Object.freeze({
  requestBodyBytesMax: 16 * MiB,
  batchGetResponseBytesMax: 16 * MiB,
  requestsInFlightMax: 4096,
  itemBytesMax: 400 * KiB,
  partitionKeyBytesMax: 2048,
  sortKeyBytesMax: 1024,
  pageBytesMax: 1 * MiB,
  pageItemsMax: 10_000,
  fetchItemsMax: 1000,
  batchGetKeysMax: 100,
  batchWriteItemsMax: 25,
  listTablesLimitMax: 100,
  scanSegmentsMax: 1_000_000,
  ttlSweepBatchMax: 100,
  ttlSweepIntervalMs: 1000,
  signatureSkewMaxMs: 15 * 60 * 1000,
  statsMaxAgeMs: 6 * 60 * 60 * 1000,
  statsStepIntervalMs: 100,
});

export function checkDynamoLimits(limits: DynamoLimits): DynamoLimits {
  for (const [name, value] of Object.entries(limits)) {
    assert(Number.isSafeInteger(value) && value > 0, `DynamoDB limit ${name} must be a positive integer, got ${value}`);
  }
  assert(limits.requestBodyBytesMax >= limits.itemBytesMax * limits.batchWriteItemsMax, "requestBodyBytesMax must admit a full BatchWriteItem");
  assert(limits.pageBytesMax >= limits.itemBytesMax, "pageBytesMax must admit the largest item");
  assert(limits.batchGetResponseBytesMax >= limits.itemBytesMax, "batchGetResponseBytesMax must admit the largest item");
  return limits;
}
