/**
 * MurmurHash3 x86_32 (Austin Appleby, public domain algorithm), written here from the published
 * description and checked against its published test vectors and SMHasher's verification value.
 * It is fast on short keys and allocates nothing, which matters: every request hashes its key.
 */

const c1 = 0xcc9e2d51;
const c2 = 0x1b873593;

/** One 32-bit block's scramble (the algorithm's k1 step). */
function scramble(k: number): number {
  k = Math.imul(k, c1);
  k = (k << 15) | (k >>> 17);
  return Math.imul(k, c2);
}

/** MurmurHash3 x86_32 of `bytes`, as an unsigned 32-bit integer. */
export function murmurHash3(bytes: Uint8Array, seed = 0): number {
  const length = bytes.length;
  const blocksEnd = length - (length & 3);
  let h = seed | 0;
  let i = 0;
  for (; i < blocksEnd; i += 4) {
    const k = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    h ^= scramble(k);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = length & 3;
  if (tail > 0) {
    let k = bytes[i]!;
    if (tail >= 2) k |= bytes[i + 1]! << 8;
    if (tail === 3) k |= bytes[i + 2]! << 16;
    h ^= scramble(k);
  }
  return fmix32(h ^ length);
}

/** MurmurHash3's 32-bit finaliser (fmix32): every input bit affects every output bit. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
