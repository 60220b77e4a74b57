import { Packr } from "msgpackr";
import { assert } from "../assert.js";
import { writeAcceptBody, writeAcceptedRecord, writeAcceptorRecord, writeProposalTail } from "./acceptor-record-writer.js";
import { ballotFromTuple, ballotToTuple, ballotZero, isBallot, type Ballot } from "./ballot.js";
import type { StrongVersioned } from "./strong-coordinator.js";

/**
 * What one acceptor keeps for one key (CASPaxos, section 2.2: the promised ballot and the
 * accepted ballot with its value), stored at the item key itself in the items namespace, so a
 * table purge and a range scan (list, query) find it like any item.
 *
 * `accepted.value` undefined is a tombstone (a delete, or the identity change of an absent
 * key): accepted, so later rounds build on "absent", and collectable by the GC step once every
 * acceptor has it. `acceptedAtMs` is the acceptor's wall clock when it accepted, for an eventual
 * read's "how old may this be".
 */
export interface AcceptorRecord {
  promised: Ballot;
  accepted: AcceptedState | undefined;
}

export interface AcceptedState {
  ballot: Ballot;
  value: StrongVersioned | undefined;
  acceptedAtMs: number;
  /**
   * The value's lineage, per proposer: for each node, the ballot of its latest round that
   * computed this value or one of its ancestors (an "origin"), oldest first, at most
   * `originsMax` nodes. Ballots grow along a lineage, so a node's entry is the highest of its
   * origins in it. A proposer whose accept may have reached a minority asks on its next round
   * whether that ballot is in the current value's lineage (its entry is that ballot: its
   * change happened) or provably not (its entry is lower or absent, and the ballot is above
   * `originsFloor`). An identity change (a read) keeps the value and its origins as they are.
   */
  origins: Ballot[];
  /**
   * Below or at this ballot the lineage is unknown: entries dropped to keep `originsMax`, or a
   * history the GC step collected before this lineage started from "nothing". Every origin
   * above it is reflected in `origins`.
   */
  originsFloor: Ballot;
}

/** What a proposer asks acceptors to accept: a value (undefined: a tombstone) and its lineage. */
export type Proposal = Pick<AcceptedState, "value" | "origins" | "originsFloor">;

/** Proposer nodes a value's lineage remembers (bounds the record; see AcceptedState.origins). */
export const originsMax = 16;

/**
 * On disk: MessagePack of
 *   [3, promised [counter, node], accepted [counter, node] | null, acceptedAtMs | null,
 *    value | null, origins [[counter, node], ...], originsFloor [counter, node]]
 * with value = [bytes, contentType, metadata as [name, value, ...], expiresAtMs | null,
 * timestamp, version]. Format 3 is distinct from the single-node record (1) and the sibling
 * record (2), so no reader takes another's bytes for its own; decode refuses anything else.
 */
export const ACCEPTOR_RECORD_FORMAT = 3;

// Plain MessagePack: no shared structures or records, so the bytes describe themselves.
const packr = new Packr({ useRecords: false, moreTypes: false, structuredClone: false });

export function encodeAcceptorRecord(record: AcceptorRecord): Uint8Array {
  return writeAcceptorRecord(record) ?? encodeAcceptorRecordGeneric(record);
}

/** The same bytes through msgpackr alone (for what the hand writer, acceptor-record-writer.ts, does not cover; tests compare the two). */
export function encodeAcceptorRecordGeneric(record: AcceptorRecord): Uint8Array {
  const accepted = record.accepted;
  return packr.pack([
    ACCEPTOR_RECORD_FORMAT,
    ballotToTuple(record.promised),
    accepted === undefined ? null : ballotToTuple(accepted.ballot),
    accepted === undefined ? null : accepted.acceptedAtMs,
    accepted?.value === undefined ? null : valueToFields(accepted.value),
    (accepted?.origins ?? []).map(ballotToTuple),
    ballotToTuple(accepted?.originsFloor ?? ballotZero),
  ]);
}

/**
 * Every read of a key's record (an eventual GetItem, a local peek, the local write's look at
 * what was accepted) decodes it: `readRecord` walks the record's own layout without the
 * general MessagePack decoder; anything it does not expect (a type msgpackr would not write
 * here, bytes that end early or run on) is decoded by msgpackr instead, which gives the same
 * record or the same error.
 */
