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

/**
 * The set each record encoded in this process came from, keyed by the very byte array handed
 * out. A replica write encodes a set and its storage layer decodes the same bytes again before
 * they reach the engine (anti-entropy's version hash, indexed-storage.ts); this answers that
 * decode without unpacking. Only that identical array hits: engines copy values on put and on
 * get, so bytes read back from storage always decode afresh. Sets are never mutated (every
 * dvvset operation returns a new one), so handing out the encoded set itself is safe. Entries
 * go with their byte arrays (a WeakMap holds no key alive).
 */
const encodedSets = new WeakMap<Uint8Array, DottedVersionVectorSet<Sibling>>();

export function encodeSiblingRecord(set: DottedVersionVectorSet<Sibling>): Uint8Array {
  const bytes = packr.pack([SIBLING_RECORD_FORMAT, set]);
  encodedSets.set(bytes, set);
  return bytes;
}

export function decodeSiblingRecord(bytes: Uint8Array): DottedVersionVectorSet<Sibling> {
  const encoded = encodedSets.get(bytes);
  if (encoded !== undefined) return encoded;
  const fields: unknown = packr.unpack(bytes);
  assert(Array.isArray(fields) && fields.length === 2, "sibling record: not a [format, set] pair");
  if (fields[0] !== SIBLING_RECORD_FORMAT) assert(false, `sibling record: format ${String(fields[0])}; this node reads format ${SIBLING_RECORD_FORMAT}`);
  return parseSet(fields[1]);
}

/**
 * The set of a stored item record, or undefined when the record is not format 2 (a strong
 * table's acceptor record shares the items namespace); a format-2 record that does not parse
 * is still an assertion. One unpack (the format check and the set come from the same pass).
 */
export function decodeSiblingRecordIfAny(bytes: Uint8Array): DottedVersionVectorSet<Sibling> | undefined {
  const encoded = encodedSets.get(bytes);
  if (encoded !== undefined) return encoded;
  const fields: unknown = packr.unpack(bytes);
  if (!Array.isArray(fields) || fields[0] !== SIBLING_RECORD_FORMAT) return undefined;
  assert(fields.length === 2, "sibling record: not a [format, set] pair");
  return parseSet(fields[1]);
}

function parseSet(data: unknown): DottedVersionVectorSet<Sibling> {
  const parsed = dvvset.parse(data, isSibling);
  if (!parsed.ok) assert(false, `sibling record: ${parsed.error}`);
  return parsed.set;
}
