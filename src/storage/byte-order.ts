/**
 * Unsigned byte order (memcmp order), the one order every storage engine sorts keys by
 * (storage-engine.ts). The order-preserving key encodings in item-key.ts and keyspace.ts rely
 * on it, and the memory engine and the prefix bounds of both engines are built on it.
 */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const diff = a[i]! - b[i]!;
    if (diff !== 0) return diff;
  }
  return a.length - b.length;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && compareBytes(a, b) === 0;
}

export function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (bytes.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) {
    if (bytes[i] !== prefix[i]) return false;
  }
  return true;
}

/**
 * The smallest key greater than every key that starts with `prefix`: the prefix plus one, with
 * carry (trailing 0xFF bytes drop off). An empty or all-0xFF prefix has no such key
 * (undefined): every key up to the end of the key space starts with it or is above it.
 */
export function prefixEnd(prefix: Uint8Array): Uint8Array | undefined {
  let last = prefix.length - 1;
  while (last >= 0 && prefix[last] === 0xff) last--;
  if (last < 0) return undefined;
  // A copy, whatever the argument is: on a Node Buffer (msgpackr decodes bytes from the wire as
  // Buffers) `slice` is a view, and the increment would corrupt the caller's prefix.
  const end = Uint8Array.prototype.slice.call(prefix, 0, last + 1);
  end[last] = end[last]! + 1;
  return end;
}

/** Concatenates byte arrays into one new array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
