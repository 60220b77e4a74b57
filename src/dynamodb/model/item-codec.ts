import { Packr } from "msgpackr";
import { assert } from "../../assert.js";
import type { AttributeValue, Item } from "./attribute-value.js";
import { defineEntry, itemToJson } from "./attribute-value-json.js";
import { itemSize } from "./item-size.js";

/**
 * An item as bytes for storage. Format 3 (written today) is the item's DynamoDB JSON as an
 * answer carries it, behind a 5-byte header: 0xC1, a byte MessagePack never uses (so no
 * format 1 or 2 item starts with it), then the item's DynamoDB size (item-size.ts) as a 32-bit
 * big-endian integer, then the JSON in UTF-8. A GetItem or Query answer splices the stored
 * text in as it is (`itemJsonText`), and capacity and the 1 MB page bound read the size from
 * the header (`storedItemSize`), so the common reads never build the model; conditions,
 * updates, projections and TTL decode it (`decodeItem`: JSON.parse, then only binaries, maps
 * and lists are rebuilt: S, N, BOOL, NULL, SS and NS already have the model's shape).
 *
 * Formats 1 and 2 (MessagePack of [format, item]) are still read. Format 2 writes every value
 * as a tagged array ([tag, payload]) and every map as a flat [name, value, name, value, ...]
 * array, never as a MessagePack map: decoding maps into objects would mangle an attribute
 * named "__proto__", which DynamoDB allows (format 3 is safe for the same reason: JSON.parse
 * makes "__proto__" an own property, and rebuilt maps use defineEntry). Decoding checks the
 * format (assert: bytes on disk were written by us, so anything else is a bug or corruption,
 * not a user error). A node of a build before format 3 cannot read format 3 items.
 */
export const itemFormat = 3;
const itemFormatTagged = 2;
const itemFormatMapShaped = 1;

const jsonMarker = 0xc1;
const jsonHeaderBytes = 5;

const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false });

const tags = { S: 0, N: 1, B: 2, BOOL: 3, NULL: 4, M: 5, L: 6, SS: 7, NS: 8, BS: 9 } as const;

type Encoded = readonly unknown[];

/**
 * Format 3 bytes of a valid item; `size` is its DynamoDB size when the caller has it already.
 * `escapeFree`: no name or string in the item needs escaping in JSON (protocol/escape-free.ts:
 * the item came from a request body without a backslash), so the text is put together without
 * JSON.stringify's per-character escaping pass; the text is the same either way.
 */
export function encodeItem(item: Item, size: number = itemSize(item), escapeFree = false): Uint8Array {
  return encodeItemJson(escapeFree ? escapeFreeItemJson(item) : JSON.stringify(itemToJson(item)), size);
}

/**
 * JSON.stringify(itemToJson(item)) for an item none of whose names and strings JSON would
 * escape: the same members in the same order (own keys, as JSON.stringify takes them).
 */
export function escapeFreeItemJson(item: Item): string {
  let out = "{";
  for (const name of Object.keys(item)) out += `${out.length === 1 ? "" : ","}"${name}":${escapeFreeValueJson(item[name]!)}`;
  return `${out}}`;
}

function escapeFreeValueJson(value: AttributeValue): string {
  if ("S" in value) return `{"S":"${value.S}"}`;
  if ("N" in value) return `{"N":"${value.N}"}`;
  if ("BOOL" in value) return value.BOOL ? '{"BOOL":true}' : '{"BOOL":false}';
  if ("NULL" in value) return '{"NULL":true}';
  if ("M" in value) return `{"M":${escapeFreeItemJson(value.M)}}`;
  if ("L" in value) return `{"L":[${value.L.map(escapeFreeValueJson).join(",")}]}`;
  if ("SS" in value) return `{"SS":[${value.SS.map(quoted).join(",")}]}`;
  if ("NS" in value) return `{"NS":[${value.NS.map(quoted).join(",")}]}`;
  if ("B" in value) return `{"B":"${toBase64(value.B)}"}`;
  return `{"BS":[${value.BS.map((member) => `"${toBase64(member)}"`).join(",")}]}`;
}

function quoted(text: string): string {
  return `"${text}"`;
}

function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

/** Format 3 bytes from an item's DynamoDB JSON text (as itemToJson and JSON.stringify make it) and its size. */
export function encodeItemJson(text: string, size: number): Uint8Array {
  assert(Number.isSafeInteger(size) && size >= 0 && size <= 0xffffffff, `encodeItem: item size ${size} does not fit the header`);
  const length = Buffer.byteLength(text, "utf8");
  const bytes = Buffer.allocUnsafe(jsonHeaderBytes + length);
  bytes[0] = jsonMarker;
  bytes.writeUInt32BE(size, 1);
  bytes.write(text, jsonHeaderBytes, length, "utf8");
  return bytes;
}

/** Format 2 bytes (MessagePack, tagged values): what builds before format 3 wrote; kept for tests of old data. */
export function encodeItemTagged(item: Item): Uint8Array {
  return packr.pack([itemFormatTagged, encodeMap(item)]);
}

export function decodeItem(bytes: Uint8Array): Item {
  if (bytes[0] === jsonMarker) return itemFromStoredJson(JSON.parse(itemJsonText(bytes)));
  const decoded: unknown = packr.unpack(bytes);
  assert(Array.isArray(decoded) && decoded.length === 2, "decodeItem: not an encoded item");
  if (decoded[0] === itemFormatMapShaped) return decodeMapShaped(decoded[1]);
  assert(decoded[0] === itemFormatTagged, `decodeItem: unknown item format ${String(decoded[0])}`);
  return decodeMap(decoded[1]);
}

