import type { AcceptorRecord, Proposal } from "./acceptor-record.js";
import { ACCEPTOR_RECORD_FORMAT, assertVersioned, originsMax } from "./acceptor-record.js";
import type { Ballot } from "./ballot.js";

/**
 * The acceptor record's bytes written by hand, in its own layout (acceptor-record.ts, "On
 * disk"), for the records every strong write stores: the same bytes msgpackr's `pack` gives
 * for the same fields (tests compare them byte for byte), without the general encoder's type
 * dispatch, its growing target buffer and the intermediate tuples (about a tenth of a one-node
 * PutItem's CPU in-process went to `pack`).
 *
 * The subset it writes: strings of ASCII only, and numbers that are non-negative safe integers
 * (msgpackr's choices for them: positive fixint, uint 8/16/32, float 64 above 32 bits; fixstr,
 * str 8/16/32; bin 8/16/32; fixarray, array 16). Anything else (a string with a character
 * above 0x7f, whose bytes msgpackr writes its own way for lone surrogates; a negative or
 * fractional number) answers undefined and the caller packs the record with msgpackr.
 */
export function writeAcceptorRecord(record: AcceptorRecord): Uint8Array | undefined {
  const accepted = record.accepted;
  const value = accepted?.value;
  if (value !== undefined) assertVersioned(value, "encodeAcceptorRecord");
  const size = recordSize(record);
  if (size < 0) return undefined;
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  out[at++] = 0x97;
  out[at++] = ACCEPTOR_RECORD_FORMAT;
  at = writeBallot(out, at, record.promised);
  if (accepted === undefined) {
    out[at++] = nil;
    out[at++] = nil;
    out[at++] = nil;
    out[at++] = 0x90;
    at = writeBallot(out, at, zero);
  } else {
    at = writeBallot(out, at, accepted.ballot);
    at = writeUint(out, at, accepted.acceptedAtMs);
    at = writeTail(out, at, accepted);
  }
  if (at !== size) throw new Error(`writeAcceptorRecord: wrote ${at} bytes of ${size}`);
  return out;
}

/**
 * A proposal as the last three fields of the record an acceptor stores for it (value or nil,
 * origins, origins floor), in the record's own bytes: the proposer writes them once per round,
 * and every acceptor stores them after its own head (`writeAcceptedRecord`) without encoding
 * the value again (README, "Accepts as bytes"). Undefined outside the writer's subset.
 */
export function writeProposalTail(proposal: Proposal): Uint8Array | undefined {
  const value = proposal.value;
  if (value !== undefined) assertVersioned(value, "encodeProposal");
  if (proposal.origins.length > originsMax) throw new Error(`encodeProposal: ${proposal.origins.length} origins; the bound is ${originsMax}`);
  const size = tailSize(proposal);
  // NaN (a part outside the subset) fails this test too.
  if (!(size >= 0 && size < Number.MAX_SAFE_INTEGER)) return undefined;
  const out = Buffer.allocUnsafe(size);
  const at = writeTail(out, 0, proposal);
  if (at !== size) throw new Error(`writeProposalTail: wrote ${at} bytes of ${size}`);
  return out;
}

/**
 * The record of an accept at `ballot` (promised and accepted at it) whose last three fields are
 * `tail` (a proposal's bytes, checked by whoever took them from the wire): the same bytes
 * `writeAcceptorRecord` gives for the decoded record. Undefined outside the writer's subset.
 */
export function writeAcceptedRecord(ballot: Ballot, acceptedAtMs: number, tail: Uint8Array): Uint8Array | undefined {
  const head = 2 + 2 * ballotSize(ballot) + uintSize(acceptedAtMs);
  if (!(head >= 0)) return undefined;
  const out = Buffer.allocUnsafe(head + tail.length);
  let at = 0;
  out[at++] = 0x97;
  out[at++] = ACCEPTOR_RECORD_FORMAT;
  at = writeBallot(out, at, ballot);
  at = writeBallot(out, at, ballot);
  at = writeUint(out, at, acceptedAtMs);
  out.set(tail, at);
  return out;
}

/**
 * The body of a "paxos.accept.bytes" message: MessagePack [key, ballot, next or nil, value or
 * nil, origins, originsFloor], whose last three elements are `tail` as it is. Undefined
 * outside the writer's subset.
 */
export function writeAcceptBody(key: Uint8Array, ballot: Ballot, next: Ballot | undefined, tail: Uint8Array): Uint8Array | undefined {
  const head = 1 + binSize(key.length) + ballotSize(ballot) + (next === undefined ? 1 : ballotSize(next));
  if (!(head >= 0)) return undefined;
  const out = Buffer.allocUnsafe(head + tail.length);
  let at = 0;
  out[at++] = 0x96;
  at = writeBin(out, at, key);
  at = writeBallot(out, at, ballot);
  if (next === undefined) out[at++] = nil;
  else at = writeBallot(out, at, next);
  out.set(tail, at);
  return out;
}

/** Writes the accepted value (or nil), the origins and the origins floor. */
function writeTail(out: Buffer, at: number, tail: Proposal): number {
  const value = tail.value;
  if (value === undefined) out[at++] = nil;
  else {
    out[at++] = 0x96;
    at = writeBin(out, at, value.value);
    at = writeAscii(out, at, value.contentType);
    at = writeArrayHeader(out, at, value.metadata.length * 2);
    for (const [name, text] of value.metadata) {
      at = writeAscii(out, at, name);
      at = writeAscii(out, at, text);
    }
    at = value.expiresAtMs === null ? ((out[at] = nil), at + 1) : writeUint(out, at, value.expiresAtMs);
    at = writeUint(out, at, value.timestamp);
    at = writeAscii(out, at, value.version);
  }
  at = writeArrayHeader(out, at, tail.origins.length);
  for (const origin of tail.origins) at = writeBallot(out, at, origin);
  return writeBallot(out, at, tail.originsFloor);
}

