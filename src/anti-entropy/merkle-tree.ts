import { assert } from "../assert.js";
import { murmurHash3 } from "../ring/murmur-hash3.js";
import { VERSION_HASH_BYTES } from "./version-hash.js";

/**
 * The Merkle tree of one (partition, n) on one replica (Dynamo paper, section 4.7): fixed
 * fan-out 32 and depth 2, so 32 top segments over 1024 leaf segments under one root. A key
 * falls in the leaf segment named by a hash of its item key (the same on every replica), and
 * contributes a 64-bit hash of (item key, version hash).
 *
 * Every segment's hash is the XOR of its keys' contributions, so an update is O(1) per level:
 * XOR out the old contribution and XOR in the new one along the leaf's path, never a rebuild
 * on the write path; the order of updates does not matter. XOR of good 64-bit hashes keeps
 * unequal contents unequal with probability 1 - 2^-64 per comparison.
 *
 * Hashes are kept as pairs of 32-bit words in one Uint32Array (root, then 32 top segments,
 * then 1024 leaf segments) and shown as 8 bytes, big-endian.
 */
export const merkleFanOut = 32;
export const merkleLeafSegments = merkleFanOut * merkleFanOut;
export type MerkleLevel = 0 | 1 | 2;

const levelOffset = [0, 1, 1 + merkleFanOut] as const;
const levelWidth = [1, merkleFanOut, merkleLeafSegments] as const;
const segmentSeed = 0x5e9_3e47;
const contributionSeeds = [0x1eaf_0001, 0x1eaf_0002] as const;

/** The leaf segment of an item key: the same on every replica. */
export function segmentOf(itemKey: Uint8Array): number {
  return murmurHash3(itemKey, segmentSeed) & (merkleLeafSegments - 1);
}

/** A key's contribution to its segment: 64 bits of (item key, version hash). */
export function contributionOf(itemKey: Uint8Array, versionHash: Uint8Array): [high: number, low: number] {
  if (versionHash.length !== VERSION_HASH_BYTES) assert(false, "contributionOf: a version hash is 8 bytes");
  // Called twice per replica write (hash-trees.ts applies each write as a delta): one scratch
  // buffer, grown when a longer key comes, instead of an allocation per call.
  const length = itemKey.length + VERSION_HASH_BYTES;
  if (scratch.length < length) scratch = new Uint8Array(Math.max(length, 2 * scratch.length));
  scratch.set(itemKey, 0);
  scratch.set(versionHash, itemKey.length);
  const bytes = scratch.subarray(0, length);
  return [murmurHash3(bytes, contributionSeeds[0]), murmurHash3(bytes, contributionSeeds[1])];
}

let scratch = new Uint8Array(256);

export class MerkleTree {
  private readonly words = new Uint32Array(2 * (1 + merkleFanOut + merkleLeafSegments));

  /** A key's version changed from `before` to `after` (undefined: the key is absent). */
  update(itemKey: Uint8Array, before: Uint8Array | undefined, after: Uint8Array | undefined): void {
    this.updateIn(segmentOf(itemKey), itemKey, before, after);
  }

  /** `update` when the caller has the key's segment already (segmentOf(itemKey)). */
  updateIn(segment: number, itemKey: Uint8Array, before: Uint8Array | undefined, after: Uint8Array | undefined): void {
    if (before !== undefined) this.toggle(segment, ...contributionOf(itemKey, before));
    if (after !== undefined) this.toggle(segment, ...contributionOf(itemKey, after));
  }

  /** Replaces a leaf segment's hash (a rebuild from the index) and fixes its path. */
  setLeaf(segment: number, high: number, low: number): void {
    const [oldHigh, oldLow] = this.word(2, segment);
    this.toggle(segment, (oldHigh ^ high) >>> 0, (oldLow ^ low) >>> 0);
  }

  root(): Uint8Array {
    return this.hashes(0, [0]);
  }

  /** The hashes of `indexes` at `level`, 8 bytes each, concatenated. */
  hashes(level: MerkleLevel, indexes: readonly number[]): Uint8Array {
    const out = new Uint8Array(indexes.length * VERSION_HASH_BYTES);
    const view = new DataView(out.buffer);
    indexes.forEach((index, i) => {
      const [high, low] = this.word(level, index);
      view.setUint32(i * VERSION_HASH_BYTES, high);
      view.setUint32(i * VERSION_HASH_BYTES + 4, low);
    });
    return out;
  }

  isEmpty(): boolean {
    return this.words[0] === 0 && this.words[1] === 0;
  }

  private word(level: MerkleLevel, index: number): [number, number] {
    if (!(Number.isInteger(index) && index >= 0 && index < levelWidth[level])) assert(false, `segment ${index} is outside level ${level}`);
    const at = 2 * (levelOffset[level] + index);
    return [this.words[at]!, this.words[at + 1]!];
  }

  private toggle(segment: number, high: number, low: number): void {
    for (const [level, index] of [[2, segment], [1, segment >>> 5], [0, 0]] as const) {
      const at = 2 * (levelOffset[level] + index);
      this.words[at] = this.words[at]! ^ high;
      this.words[at + 1] = this.words[at + 1]! ^ low;
    }
  }
}
