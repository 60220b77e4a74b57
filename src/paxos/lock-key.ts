/** A key's bytes as a string, one character per byte, for maps and locks keyed by item key. */
export function lockKey(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
}
