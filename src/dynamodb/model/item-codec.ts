import { Packr } from "msgpackr";
import { assert } from "../../assert.js";
import type { Item } from "./attribute-value.js";

/**
 * An item as bytes for storage: MessagePack of [format, item], the item in the model's own
 * shape ({ S: "x" }, { B: bytes } as a MessagePack binary). The format number comes first so a
 * later layout can be read beside this one; decoding checks it (assert: bytes on disk were
 * written by us, so an unknown format is a bug or corruption, not a user error).
 */
export const itemFormat = 1;

const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false });

export function encodeItem(item: Item): Uint8Array {
  return packr.pack([itemFormat, item]);
}

export function decodeItem(bytes: Uint8Array): Item {
  const decoded: unknown = packr.unpack(bytes);
  assert(Array.isArray(decoded) && decoded.length === 2, "decodeItem: not an encoded item");
  assert(decoded[0] === itemFormat, `decodeItem: unknown item format ${String(decoded[0])}`);
  const item: unknown = decoded[1];
  assert(typeof item === "object" && item !== null && !Array.isArray(item), "decodeItem: the item is not a map");
  return item as Item;
}
