import { badRequest } from "../errors.js";

/**
 * The opaque list cursor: base64url of a format byte and the raw key the page ended at. The
 * next page starts strictly after that key, so following cursors over an unchanging table
 * yields every key exactly once. Decoding is strict (canonical base64url, known format, key
 * within limits, inside the requested prefix): anything else is 400 InvalidCursor.
 */
const CURSOR_FORMAT = 1;

export function encodeCursor(key: Uint8Array): string {
  const bytes = Buffer.allocUnsafe(key.length + 1);
  bytes[0] = CURSOR_FORMAT;
  bytes.set(key, 1);
  return bytes.toString("base64url");
}

export function decodeCursor(cursor: string, options: { keyBytesMax: number; prefix: Uint8Array }): Uint8Array {
  const invalid = (why: string) => badRequest("InvalidCursor", `cursor is not one this server issued: ${why}`);
  if (cursor.length > Math.ceil(((options.keyBytesMax + 1) * 4) / 3) || !/^[A-Za-z0-9_-]+$/.test(cursor)) {
    throw invalid("not base64url of the expected length");
  }
  const bytes = Buffer.from(cursor, "base64url");
  if (bytes.toString("base64url") !== cursor) throw invalid("not canonical base64url");
  if (bytes[0] !== CURSOR_FORMAT) throw invalid(`unknown format ${bytes[0]}`);
  const key = bytes.subarray(1);
  if (key.length === 0 || key.length > options.keyBytesMax) throw invalid(`key of ${key.length} bytes`);
  if (!startsWith(key, options.prefix)) throw invalid("it belongs to another prefix");
  return new Uint8Array(key.buffer, key.byteOffset, key.length);
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (prefix.length > bytes.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}
