/**
 * Request bodies whose JSON text holds no backslash. JSON strings cannot hold a raw quote or a
 * raw control character (JSON.parse refuses both), and a body decoded from UTF-8 holds no lone
 * surrogate, so without a backslash (no escape sequence anywhere) no string parsed from the body
 * needs escaping when written back as JSON: it can be quoted as it is (model/item-codec.ts
 * `encodeItem`), which is many times cheaper than JSON.stringify over a long value. Bodies are
 * remembered weakly by their parsed object, so nothing outlives the request.
 */
const escapeFreeBodies = new WeakSet<object>();

/** Notes that `parsed` came from `text` if `text` holds no backslash. */
export function noteEscapeFree(parsed: object, text: Buffer): void {
  if (text.indexOf(0x5c) === -1) escapeFreeBodies.add(parsed);
}

/** Whether every string parsed from this body (names and values) is free of characters JSON escapes. */
export function isEscapeFree(body: object): boolean {
  return escapeFreeBodies.has(body);
}