export function decodeAcceptorRecord(bytes: Uint8Array): AcceptorRecord {
  try {
    return readRecord(bytes);
  } catch {
    return decodeAcceptorRecordGeneric(bytes);
  }
}

/** The same decode through msgpackr alone (the fallback; tests compare the two). */
export function decodeAcceptorRecordGeneric(bytes: Uint8Array): AcceptorRecord {
  const fields: unknown = packr.unpack(bytes);
  assert(Array.isArray(fields) && fields.length === 7, "acceptor record: not a seven-field array");
  assert(fields[0] === ACCEPTOR_RECORD_FORMAT, `acceptor record: format ${String(fields[0])}; this node reads format ${ACCEPTOR_RECORD_FORMAT}`);
  const promised = ballotFromTuple(fields[1]);
  assert(promised !== undefined, "acceptor record: promised ballot is malformed");
  if (fields[2] === null) return { promised, accepted: undefined };
  const ballot = ballotFromTuple(fields[2]);
  assert(ballot !== undefined, "acceptor record: accepted ballot is malformed");
  const acceptedAtMs = fields[3] as number;
  assert(Number.isSafeInteger(acceptedAtMs), "acceptor record: acceptedAtMs is not a safe integer");
  const value = fields[4] === null ? undefined : valueFromFields(fields[4]);
  assert(Array.isArray(fields[5]) && fields[5].length <= originsMax, "acceptor record: origins are not a bounded list");
  const origins = (fields[5] as unknown[]).map(ballotFromTuple);
  assert(origins.every((origin) => origin !== undefined), "acceptor record: an origin ballot is malformed");
  const originsFloor = ballotFromTuple(fields[6]);
  assert(originsFloor !== undefined, "acceptor record: origins floor is malformed");
  return { promised, accepted: { ballot, value, acceptedAtMs, origins: origins as Ballot[], originsFloor } };
}

/** Thrown inside `readRecord` when the bytes leave its subset of MessagePack. */
class OutsideSubset extends Error {}
const outside = new OutsideSubset("acceptor record: outside the fast reader's subset");

/** The record being read and the read position (one record at a time; no await inside). */
let src: Buffer = Buffer.alloc(0);
let pos = 0;

/** The fast reader alone (throws outside its subset); exported for tests. */
export function readRecord(bytes: Uint8Array): AcceptorRecord {
  src = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  pos = 0;
  try {
    if (readArrayLength() !== 7 || readNumber() !== ACCEPTOR_RECORD_FORMAT) throw outside;
    const promised = readBallot();
    if (src[pos] === nil) {
      pos++;
      skipRest();
      return { promised, accepted: undefined };
    }
    const ballot = readBallot();
    const acceptedAtMs = readNumber();
    if (!Number.isSafeInteger(acceptedAtMs)) throw outside;
    const value = src[pos] === nil ? (pos++, undefined) : readValue();
    const count = readArrayLength();
    if (count > originsMax) throw outside;
    const origins: Ballot[] = [];
    for (let i = 0; i < count; i++) origins.push(readBallot());
    const originsFloor = readBallot();
    if (pos !== src.length) throw outside;
    return { promised, accepted: { ballot, value, acceptedAtMs, origins, originsFloor } };
  } finally {
    src = emptyBuffer;
  }
}

/**
 * A proposal already in the bytes its acceptor record ends with (value or nil, origins, origins
 * floor; README, "Accepts as bytes"): what a proposer encodes once per round for all of its
 * acceptors, and what an acceptor stores after its own head without encoding the value again.
 * Whoever builds one from bytes that crossed the wire checks them first (`readAcceptBody`).
 */
export interface EncodedProposal {
  readonly encoded: Uint8Array;
}

/** The proposal's record tail (the hand writer's bytes, or msgpackr's for what it does not cover). */
export function encodeProposal(proposal: Proposal): EncodedProposal {
  const written = writeProposalTail(proposal);
  if (written !== undefined) return { encoded: written };
  assert(proposal.origins.length <= originsMax, `encodeProposal: ${proposal.origins.length} origins; the bound is ${originsMax}`);
  // msgpackr writes each element of an array as it would alone: a three-element array's bytes
  // are its one-byte header (0x93) and then exactly the three fields as the record holds them.
  const packed = packr.pack([proposal.value === undefined ? null : valueToFields(proposal.value), proposal.origins.map(ballotToTuple), ballotToTuple(proposal.originsFloor)]);
  return { encoded: Buffer.from(packed.subarray(1)) };
}

