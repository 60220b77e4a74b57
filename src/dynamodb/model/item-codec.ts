import { Packr } from "msgpackr";
import { assert } from "../../assert.js";
import type { AttributeValue, Item } from "./attribute-value.js";
import { defineEntry } from "./attribute-value-json.js";

/**
 * An item as bytes for storage: MessagePack of [format, item]. Format 2 writes every value as
 * a tagged array ([tag, payload]) and every map as a flat [name, value, name, value, ...]
 * array, never as a MessagePack map: decoding maps into objects would mangle an attribute
 * named "__proto__", which DynamoDB allows. Format 1 (the item in the model's own shape) is
 * still read. The format number comes first so later layouts can be read beside these;
 * decoding checks it (assert: bytes on disk were written by us, so anything else is a bug or
 * corruption, not a user error).
 */
export const itemFormat = 2;
const itemFormatMapShaped = 1;

const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false });

const tags = { S: 0, N: 1, B: 2, BOOL: 3, NULL: 4, M: 5, L: 6, SS: 7, NS: 8, BS: 9 } as const;

type Encoded = readonly unknown[];

export function encodeItem(item: Item): Uint8Array {
  return packr.pack([itemFormat, encodeMap(item)]);
}

export function decodeItem(bytes: Uint8Array): Item {
  const decoded: unknown = packr.unpack(bytes);
  assert(Array.isArray(decoded) && decoded.length === 2, "decodeItem: not an encoded item");
  if (decoded[0] === itemFormatMapShaped) return decodeMapShaped(decoded[1]);
  assert(decoded[0] === itemFormat, `decodeItem: unknown item format ${String(decoded[0])}`);
  return decodeMap(decoded[1]);
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