/** Bytes of `writeTail`; NaN when a part is outside the subset. */
function tailSize(tail: Proposal): number {
  const value = tail.value;
  let size = 0;
  if (value === undefined) size += 1;
  else {
    size += 1 + binSize(value.value.length) + asciiSize(value.contentType) + arrayHeaderSize(value.metadata.length * 2);
    for (const [name, text] of value.metadata) size += asciiSize(name) + asciiSize(text);
    size += (value.expiresAtMs === null ? 1 : uintSize(value.expiresAtMs)) + uintSize(value.timestamp) + asciiSize(value.version);
  }
  size += arrayHeaderSize(tail.origins.length);
  for (const origin of tail.origins) size += ballotSize(origin);
  return size + ballotSize(tail.originsFloor);
}

const nil = 0xc0;
const zero: Ballot = { counter: 0, node: "" };

/** The record's size in bytes, or -1 when it is outside the subset this writer covers. */
function recordSize(record: AcceptorRecord): number {
  const accepted = record.accepted;
  let size = 2 + ballotSize(record.promised);
  if (accepted === undefined) size += 4 + ballotSize(zero);
  else size += ballotSize(accepted.ballot) + uintSize(accepted.acceptedAtMs) + tailSize(accepted);
  // NaN (a size of a value outside the subset) fails this test too.
  return size >= 0 && size < Number.MAX_SAFE_INTEGER ? size : -1;
}

function ballotSize(ballot: Ballot): number {
  const epoch = ballot.epoch ?? 0;
  return 1 + uintSize(ballot.counter) + asciiSize(ballot.node) + (epoch === 0 ? 0 : uintSize(epoch));
}

/** Bytes of a non-negative safe integer as msgpackr writes it; NaN for any other number. */
function uintSize(value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) return Number.NaN;
  return value < 0x80 ? 1 : value < 0x100 ? 2 : value < 0x10000 ? 3 : value <= 0xffffffff ? 5 : 9;
}

/** Bytes of an ASCII string with its header; NaN when a character is above 0x7f. */
function asciiSize(text: string): number {
  const length = text.length;
  for (let i = 0; i < length; i++) if (text.charCodeAt(i) > 0x7f) return Number.NaN;
  return (length < 0x20 ? 1 : length < 0x100 ? 2 : length < 0x10000 ? 3 : 5) + length;
}

function binSize(length: number): number {
  return (length < 0x100 ? 2 : length < 0x10000 ? 3 : 5) + length;
}

function arrayHeaderSize(length: number): number {
  return length < 0x10 ? 1 : length < 0x10000 ? 3 : 5;
}

function writeBallot(out: Buffer, at: number, ballot: Ballot): number {
  const epoch = ballot.epoch ?? 0;
  out[at++] = epoch === 0 ? 0x92 : 0x93;
  at = writeUint(out, at, ballot.counter);
  at = writeAscii(out, at, ballot.node);
  return epoch === 0 ? at : writeUint(out, at, epoch);
}

function writeUint(out: Buffer, at: number, value: number): number {
  if (value < 0x80) {
    out[at] = value;
    return at + 1;
  }
  if (value < 0x100) {
    out[at] = 0xcc;
    out[at + 1] = value;
    return at + 2;
  }
  if (value < 0x10000) {
    out[at] = 0xcd;
    out.writeUInt16BE(value, at + 1);
    return at + 3;
  }
  if (value <= 0xffffffff) {
    out[at] = 0xce;
    out.writeUInt32BE(value, at + 1);
    return at + 5;
  }
  out[at] = 0xcb;
  out.writeDoubleBE(value, at + 1);
  return at + 9;
}

function writeAscii(out: Buffer, at: number, text: string): number {
  const length = text.length;
  if (length < 0x20) out[at++] = 0xa0 | length;
  else if (length < 0x100) {
    out[at++] = 0xd9;
    out[at++] = length;
  } else if (length < 0x10000) {
    out[at++] = 0xda;
    out.writeUInt16BE(length, at);
    at += 2;
  } else {
    out[at++] = 0xdb;
    out.writeUInt32BE(length, at);
    at += 4;
  }
  if (length < 0x40) {
    for (let i = 0; i < length; i++) out[at + i] = text.charCodeAt(i);
    return at + length;
  }
  return at + out.write(text, at, length, "latin1");
}

function writeBin(out: Buffer, at: number, bytes: Uint8Array): number {
  const length = bytes.length;
  if (length < 0x100) {
    out[at++] = 0xc4;
    out[at++] = length;
  } else if (length < 0x10000) {
    out[at++] = 0xc5;
    out.writeUInt16BE(length, at);
    at += 2;
  } else {
    out[at++] = 0xc6;
    out.writeUInt32BE(length, at);
    at += 4;
  }
  out.set(bytes, at);
  return at + length;
}

function writeArrayHeader(out: Buffer, at: number, length: number): number {
  if (length < 0x10) {
    out[at] = 0x90 | length;
    return at + 1;
  }
  if (length < 0x10000) {
    out[at] = 0xdc;
    out.writeUInt16BE(length, at + 1);
    return at + 3;
  }
  out[at] = 0xdd;
  out.writeUInt32BE(length, at + 1);
  return at + 5;
}
