import { assert } from "../assert.js";
import { murmurHash3 } from "./murmur-hash3.js";

/**
 * Places a partition key on the consistent-hash ring (Dynamo paper, section 4.2; Riak's
 * chash). The ring is the 32-bit hash space, split into `partitionCount` equal arcs, a power
 * of two, so a key's partition is simply the top bits of its hash: no table, no search.
 *
 * The hash is MurmurHash3 x86_32 with seed 0, fixed forever: the algorithm and the seed are part
 * of the placement contract between nodes and the partition-aware client, and changing either
 * would move every key.
 */

/** The seed every node and client uses for ring placement. */
export const ringHashSeed = 0;

/** A key's position on the ring: its hash, in [0, 2^32). */
export function ringPosition(key: Uint8Array): number {
  return murmurHash3(key, ringHashSeed);
}

/** The smallest and largest partition counts a ring may have; powers of two. */
export const partitionCountMin = 1;
export const partitionCountMax = 4096;
/** Enough partitions that claim keeps max/min share <= 1.25 up to 64 nodes (needs >= 4 per node). */
export const partitionCountDefault = 256;

export function isValidPartitionCount(partitionCount: number): boolean {
  return (
    Number.isSafeInteger(partitionCount) &&
    partitionCount >= partitionCountMin &&
    partitionCount <= partitionCountMax &&
    (partitionCount & (partitionCount - 1)) === 0
  );
}

/** The partition (the arc of the ring) that holds a position: the top log2(count) bits. */
export function partitionOfPosition(position: number, partitionCount: number): number {
  // Checked on every request, so the message is only built on failure.
  if (!isValidPartitionCount(partitionCount)) assert(false, `partition count must be a power of two in [${partitionCountMin}, ${partitionCountMax}], got ${partitionCount}`);
  // `>>> 32` would shift by 0 in JavaScript, so one partition is its own case.
  if (partitionCount === 1) return 0;
  return position >>> (32 - (31 - Math.clz32(partitionCount)));
}

/** The partition that holds a partition key. */
export function partitionOf(key: Uint8Array, partitionCount: number): number {
  return partitionOfPosition(ringPosition(key), partitionCount);
}
