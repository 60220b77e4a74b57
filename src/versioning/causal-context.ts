import { Packr } from "msgpackr";
import { assert } from "../assert.js";
import { versionVectorError, type VersionVector, type VersionVectorEntry } from "./version-vector.js";

/**
 * The causal context a read hands to the client and the client hands back with its next
 * write (Dynamo, section 4.4: "context"). It is the version vector of what the read saw
 * (dvvset `join`); a write carrying it supersedes exactly the siblings that read returned.
 *
 * To the client it is opaque: MessagePack, then base64url without padding, so it travels in
 * an HTTP header (`X-Shoal-Context`) and a URL query unescaped. The decoder does not trust
 * it: it came from outside the cluster and may be truncated, forged or hostile, so every
 * shape, count, length and counter is checked, and only the canonical encoding of a vector
 * is accepted (decode then encode gives back the same text), so one context has one text.
 *
 * Format 1: [1, nodeId, counter, nodeId, counter, ...], node ids strictly ascending.
 */
export type CausalContext = VersionVector;

export const CAUSAL_CONTEXT_FORMAT = 1;

export interface CausalContextBounds {
  /** Node ids in one context; more means a forged context or a runaway number of actors. */
  entriesMax: number;
  /** UTF-8 bytes of one node id. */
  nodeIdBytesMax: number;
  /** Largest counter accepted; far below 2^53 so events can still be added to it. */
  counterMax: number;
}

export const defaultCausalContextBounds: Readonly<CausalContextBounds> = Object.freeze({
  entriesMax: 1024,
  nodeIdBytesMax: 256,
  counterMax: 2 ** 48,
});

export type CausalContextDecodeResult = { ok: true; context: CausalContext } | { ok: false; error: string };

// Plain MessagePack: no shared structures or record extension, so the bytes describe themselves.
const packr = new Packr({ useRecords: false, moreTypes: false, structuredClone: false });
const BASE64URL = /^[A-Za-z0-9_-]*$/;
/** MessagePack bytes of one entry at most: a str16 header, the id, a float64 or uint64 counter. */
const ENTRY_BYTES_OVERHEAD_MAX = 3 + 9;

/** The longest text `decodeCausalContext` reads under `bounds`; anything longer is refused unread. */
export function causalContextCharsMax(bounds: CausalContextBounds = defaultCausalContextBounds): number {
  const bytesMax = 5 + 1 + bounds.entriesMax * (bounds.nodeIdBytesMax + ENTRY_BYTES_OVERHEAD_MAX);
  return Math.ceil((bytesMax * 4) / 3);
}

export function encodeCausalContext(context: CausalContext): string {
  const error = versionVectorError(context);
  if (error !== undefined) assert(false, `encodeCausalContext: malformed version vector: ${error}`);
  const length = packDirect(context);
  if (length >= 0) return scratch.toString("base64url", 0, length);
  return packedWithPackr(context);
}

/** The same text through msgpackr itself: what `packDirect` must equal byte for byte, and its fallback. */
function packedWithPackr(context: CausalContext): string {
  const fields: (string | number)[] = [CAUSAL_CONTEXT_FORMAT];
  for (const [nodeId, counter] of context) fields.push(nodeId, counter);
  return Buffer.from(packr.pack(fields)).toString("base64url");
}

/**
 * A read answers a context on every request, so the common vector (ASCII node ids under 256
 * characters) is written here straight into a scratch buffer, in exactly the bytes msgpackr
 * writes for the same list (plain MessagePack, smallest forms, integers above 32 bits as
 * float64; causal-context.test.ts compares the two), without packing a temporary array.
 * Returns the byte length, or -1 for a vector it leaves to msgpackr (a non-ASCII id, or more
 * bytes than the scratch buffer holds).
 */
const scratch = Buffer.alloc(4096);

function packDirect(context: CausalContext): number {
  const fieldCount = 1 + 2 * context.length;
  let at = 0;
  if (fieldCount < 16) scratch[at++] = 0x90 | fieldCount;
  else if (fieldCount < 0x10000) {
    scratch[at++] = 0xdc;
    scratch[at++] = fieldCount >> 8;
    scratch[at++] = fieldCount & 0xff;
  } else return -1;
  scratch[at++] = CAUSAL_CONTEXT_FORMAT;
  for (let i = 0; i < context.length; i++) {
    const [nodeId, counter] = context[i]!;
    const idLength = nodeId.length;
    if (idLength >= 0x100 || at + 2 + idLength + 9 > scratch.length) return -1;
    if (idLength < 0x20) scratch[at++] = 0xa0 | idLength;
    else {
      scratch[at++] = 0xd9;
      scratch[at++] = idLength;
    }
    for (let c = 0; c < idLength; c++) {
      const code = nodeId.charCodeAt(c);
      if (code >= 0x80) return -1;
      scratch[at++] = code;
    }
    at = writeCounter(counter, at);
  }
  return at;
}

