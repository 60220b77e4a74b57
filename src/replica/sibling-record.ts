import { Packr } from "msgpackr";
import { assert } from "../assert.js";
import * as dvvset from "../versioning/dotted-version-vector-set.js";
import type { DottedVersionVectorSet } from "../versioning/dotted-version-vector-set.js";
import { isSibling, type Sibling } from "../versioning/sibling.js";

/**
 * The stored record of one item on the eventual path (DESIGN.md, "The eventual path"): the
 * key's whole dotted version vector set of siblings, so a replica keeps every concurrent
 * version and the causal history that decides which later write supersedes which.
 *
 * On disk: MessagePack of [format, set]. Format 2 is distinct from the single-node record's
 * format 1 (storage/record.ts), so one reader can never take the other's bytes for its own;
 * decode refuses any other number and any set that does not parse (a corrupt or foreign
 * record is an impossible state for the replica, hence an assertion, not a value).
 */
export const SIBLING_RECORD_FORMAT = 2;

// Plain MessagePack: no shared structures or records, so the bytes describe themselves.
const packr = new Packr({ useRecords: false, moreTypes: false, structuredClone: false });

export function encodeSiblingRecord(set: DottedVersionVectorSet<Sibling>): Uint8Array {
  return packr.pack([SIBLING_RECORD_FORMAT, set]);
}

export function decodeSiblingRecord(bytes: Uint8Array): DottedVersionVectorSet<Sibling> {
  const fields: unknown = packr.unpack(bytes);
  assert(Array.isArray(fields) && fields.length === 2, "sibling record: not a [format, set] pair");
  assert(fields[0] === SIBLING_RECORD_FORMAT, `sibling record: format ${String(fields[0])}; this node reads format ${SIBLING_RECORD_FORMAT}`);
  const parsed = dvvset.parse(fields[1], isSibling);
  assert(parsed.ok, `sibling record: ${parsed.ok ? "" : parsed.error}`);
  return parsed.set;
}

/**
 * The set of a stored item record, or undefined when the record is not format 2 (a strong
 * table's acceptor record shares the items namespace); a format-2 record that does not parse
 * is still an assertion.
 */
export function decodeSiblingRecordIfAny(bytes: Uint8Array): DottedVersionVectorSet<Sibling> | undefined {
  const fields: unknown = packr.unpack(bytes);
  if (!Array.isArray(fields) || fields[0] !== SIBLING_RECORD_FORMAT) return undefined;
  return decodeSiblingRecord(bytes);
}
