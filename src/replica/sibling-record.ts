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
 * On disk, format 4 (written): MessagePack of [4, entries, anonymous], positional all the way
 * down: each entry is [nodeId, counter, values] as in the set, and each sibling is the array
 * [value, contentType, metadata, timestamp, tombstone, expiresAtMs] instead of an object with
 * those six names. Every replica write encodes one record and most decode one, so the names
 * cost on both sides: for a 100-byte value written by three coordinators, decoding took 1.8 us
 * in format 2 and 1.0 us in format 4, and the record shrank from 268 to 186 bytes (session 10,
 * in-process; sibling-record.test.ts keeps the size in check).
 *
 * Format 2 (read, never written since): MessagePack of [2, set], the set with its sibling
 * objects as they are in memory. Records of both formats live side by side until each key is
 * written again; nothing rewrites them. Builds that know only format 2 cannot read format 4
 * records (a primary answers a coordinator's read with its record's bytes, `replica.fetch`
 * with `record`), so a cluster is upgraded from such a build one way only.
 *
 * Both are distinct from the single-node record's format 1 (storage/record.ts) and the
 * acceptor record's format 3 (paxos/acceptor-record.ts), so one reader can never take another's
 * bytes for its own; decode refuses any other number and any set that does not parse (a
 * corrupt or foreign record is an impossible state for the replica, hence an assertion, not a
 * value).
 */
export const SIBLING_RECORD_FORMAT = 4;

/** The format this node wrote before SIBLING_RECORD_FORMAT, still read (see above). */
export const SIBLING_RECORD_FORMAT_NAMED = 2;

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
  const bytes = packRecord(set);
  encodedSets.set(bytes, set);
  return bytes;
}

export function decodeSiblingRecord(bytes: Uint8Array): DottedVersionVectorSet<Sibling> {
  const encoded = encodedSets.get(bytes);
  if (encoded !== undefined) return encoded;
  const fields: unknown = packr.unpack(bytes);
  const format = Array.isArray(fields) ? (fields[0] as unknown) : undefined;
  if (format !== SIBLING_RECORD_FORMAT && format !== SIBLING_RECORD_FORMAT_NAMED) {
    assert(Array.isArray(fields), "sibling record: not an array");
    assert(false, `sibling record: format ${String(format)}; this node reads formats ${SIBLING_RECORD_FORMAT_NAMED} and ${SIBLING_RECORD_FORMAT}`);
  }
  return setOf(fields as unknown[]);
}

/**
 * The set of a stored item record, or undefined when the record is not a sibling record (a
 * strong table's acceptor record shares the items namespace); a sibling record that does not
 * parse is still an assertion. One unpack (the format check and the set come from the same pass).
 */
export function decodeSiblingRecordIfAny(bytes: Uint8Array): DottedVersionVectorSet<Sibling> | undefined {
  const encoded = encodedSets.get(bytes);
  if (encoded !== undefined) return encoded;
  const fields: unknown = packr.unpack(bytes);
  if (!Array.isArray(fields) || (fields[0] !== SIBLING_RECORD_FORMAT && fields[0] !== SIBLING_RECORD_FORMAT_NAMED)) return undefined;
  return setOf(fields);
}

/** The set of an unpacked record whose format number is one this node reads. */
function setOf(fields: unknown[]): DottedVersionVectorSet<Sibling> {
  if (fields[0] === SIBLING_RECORD_FORMAT_NAMED) {
    assert(fields.length === 2, "sibling record: not a [format, set] pair");
    return parseSet(fields[1]);
  }
  assert(fields.length === 3, "sibling record: not [format, entries, anonymous]");
  const [, entries, anonymous] = fields;
  assert(Array.isArray(entries) && Array.isArray(anonymous), "sibling record: entries or anonymous values are not lists");
  // Each stored sibling's fields become a Sibling in place (the arrays are this unpack's own),
  // then the same parse as format 2 checks the set (order, counters, bounds, siblings).
  for (let i = 0; i < entries.length; i++) {
    const entry: unknown = entries[i];
    if (Array.isArray(entry) && entry.length === 3 && Array.isArray(entry[2])) siblingsInPlace(entry[2] as unknown[]);
  }
  siblingsInPlace(anonymous);
  return parseSet({ entries, anonymous });
}

