/**
 * Request bodies whose JSON text holds no backslash. JSON strings cannot hold a raw quote or a
 * raw control character (JSON.parse refuses both), and a body decoded from UTF-8 holds no lone
 * surrogate, so without a backslash (no escape sequence anywhere) no string parsed from the body
 * needs escaping when written back as JSON: it can be quoted as it is (model/item-codec.ts
 * `encodeItem`), which is many times cheaper than JSON.stringify over a long value. The front
 * door (dynamodb-api.ts) asks for the operations that use it and hands the answer to the
 * operation with the parsed body (no per-request note kept anywhere).
 */
export function isEscapeFreeText(text: Uint8Array): boolean {
  return text.indexOf(0x5c) === -1;
}
