import { assert } from "../assert.js";

/**
 * Remembers the decoded form of recently read records, so a read of a key whose record has not
 * changed since the last read skips the MessagePack decode (a GET's largest own cost after the
 * storage read itself). A hit needs the very same record bytes: the decoded value is a pure
 * function of the bytes and is never mutated (dvvset operations return new sets), so a hit is
 * always what decoding would give; a record rewritten since simply misses and is decoded again.
 * It keeps a view of the bytes it was given, so they must be the caller's own and never reused:
 * LmdbStorageEngine.get returns a fresh copy (getBinary); a read through lmdb's getBinaryFast,
 * whose buffer the next read overwrites, would make every compare succeed against itself.
 *
 * Direct-mapped and bounded: `slots` entries indexed by a hash of the item key, each holding one
 * record of at most `recordBytesMax` bytes (larger records are decoded every time), so it keeps at
 * most slots * recordBytesMax bytes of records alive. Deterministic (no clock, no randomness).
 *
 *   const memo = new RecordMemo<Set>({ slots: 4096, recordBytesMax: 4096 });
 *   const set = memo.decode(itemKey, bytes, decodeSiblingRecord);
 */
export interface RecordMemoOptions {
  /** Entries kept; a power of two. */
  slots: number;
  /** Records larger than this are decoded every time and never kept. */
  recordBytesMax: number;
}

export const recordMemoDefaults: Readonly<RecordMemoOptions> = Object.freeze({ slots: 4096, recordBytesMax: 4096 });

interface Slot<T> {
  /** The record's bytes, as a Buffer view (made once, when stored) for a native compare. */
  bytes: Buffer;
  decoded: T;
}

export class RecordMemo<T> {
  private readonly slots: (Slot<T> | undefined)[];
  private readonly mask: number;
  private readonly recordBytesMax: number;
  hits = 0;
  misses = 0;

  constructor(options: RecordMemoOptions = recordMemoDefaults) {
    const { slots, recordBytesMax } = options;
    assert(Number.isSafeInteger(slots) && slots >= 1 && (slots & (slots - 1)) === 0, `RecordMemo: slots must be a power of two, got ${slots}`);
    assert(Number.isSafeInteger(recordBytesMax) && recordBytesMax >= 0, `RecordMemo: recordBytesMax must be a non-negative integer, got ${recordBytesMax}`);
    this.slots = new Array<Slot<T> | undefined>(slots).fill(undefined);
    this.mask = slots - 1;
    this.recordBytesMax = recordBytesMax;
  }

  /** `decode(bytes)`, or what it gave for the same bytes read at `key` before. `decode` may throw (nothing is kept then). */
  decode(key: Uint8Array, bytes: Uint8Array, decode: (bytes: Uint8Array) => T): T {
    if (bytes.byteLength > this.recordBytesMax) return decode(bytes);
    const index = keyHash(key) & this.mask;
    const slot = this.slots[index];
    if (slot !== undefined && slot.bytes.byteLength === bytes.byteLength && slot.bytes.equals(bytes)) {
      this.hits++;
      return slot.decoded;
    }
    this.misses++;
    const decoded = decode(bytes);
    this.slots[index] = { bytes: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), decoded };
    return decoded;
  }
}

/** FNV-1a over the key's bytes (32 bits). */
function keyHash(key: Uint8Array): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key[i]!, 0x01000193);
  return hash >>> 0;
}