function parseSet(data: unknown): DottedVersionVectorSet<Sibling> {
  const parsed = dvvset.parse(data, isSibling);
  if (!parsed.ok) assert(false, `sibling record: ${parsed.error}`);
  return parsed.set;
}

/** Stored fields made siblings; anything that is not six fields is left as it is for parse (isSibling) to refuse. */
function siblingsInPlace(values: unknown[]): void {
  for (let i = 0; i < values.length; i++) {
    const fields: unknown = values[i];
    if (!Array.isArray(fields) || fields.length !== 6) continue;
    values[i] = { value: fields[0], contentType: fields[1], metadata: fields[2], timestamp: fields[3], tombstone: fields[4], expiresAtMs: fields[5] };
  }
}

/**
 * Format 4's MessagePack, written by hand into one buffer: the record is encoded on every
 * replica write, and building the positional arrays for packr first cost as much as the names
 * it saves. The bytes are plain MessagePack that packr.unpack reads back to the same set
 * (sibling-record.test.ts checks random sets both ways): arrays with their exact lengths,
 * strings as UTF-8, values as bin, integers in 0..2^32-1 in their shortest uint form and
 * every other number as a float64 (exact for the safe integers a set holds).
 */
function packRecord(set: DottedVersionVectorSet<Sibling>): Uint8Array {
  const writer = RecordWriter.shared(boundOf(set));
  writer.arrayHeader(3);
  writer.number(SIBLING_RECORD_FORMAT);
  writer.arrayHeader(set.entries.length);
  for (let i = 0; i < set.entries.length; i++) {
    const [nodeId, counter, values] = set.entries[i]!;
    writer.arrayHeader(3);
    writer.string(nodeId);
    writer.number(counter);
    writer.arrayHeader(values.length);
    for (let j = 0; j < values.length; j++) writer.sibling(values[j]!);
  }
  writer.arrayHeader(set.anonymous.length);
  for (let i = 0; i < set.anonymous.length; i++) writer.sibling(set.anonymous[i]!);
  return writer.bytes();
}

/** Bytes the record can take at most: every header at its widest, every string at 3 bytes a UTF-16 unit. */
function boundOf(set: DottedVersionVectorSet<Sibling>): number {
  let bound = 5 + 1 + 5 + 5;
  for (const [nodeId, , values] of set.entries) {
    bound += 5 + stringBound(nodeId) + 9 + 5;
    for (const sibling of values) bound += siblingBound(sibling);
  }
  for (const sibling of set.anonymous) bound += siblingBound(sibling);
  return bound;
}

function siblingBound(sibling: Sibling): number {
  let bound = 5 + 5 + sibling.value.length + stringBound(sibling.contentType) + 5 + 9 + 1 + 9;
  for (const [name, value] of sibling.metadata) bound += 5 + stringBound(name) + stringBound(value);
  return bound;
}

function stringBound(text: string): number {
  return 5 + 3 * text.length;
}

const utf8 = new TextEncoder();

/** Bytes of one chunk that records are written into, one after another (`RecordWriter.shared`). */
const chunkBytes = 16 * 1024;

class RecordWriter {
  private static writer = new RecordWriter(new Uint8Array(chunkBytes));
  private readonly view: DataView;
  /** Where the record being written starts in the chunk. */
  private start = 0;
  private at = 0;

  private constructor(private readonly buffer: Uint8Array) {
    this.view = new DataView(buffer.buffer);
  }

