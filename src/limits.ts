import { assert } from "./assert.js";

/**
 * Every bound Shoal enforces, in one place (STYLE.md, "Limits"). Names carry the unit or
 * qualifier last. `checkLimits` asserts the relations between bounds at start-up, so a
 * configuration that could never work fails loudly instead of at the first large request.
 */
export interface Limits {
  /** Item key (UTF-8 bytes) on the native API. */
  keyBytesMax: number;
  /** Item value bytes; configurable (`limits.valueBytesMax` in the config file). */
  valueBytesMax: number;
  /** All user metadata of one item: names plus values, UTF-8 bytes. */
  metadataBytesMax: number;
  /** Number of user metadata entries of one item. */
  metadataEntriesMax: number;
  /** Any request body; must leave room for the largest value. */
  requestBodyBytesMax: number;
  /** JSON bodies of non-value endpoints (tables, batch); batches carry values inline. */
  jsonBodyBytesMax: number;
  tableNameLengthMin: number;
  tableNameLengthMax: number;
  tablesMax: number;
  /** Items returned by one list page. */
  listPageItemsMax: number;
  listPageItemsDefault: number;
  /** Reads in one batch request. */
  batchGetsMax: number;
  /** Puts plus deletes in one batch request. */
  batchWritesMax: number;
  /** Expiry in seconds a write may ask for (100 years). */
  ttlSecondsMax: number;
  /** Concurrent HTTP requests a node serves before answering 503. */
  httpInFlightMax: number;
  /** Expired items removed per background sweep step (keeps the event loop responsive). */
  expirySweepBatchMax: number;
  /** Keys deleted per step when a dropped table's items are removed in the background. */
  dropTableBatchMax: number;
  /** Concurrent siblings: warn at, refuse beyond. */
  siblingsWarn: number;
  siblingsMax: number;
  /** Node-to-node frame bytes. */
  frameBytesMax: number;
  /** Requests in flight per peer connection before the sender waits (backpressure). */
  peerInFlightMax: number;
  /** Hints kept for one unreachable node. */
  hintsPerTargetMax: number;
  /** How far a remote hybrid-logical-clock reading may run ahead of ours before we refuse it. */
  clockSkewMaxMs: number;
}

const MiB = 1024 * 1024;

export const defaultLimits: Readonly<Limits> = Object.freeze({
  keyBytesMax: 1024,
  valueBytesMax: 25 * MiB,
  metadataBytesMax: 1024,
  metadataEntriesMax: 64,
  requestBodyBytesMax: 25 * MiB + 64 * 1024,
  jsonBodyBytesMax: 32 * MiB,
  tableNameLengthMin: 3,
  tableNameLengthMax: 255,
  tablesMax: 4096,
  listPageItemsMax: 1000,
  listPageItemsDefault: 1000,
  batchGetsMax: 100,
  batchWritesMax: 1000,
  ttlSecondsMax: 100 * 365 * 24 * 3600,
  httpInFlightMax: 4096,
  expirySweepBatchMax: 500,
  dropTableBatchMax: 1000,
  siblingsWarn: 25,
  siblingsMax: 100,
  frameBytesMax: 32 * MiB,
  peerInFlightMax: 1024,
  hintsPerTargetMax: 100_000,
  clockSkewMaxMs: 60_000,
});

/** Asserts the relations between bounds; call once at start-up with the effective limits. */
export function checkLimits(limits: Limits): Limits {
  for (const [name, value] of Object.entries(limits)) {
    assert(Number.isSafeInteger(value) && value > 0, `limit ${name} must be a positive integer, got ${value}`);
  }
  assert(limits.requestBodyBytesMax >= limits.valueBytesMax, "requestBodyBytesMax must admit the largest value");
  assert(limits.frameBytesMax >= limits.valueBytesMax + limits.keyBytesMax + limits.metadataBytesMax, "frameBytesMax must admit the largest item");
  assert(limits.tableNameLengthMin <= limits.tableNameLengthMax, "tableNameLengthMin must not exceed tableNameLengthMax");
  assert(limits.listPageItemsDefault <= limits.listPageItemsMax, "listPageItemsDefault must not exceed listPageItemsMax");
  assert(limits.siblingsWarn < limits.siblingsMax, "siblingsWarn must be below siblingsMax");
  return limits;
}