function writeCounter(counter: number, at: number): number {
  if (counter < 0x80) scratch[at++] = counter;
  else if (counter < 0x100) {
    scratch[at++] = 0xcc;
    scratch[at++] = counter;
  } else if (counter < 0x10000) {
    scratch[at++] = 0xcd;
    scratch.writeUInt16BE(counter, at);
    at += 2;
  } else if (counter <= 0xffff_ffff) {
    scratch[at++] = 0xce;
    scratch.writeUInt32BE(counter, at);
    at += 4;
  } else {
    scratch[at++] = 0xcb;
    scratch.writeDoubleBE(counter, at);
    at += 8;
  }
  return at;
}

export function decodeCausalContext(
  text: unknown,
  bounds: CausalContextBounds = defaultCausalContextBounds,
): CausalContextDecodeResult {
  if (typeof text !== "string") return { ok: false, error: "causal context is not a string" };
  if (text.length === 0) return { ok: false, error: "causal context is empty" };
  const charsMax = causalContextCharsMax(bounds);
  if (text.length > charsMax) return { ok: false, error: `causal context is ${text.length} characters; the limit is ${charsMax}` };
  if (!BASE64URL.test(text)) return { ok: false, error: "causal context is not base64url (A-Z a-z 0-9 - _, no padding)" };
  let fields: unknown;
  try {
    fields = packr.unpack(Buffer.from(text, "base64url"));
  } catch {
    return { ok: false, error: "causal context is not well-formed MessagePack" };
  }
  const parsed = parseFields(fields, bounds);
  if (!parsed.ok) return parsed;
  if (encodeCausalContext(parsed.context) !== text) {
    return { ok: false, error: "causal context is not in canonical encoding" };
  }
  return parsed;
}

function parseFields(fields: unknown, bounds: CausalContextBounds): CausalContextDecodeResult {
  if (!Array.isArray(fields) || fields.length === 0) return { ok: false, error: "causal context is not a format-tagged list" };
  if (fields[0] !== CAUSAL_CONTEXT_FORMAT) {
    return { ok: false, error: `causal context has format ${String(fields[0])}; this node reads format ${CAUSAL_CONTEXT_FORMAT}` };
  }
  if (fields.length % 2 !== 1) return { ok: false, error: "causal context has a node id without a counter" };
  const entryCount = (fields.length - 1) / 2;
  if (entryCount > bounds.entriesMax) {
    return { ok: false, error: `causal context has ${entryCount} entries; the limit is ${bounds.entriesMax}` };
  }
  const context: VersionVectorEntry[] = [];
  for (let i = 1; i < fields.length; i += 2) {
    const entry = parseEntry(fields[i], fields[i + 1], bounds);
    if (typeof entry === "string") return { ok: false, error: `causal context entry ${context.length}: ${entry}` };
    context.push(entry);
  }
  const shapeError = versionVectorError(context);
  if (shapeError !== undefined) return { ok: false, error: `causal context ${shapeError}` };
  return { ok: true, context };
}

function parseEntry(nodeId: unknown, counter: unknown, bounds: CausalContextBounds): VersionVectorEntry | string {
  if (typeof nodeId !== "string" || nodeId.length === 0) return "node id is not a non-empty string";
  const idBytes = Buffer.byteLength(nodeId, "utf8");
  if (idBytes > bounds.nodeIdBytesMax) return `node id is ${idBytes} bytes; the limit is ${bounds.nodeIdBytesMax}`;
  if (typeof counter !== "number" || !Number.isSafeInteger(counter) || counter < 1) {
    return `counter of ${JSON.stringify(nodeId)} is not an integer >= 1`;
  }
  if (counter > bounds.counterMax) return `counter of ${JSON.stringify(nodeId)} is ${counter}; the limit is ${bounds.counterMax}`;
  return [nodeId, counter];
}