  /**
   * The one writer, its next record starting where the last one ended, with room for `bound`
   * bytes (encoding is synchronous, so no two records are written at once). Each record is a
   * view of the chunk, not an array of its own: an ArrayBuffer per record made the collector
   * about 50% busier on the replica's write path than packr, which hands out views of a shared
   * buffer in the same way. A record kept alive keeps its chunk alive; storage engines copy
   * what they store, so records are short-lived.
   */
  static shared(bound: number): RecordWriter {
    const writer = RecordWriter.writer;
    if (writer.buffer.length - writer.at < bound) RecordWriter.writer = new RecordWriter(new Uint8Array(Math.max(bound, chunkBytes)));
    RecordWriter.writer.start = RecordWriter.writer.at;
    return RecordWriter.writer;
  }

  /** The record just written (what storage keeps and the WeakMap keys): a view of the chunk, its own from here on. */
  bytes(): Uint8Array {
    return this.buffer.subarray(this.start, this.at);
  }

  sibling(sibling: Sibling): void {
    this.arrayHeader(6);
    this.binary(sibling.value);
    this.string(sibling.contentType);
    this.arrayHeader(sibling.metadata.length);
    for (const [name, value] of sibling.metadata) {
      this.arrayHeader(2);
      this.string(name);
      this.string(value);
    }
    this.number(sibling.timestamp);
    this.buffer[this.at++] = sibling.tombstone ? 0xc3 : 0xc2;
    if (sibling.expiresAtMs === null) this.buffer[this.at++] = 0xc0;
    else this.number(sibling.expiresAtMs);
  }

  arrayHeader(length: number): void {
    if (length < 16) this.buffer[this.at++] = 0x90 | length;
    else if (length < 0x1_0000) this.header(0xdc, length, 2);
    else this.header(0xdd, length, 4);
  }

  number(value: number): void {
    if (Number.isInteger(value) && value >= 0 && value <= 0xffff_ffff) {
      if (value < 0x80) this.buffer[this.at++] = value;
      else if (value < 0x100) this.header(0xcc, value, 1);
      else if (value < 0x1_0000) this.header(0xcd, value, 2);
      else this.header(0xce, value, 4);
      return;
    }
    this.buffer[this.at++] = 0xcb;
    this.view.setFloat64(this.at, value);
    this.at += 8;
  }

  string(text: string): void {
    // Short ASCII (node ids, content types) byte by byte; anything else through the encoder,
    // after a header wide enough for the longest UTF-8 it can be, shrunk to fit once known.
    if (text.length < 32 && isAscii(text)) {
      this.buffer[this.at++] = 0xa0 | text.length;
      for (let i = 0; i < text.length; i++) this.buffer[this.at++] = text.charCodeAt(i);
      return;
    }
    const start = this.at;
    this.at += 5;
    const { written } = utf8.encodeInto(text, this.buffer.subarray(this.at));
    const header = written < 32 ? 1 : written < 0x100 ? 2 : written < 0x1_0000 ? 3 : 5;
    this.buffer.copyWithin(start + header, this.at, this.at + written);
    this.at = start;
    if (header === 1) this.buffer[this.at++] = 0xa0 | written;
    else if (header === 2) this.header(0xd9, written, 1);
    else if (header === 3) this.header(0xda, written, 2);
    else this.header(0xdb, written, 4);
    this.at += written;
  }

  binary(value: Uint8Array): void {
    if (value.length < 0x100) this.header(0xc4, value.length, 1);
    else if (value.length < 0x1_0000) this.header(0xc5, value.length, 2);
    else this.header(0xc6, value.length, 4);
    this.buffer.set(value, this.at);
    this.at += value.length;
  }

  /** A type byte and a big-endian unsigned length or value of `width` bytes. */
  private header(type: number, value: number, width: 1 | 2 | 4): void {
    this.buffer[this.at++] = type;
    if (width === 1) this.buffer[this.at] = value;
    else if (width === 2) this.view.setUint16(this.at, value);
    else this.view.setUint32(this.at, value);
    this.at += width;
  }
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) >= 0x80) return false;
  return true;
}