/**
 * The item's DynamoDB JSON text, exactly as `JSON.stringify(itemToJson(decodeItem(bytes)))`
 * would write it: the stored text itself for format 3, built from the model for older formats.
 */
export function itemJsonText(bytes: Uint8Array): string {
  if (bytes[0] !== jsonMarker) return JSON.stringify(itemToJson(decodeItem(bytes)));
  assert(bytes.length >= jsonHeaderBytes, "decodeItem: a format 3 item shorter than its header");
  return bufferOf(bytes).toString("utf8", jsonHeaderBytes);
}

/**
 * The item's DynamoDB JSON as UTF-8 bytes (the same text as `itemJsonText`): for format 3 a
 * view of the stored bytes after the header (no copy, no decoding), built for older formats.
 */
export function itemJsonBytes(bytes: Uint8Array): Uint8Array {
  if (bytes[0] !== jsonMarker) return Buffer.from(itemJsonText(bytes), "utf8");
  assert(bytes.length >= jsonHeaderBytes, "decodeItem: a format 3 item shorter than its header");
  return bytes.subarray(jsonHeaderBytes);
}

/** The item's DynamoDB size (item-size.ts): from the header for format 3, measured for older formats. */
export function storedItemSize(bytes: Uint8Array): number {
  if (bytes[0] !== jsonMarker) return itemSize(decodeItem(bytes));
  assert(bytes.length >= jsonHeaderBytes, "decodeItem: a format 3 item shorter than its header");
  return ((bytes[1]! << 24) | (bytes[2]! << 16) | (bytes[3]! << 8) | bytes[4]!) >>> 0;
}

function bufferOf(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * The model from stored DynamoDB JSON (written by us from a valid item, so not validated
 * again): S, N, BOOL, NULL, SS and NS objects are the model's values as they are; binaries
 * (base64 in JSON) and the maps and lists around them are rebuilt.
 */
function itemFromStoredJson(json: unknown): Item {
  assert(typeof json === "object" && json !== null && !Array.isArray(json), "decodeItem: a format 3 item is not a JSON object");
  return mapFromStoredJson(json as Record<string, unknown>);
}

function mapFromStoredJson(json: Record<string, unknown>): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const name of Object.keys(json)) defineEntry(out, name, valueFromStoredJson(json[name]));
  return out;
}

function valueFromStoredJson(json: unknown): AttributeValue {
  const value = json as Record<string, unknown>;
  assert(typeof value === "object" && value !== null, "decodeItem: a stored value is not a JSON object");
  if (value.B !== undefined) return { B: fromBase64(value.B) };
  if (value.M !== undefined) return { M: mapFromStoredJson(value.M as Record<string, unknown>) };
  if (value.L !== undefined) return { L: (value.L as unknown[]).map(valueFromStoredJson) };
  if (value.BS !== undefined) return { BS: (value.BS as unknown[]).map(fromBase64) };
  return value as unknown as AttributeValue;
}

function fromBase64(text: unknown): Uint8Array {
  assert(typeof text === "string", "decodeItem: a stored binary is not base64 text");
  return new Uint8Array(Buffer.from(text, "base64"));
}

function encodeMap(map: Readonly<Record<string, AttributeValue>>): Encoded {
  const out: unknown[] = [];
  for (const [name, value] of Object.entries(map)) out.push(name, encodeValue(value));
  return out;
}

function encodeValue(value: AttributeValue): Encoded {
  if ("S" in value) return [tags.S, value.S];
  if ("N" in value) return [tags.N, value.N];
  if ("B" in value) return [tags.B, value.B];
  if ("BOOL" in value) return [tags.BOOL, value.BOOL];
  if ("NULL" in value) return [tags.NULL];
  if ("M" in value) return [tags.M, encodeMap(value.M)];
  if ("L" in value) return [tags.L, value.L.map(encodeValue)];
  if ("SS" in value) return [tags.SS, value.SS];
  if ("NS" in value) return [tags.NS, value.NS];
  return [tags.BS, value.BS];
}

function decodeMap(encoded: unknown): Record<string, AttributeValue> {
  assert(Array.isArray(encoded) && encoded.length % 2 === 0, "decodeItem: a map is a flat array of names and values");
  const out: Record<string, AttributeValue> = {};
  for (let i = 0; i < encoded.length; i += 2) {
    const name: unknown = encoded[i];
    assert(typeof name === "string", "decodeItem: an attribute name is a string");
    defineEntry(out, name, decodeValue(encoded[i + 1]));
  }
  return out;
}

function decodeValue(encoded: unknown): AttributeValue {
  assert(Array.isArray(encoded) && encoded.length >= 1, "decodeItem: a value is a tagged array");
  const payload: unknown = encoded[1];
  switch (encoded[0]) {
    case tags.S:
      return { S: payload as string };
    case tags.N:
      return { N: payload as string };
    case tags.B:
      return { B: payload as Uint8Array };
    case tags.BOOL:
      return { BOOL: payload as boolean };
    case tags.NULL:
      return { NULL: true };
    case tags.M:
      return { M: decodeMap(payload) };
    case tags.L:
      return { L: (payload as unknown[]).map(decodeValue) };
    case tags.SS:
      return { SS: payload as string[] };
    case tags.NS:
      return { NS: payload as string[] };
    case tags.BS:
      return { BS: payload as Uint8Array[] };
    default:
      assert(false, `decodeItem: unknown value tag ${String(encoded[0])}`);
  }
}

function decodeMapShaped(item: unknown): Item {
  assert(typeof item === "object" && item !== null && !Array.isArray(item), "decodeItem: the item is not a map");
  return item as Item;
}