/** The record an accept at `ballot` stores: promised and accepted at it, `acceptedAtMs`, then the proposal's bytes. */
export function encodeAcceptedRecord(ballot: Ballot, acceptedAtMs: number, proposal: EncodedProposal): Uint8Array {
  const written = writeAcceptedRecord(ballot, acceptedAtMs, proposal.encoded);
  if (written !== undefined) return written;
  const head = packr.pack([ACCEPTOR_RECORD_FORMAT, ballotToTuple(ballot), ballotToTuple(ballot), acceptedAtMs]);
  return Buffer.concat([Uint8Array.of(0x97), head.subarray(1), proposal.encoded]);
}

/**
 * The body of a "paxos.accept.bytes" message (paxos-messages.ts): MessagePack [key, ballot,
 * next or nil, value or nil, origins, originsFloor], whose last three elements are the
 * proposal's bytes as they are.
 */
export function encodeAcceptBody(key: Uint8Array, ballot: Ballot, next: Ballot | undefined, proposal: EncodedProposal): Uint8Array {
  const written = writeAcceptBody(key, ballot, next, proposal.encoded);
  if (written !== undefined) return written;
  const head = packr.pack([key, ballotToTuple(ballot), next === undefined ? null : ballotToTuple(next)]);
  return Buffer.concat([Uint8Array.of(0x96), head.subarray(1), proposal.encoded]);
}

/** An accept as `readAcceptBody` found it: the proposal as checked bytes, or decoded when msgpackr had to read it. */
export interface AcceptBody {
  key: Uint8Array;
  ballot: Ballot;
  next: Ballot | undefined;
  proposal: EncodedProposal | Proposal;
}

/**
 * Reads and checks an accept body (`encodeAcceptBody`), or undefined when it is malformed. The
 * fast reader walks it with the record reader's own steps, so a tail it takes is bytes that
 * `readRecord` reads back (the value's shape, at most `originsMax` origins, well-formed ballots,
 * nothing after the floor). Bytes outside its subset are decoded by msgpackr and checked field by
 * field; the proposal then comes back decoded, and the acceptor encodes its record itself.
 */
export function readAcceptBody(bytes: Uint8Array): AcceptBody | undefined {
  src = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  pos = 0;
  try {
    if (readArrayLength() !== 6) throw outside;
    const key = readBin();
    const ballot = readBallot();
    const next = src[pos] === nil ? (pos++, undefined) : readBallot();
    const tailStart = pos;
    if (src[pos] === nil) pos++;
    else readValue();
    const count = readArrayLength();
    if (count > originsMax) throw outside;
    for (let i = 0; i < count; i++) readBallot();
    readBallot();
    if (pos !== src.length || key.length === 0) throw outside;
    return { key, ballot, next, proposal: { encoded: src.subarray(tailStart) } };
  } catch {
    return readAcceptBodyGeneric(bytes);
  } finally {
    src = emptyBuffer;
  }
}

/** `readAcceptBody` through msgpackr (its fallback; tests compare the two). */
export function readAcceptBodyGeneric(bytes: Uint8Array): AcceptBody | undefined {
  try {
    const fields: unknown = packr.unpack(bytes);
    if (!Array.isArray(fields) || fields.length !== 6) return undefined;
    const [key, ballotTuple, nextTuple, valueFields, originTuples, floorTuple] = fields as unknown[];
    if (!(key instanceof Uint8Array) || key.length === 0) return undefined;
    const ballot = ballotFromTuple(ballotTuple);
    const next = nextTuple === null ? undefined : ballotFromTuple(nextTuple);
    const originsFloor = ballotFromTuple(floorTuple);
    if (ballot === undefined || (nextTuple !== null && next === undefined) || originsFloor === undefined) return undefined;
    if (!Array.isArray(originTuples) || originTuples.length > originsMax) return undefined;
    const origins = originTuples.map(ballotFromTuple);
    if (!origins.every((origin) => origin !== undefined)) return undefined;
    const value = valueFields === null ? undefined : valueFromFields(valueFields);
    return { key: new Uint8Array(key.buffer, key.byteOffset, key.byteLength), ballot, next, proposal: { value, origins: origins as Ballot[], originsFloor } };
  } catch {
    // Not MessagePack, or a value of the wrong shape (valueFromFields asserts): malformed.
    return undefined;
  }
}

