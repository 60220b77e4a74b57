import { Packr } from "msgpackr";
import { assert } from "../assert.js";
import type { HlcTimestamp } from "../versioning/hybrid-logical-clock.js";

/**
 * The envelope a replica stores for one version of an item (DESIGN.md, "Data model"): the
 * user's bytes with their content type and metadata, the hybrid-logical-clock timestamp, the
 * version that names it (the ETag; opaque here), the tombstone flag of a delete, and the expiry.
 */
export interface StoredRecord {
  /** The user's bytes, untouched. */
  value: Uint8Array;
  contentType: string;
  metadata: Record<string, string>;
  /** Hybrid logical clock (versioning/hybrid-logical-clock.ts). */
  timestamp: HlcTimestamp;
  /** Names this version (the ETag); opaque to storage. */
  version: string;
  tombstone: boolean;
  expiresAtMs: number | null;
}

/**
 * On disk a record is a MessagePack array whose first element is the format number, then the
 * fields by position (no field names: a record is small and there are many). A new format
 * (dotted version vectors and siblings for the eventual path) gets a new number; decode keeps
 * reading every older format, and refuses one it does not know rather than guess.
 *
 * Format 1: [1, value, contentType, metadata as [name, value, name, value, ...], timestamp,
 *            version, tombstone, expiresAtMs | null]
 * Metadata is a flat list, not a map, so a name like "__proto__" is plain data on decode.
 */
export const RECORD_FORMAT = 1;
const FORMAT_1_FIELDS = 8;

// Plain MessagePack: no shared structures or record extension, so stored bytes describe
// themselves and stay readable by any MessagePack decoder.
const packr = new Packr({ useRecords: false, moreTypes: false, structuredClone: false });

export function encodeRecord(record: StoredRecord): Uint8Array {
  assertRecord(record, "encodeRecord");
  const metadata: string[] = [];
  for (const [name, value] of Object.entries(record.metadata)) metadata.push(name, value);
  return packr.pack([
    RECORD_FORMAT,
    record.value,
    record.contentType,
    metadata,
    record.timestamp,
    record.version,
    record.tombstone,
    record.expiresAtMs,
  ]);
}

export function decodeRecord(bytes: Uint8Array): StoredRecord {
  const fields: unknown = packr.unpack(bytes);
  assert(Array.isArray(fields) && fields.length > 0, "decodeRecord: stored record is not a format-tagged array");
  const format: unknown = fields[0];
  assert(format === RECORD_FORMAT, `decodeRecord: unknown record format ${String(format)}; this node reads format ${RECORD_FORMAT}`);
  return decodeFormat1(fields);
}

function decodeFormat1(fields: unknown[]): StoredRecord {
  assert(fields.length === FORMAT_1_FIELDS, `decodeRecord: format 1 has ${FORMAT_1_FIELDS} fields, got ${fields.length}`);
  const [, value, contentType, metadata, timestamp, version, tombstone, expiresAtMs] = fields;
  assert(value instanceof Uint8Array, "decodeRecord: value is not bytes");
  assert(Array.isArray(metadata) && metadata.length % 2 === 0, "decodeRecord: metadata is not a list of pairs");
  const entries: [string, string][] = [];
  for (let i = 0; i < metadata.length; i += 2) entries.push([metadata[i] as string, metadata[i + 1] as string]);
  const record = {
    // A plain Uint8Array view (not the decoder's Buffer subclass), so callers see one type.
    value: new Uint8Array(value.buffer, value.byteOffset, value.byteLength),
    contentType,
    metadata: Object.fromEntries(entries),
    timestamp,
    version,
    tombstone,
    expiresAtMs,
  } as StoredRecord;
  assertRecord(record, "decodeRecord");
  return record;
}

/** The shape both sides of the disk must agree on (asserted before persist and after decode). */
function assertRecord(record: StoredRecord, action: string): void {
  assert(record.value instanceof Uint8Array, `${action}: value is not bytes`);
  assert(typeof record.contentType === "string", `${action}: contentType is not a string`);
  assert(typeof record.metadata === "object" && record.metadata !== null, `${action}: metadata is not an object`);
  for (const [name, value] of Object.entries(record.metadata)) {
    assert(typeof name === "string" && typeof value === "string", `${action}: metadata ${name} is not a string`);
  }
  assert(Number.isSafeInteger(record.timestamp) && record.timestamp >= 0, `${action}: timestamp ${record.timestamp} is not a non-negative safe integer`);
  assert(typeof record.version === "string", `${action}: version is not a string`);
  assert(typeof record.tombstone === "boolean", `${action}: tombstone is not a boolean`);
  assert(
    record.expiresAtMs === null || (Number.isSafeInteger(record.expiresAtMs) && record.expiresAtMs >= 0),
    `${action}: expiresAtMs ${record.expiresAtMs} is neither null nor a non-negative safe integer`,
  );
}