/** The two ballots of a record (the promise, and the accepted ballot if any): what an accept decides on. */
export interface AcceptorRecordHead {
  promised: Ballot;
  acceptedBallot: Ballot | undefined;
}

/**
 * The record's promise and accepted ballot only, without decoding the value or the lineage
 * (an accept needs nothing else). Bytes the fast reader does not take are decoded whole, which
 * gives the same ballots or the same error; the rest is checked when the record is decoded whole.
 */
export function decodeAcceptorRecordHead(bytes: Uint8Array): AcceptorRecordHead {
  src = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  pos = 0;
  try {
    if (readArrayLength() !== 7 || readNumber() !== ACCEPTOR_RECORD_FORMAT) throw outside;
    const promised = readBallot();
    const acceptedBallot = src[pos] === nil ? undefined : readBallot();
    return { promised, acceptedBallot };
  } catch {
    const record = decodeAcceptorRecordGeneric(bytes);
    return { promised: record.promised, acceptedBallot: record.accepted?.ballot };
  } finally {
    src = emptyBuffer;
  }
}

const nil = 0xc0;
const emptyBuffer = Buffer.alloc(0);

/** Checks that the rest of the record (after a null accepted ballot) is well formed; the generic decoder ignores it too, but only if it decodes. */
function skipRest(): void {
  if (readNil() && readNil()) {
    const count = readArrayLength();
    for (let i = 0; i < count; i++) readBallot();
    readBallot();
  }
  if (pos !== src.length) throw outside;
}

function readNil(): boolean {
  if (src[pos] !== nil) throw outside;
  pos++;
  return true;
}

function readValue(): StrongVersioned {
  if (readArrayLength() !== 6) throw outside;
  const bytes = readBin();
  const contentType = readString();
  const flat = readArrayLength();
  if (flat % 2 !== 0) throw outside;
  const metadata: [string, string][] = [];
  for (let i = 0; i < flat; i += 2) metadata.push([readString(), readString()]);
  const expiresAtMs = src[pos] === nil ? (pos++, null) : readNumber();
  const timestamp = readNumber();
  const version = readString();
  const value = { value: bytes, contentType, metadata, expiresAtMs, timestamp, version };
  assertVersioned(value, "decodeAcceptorRecord");
  return value;
}

function readBallot(): Ballot {
  const length = readArrayLength();
  if (length !== 2 && length !== 3) throw outside;
  const counter = readNumber();
  const node = readString();
  const ballot: Ballot = length === 2 ? { counter, node } : { epoch: readNumber(), counter, node };
  if (!isBallot(ballot)) throw outside;
  return ballot;
}

function readArrayLength(): number {
  const byte = src[pos++]!;
  if (byte >= 0x90 && byte <= 0x9f) return byte & 0x0f;
  if (byte === 0xdc) return readUint(2);
  throw outside;
}

function readUint(width: 1 | 2 | 4): number {
  if (pos + width > src.length) throw outside;
  const value = width === 1 ? src[pos]! : width === 2 ? src.readUInt16BE(pos) : src.readUInt32BE(pos);
  pos += width;
  return value;
}

function readNumber(): number {
  const byte = src[pos++]!;
  if (byte <= 0x7f) return byte;
  if (byte >= 0xe0) return byte - 0x100;
  let value: number;
  switch (byte) {
    case 0xcc:
      return readUint(1);
    case 0xcd:
      return readUint(2);
    case 0xce:
      return readUint(4);
    case 0xcf: {
      const high = readUint(4);
      value = high * 0x1_0000_0000 + readUint(4);
      if (!Number.isSafeInteger(value)) throw outside;
      return value;
    }
    case 0xd0:
      value = pos + 1 <= src.length ? src.readInt8(pos) : Number.NaN;
      pos += 1;
      break;
    case 0xd1:
      value = pos + 2 <= src.length ? src.readInt16BE(pos) : Number.NaN;
      pos += 2;
      break;
    case 0xd2:
      value = pos + 4 <= src.length ? src.readInt32BE(pos) : Number.NaN;
      pos += 4;
      break;
    case 0xcb:
      value = pos + 8 <= src.length ? src.readDoubleBE(pos) : Number.NaN;
      pos += 8;
      break;
    default:
      throw outside;
  }
  if (Number.isNaN(value)) throw outside;
  return value;
}

function readString(): string {
  const byte = src[pos++]!;
  let length: number;
  if (byte >= 0xa0 && byte <= 0xbf) length = byte & 0x1f;
  else if (byte === 0xd9) length = readUint(1);
  else if (byte === 0xda) length = readUint(2);
  else if (byte === 0xdb) length = readUint(4);
  else throw outside;
  if (pos + length > src.length) throw outside;
  const text = src.toString("utf8", pos, pos + length);
  pos += length;
  return text;
}

function readBin(): Uint8Array {
  const byte = src[pos++]!;
  let length: number;
  if (byte === 0xc4) length = readUint(1);
  else if (byte === 0xc5) length = readUint(2);
  else if (byte === 0xc6) length = readUint(4);
  else throw outside;
  if (pos + length > src.length) throw outside;
  // A plain Uint8Array view of the record's bytes, as the generic decoder gives.
  const bytes = new Uint8Array(src.buffer, src.byteOffset + pos, length);
  pos += length;
  return bytes;
}

/**
 * The accepted value an acceptor record holds, for scans that list a strong table's items:
 * undefined for a tombstone or a key with only a promise. Expiry is the caller's to apply (it
 * has the clock). The value is what this one acceptor accepted, which may not be chosen yet.
 */
export function decodeAcceptedValue(bytes: Uint8Array): StrongVersioned | undefined {
  return decodeAcceptorRecord(bytes).accepted?.value;
}

/** Whether `bytes` are an acceptor record (so a scan can tell strong items from others). */
export function isAcceptorRecord(bytes: Uint8Array): boolean {
  // MessagePack: 0x97 opens a seven-element array, and the format number 3 is a positive fixint.
  return bytes.length > 2 && bytes[0] === 0x97 && bytes[1] === ACCEPTOR_RECORD_FORMAT;
}

type ValueFields = [Uint8Array, string, string[], number | null, number, string];

function valueToFields(value: StrongVersioned): ValueFields {
  assertVersioned(value, "encodeAcceptorRecord");
  const metadata: string[] = [];
  for (const [name, text] of value.metadata) metadata.push(name, text);
  return [value.value, value.contentType, metadata, value.expiresAtMs, value.timestamp, value.version];
}

function valueFromFields(fields: unknown): StrongVersioned {
  assert(Array.isArray(fields) && fields.length === 6, "acceptor record: value is not a six-field array");
  const [bytes, contentType, flat, expiresAtMs, timestamp, version] = fields as ValueFields;
  assert(bytes instanceof Uint8Array, "acceptor record: value is not bytes");
  assert(Array.isArray(flat) && flat.length % 2 === 0, "acceptor record: metadata is not a list of pairs");
  const metadata: [string, string][] = [];
  for (let i = 0; i < flat.length; i += 2) metadata.push([flat[i]!, flat[i + 1]!]);
  // A plain Uint8Array view (not the decoder's Buffer subclass), so callers see one type.
  const value = { value: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), contentType, metadata, expiresAtMs, timestamp, version };
  assertVersioned(value, "decodeAcceptorRecord");
  return value;
}

/** The shape both sides of the disk and the wire agree on. */
export function assertVersioned(value: StrongVersioned, action: string): void {
  assert(value.value instanceof Uint8Array, `${action}: value is not bytes`);
  assert(typeof value.contentType === "string", `${action}: contentType is not a string`);
  assert(Array.isArray(value.metadata), `${action}: metadata is not a list`);
  for (const pair of value.metadata) {
    assert(Array.isArray(pair) && pair.length === 2 && typeof pair[0] === "string" && typeof pair[1] === "string", `${action}: metadata entry is not a [name, value] pair of strings`);
  }
  assert(value.expiresAtMs === null || (Number.isSafeInteger(value.expiresAtMs) && value.expiresAtMs >= 0), `${action}: expiresAtMs ${value.expiresAtMs} is neither null nor a non-negative safe integer`);
  assert(Number.isSafeInteger(value.timestamp) && value.timestamp >= 0, `${action}: timestamp ${value.timestamp} is not a non-negative safe integer`);
  assert(typeof value.version === "string", `${action}: version is not a string`);
}
