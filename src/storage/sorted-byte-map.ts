import { assert } from "../assert.js";
import { compareBytes } from "./byte-order.js";
import { aboveLow, belowHigh, type Bound } from "./range-bounds.js";
import type { Entry } from "./storage-engine.js";

interface Chunk {
  keys: Uint8Array[];
  values: Uint8Array[];
}

interface Position {
  chunk: number;
  index: number;
}

/** Entries per chunk before it splits; bounds the cost of one insert or delete. */
const CHUNK_ENTRIES_MAX = 512;

/**
 * An ordered map from byte keys (memcmp order) to byte values: a sorted list of sorted chunks,
 * so a lookup is two binary searches and an insert or delete moves at most one chunk's entries
 * plus the chunk list. That keeps the memory engine usable at hundreds of thousands of keys
 * without a tree. Scans are lazy and survive writes between steps: after a change they re-seek
 * past the last key they returned.
 */
export class SortedByteMap {
  private chunks: Chunk[] = [];
  private entryCount = 0;
  private mutations = 0;

  get size(): number {
    return this.entryCount;
  }

  get(key: Uint8Array): Uint8Array | undefined {
    const position = this.ceiling({ key, inclusive: true });
    if (position === undefined) return undefined;
    const chunk = this.chunks[position.chunk]!;
    return compareBytes(chunk.keys[position.index]!, key) === 0 ? chunk.values[position.index] : undefined;
  }

  /** Sets `key` and returns the value it replaced, if any. The map keeps the arrays given. */
  set(key: Uint8Array, value: Uint8Array): Uint8Array | undefined {
    this.mutations++;
    const position = this.ceiling({ key, inclusive: true });
    if (position === undefined) {
      this.append(key, value);
      return undefined;
    }
    const chunk = this.chunks[position.chunk]!;
    if (compareBytes(chunk.keys[position.index]!, key) === 0) {
      const previous = chunk.values[position.index];
      chunk.values[position.index] = value;
      return previous;
    }
    chunk.keys.splice(position.index, 0, key);
    chunk.values.splice(position.index, 0, value);
    this.entryCount++;
    this.splitIfFull(position.chunk);
    return undefined;
  }

  /** Removes `key` and returns the value it had, if any. */
  delete(key: Uint8Array): Uint8Array | undefined {
    const position = this.ceiling({ key, inclusive: true });
    if (position === undefined) return undefined;
    const chunk = this.chunks[position.chunk]!;
    if (compareBytes(chunk.keys[position.index]!, key) !== 0) return undefined;
    this.mutations++;
    const previous = chunk.values[position.index];
    chunk.keys.splice(position.index, 1);
    chunk.values.splice(position.index, 1);
    if (chunk.keys.length === 0) this.chunks.splice(position.chunk, 1);
    this.entryCount--;
    return previous;
  }

  /** Entries between the bounds, ascending (or descending), read lazily. */
  *scan(bounds: { low?: Bound; high?: Bound }, reverse: boolean): Generator<Entry> {
    let position = reverse ? this.seekHigh(bounds.high) : this.seekLow(bounds.low);
    let seen = this.mutations;
    while (position !== undefined) {
      const chunk = this.chunks[position.chunk]!;
      const key = chunk.keys[position.index]!;
      if (!(reverse ? aboveLow(key, bounds.low) : belowHigh(key, bounds.high))) return;
      yield { key, value: chunk.values[position.index]! };
      if (seen !== this.mutations) {
        // The map changed while the caller held the iterator: positions moved, keys did not.
        seen = this.mutations;
        position = reverse ? this.floor({ key, inclusive: false }) : this.ceiling({ key, inclusive: false });
      } else {
        position = reverse ? this.previous(position) : this.next(position);
      }
    }
  }

  private seekLow(low: Bound | undefined): Position | undefined {
    if (low !== undefined) return this.ceiling(low);
    return this.chunks.length === 0 ? undefined : { chunk: 0, index: 0 };
  }

  private seekHigh(high: Bound | undefined): Position | undefined {
    if (high !== undefined) return this.floor(high);
    const last = this.chunks.length - 1;
    return last < 0 ? undefined : { chunk: last, index: this.chunks[last]!.keys.length - 1 };
  }

  /** The first entry at or above (inclusive) or strictly above the bound's key. */
  private ceiling(bound: Bound): Position | undefined {
    const threshold = bound.inclusive ? 0 : 1;
    const isAbove = (key: Uint8Array) => compareBytes(key, bound.key) >= threshold;
    const chunk = firstIndex(this.chunks.length, (c) => isAbove(lastKey(this.chunks[c]!)));
    if (chunk === this.chunks.length) return undefined;
    const keys = this.chunks[chunk]!.keys;
    const index = firstIndex(keys.length, (i) => isAbove(keys[i]!));
    assert(index < keys.length, "SortedByteMap: chunk search disagrees with its last key");
    return { chunk, index };
  }

  /** The last entry at or below (inclusive) or strictly below the bound's key. */
  private floor(bound: Bound): Position | undefined {
    const above = this.ceiling({ key: bound.key, inclusive: !bound.inclusive });
    if (above === undefined) return this.seekHigh(undefined);
    return this.previous(above);
  }

  private next(position: Position): Position | undefined {
    const chunk = this.chunks[position.chunk]!;
    if (position.index + 1 < chunk.keys.length) return { chunk: position.chunk, index: position.index + 1 };
    return position.chunk + 1 < this.chunks.length ? { chunk: position.chunk + 1, index: 0 } : undefined;
  }

  private previous(position: Position): Position | undefined {
    if (position.index > 0) return { chunk: position.chunk, index: position.index - 1 };
    if (position.chunk === 0) return undefined;
    return { chunk: position.chunk - 1, index: this.chunks[position.chunk - 1]!.keys.length - 1 };
  }

  private append(key: Uint8Array, value: Uint8Array): void {
    const last = this.chunks.length - 1;
    if (last < 0) {
      this.chunks.push({ keys: [key], values: [value] });
    } else {
      this.chunks[last]!.keys.push(key);
      this.chunks[last]!.values.push(value);
      this.splitIfFull(last);
    }
    this.entryCount++;
  }

  private splitIfFull(chunkIndex: number): void {
    const chunk = this.chunks[chunkIndex]!;
    if (chunk.keys.length <= CHUNK_ENTRIES_MAX) return;
    const half = chunk.keys.length >> 1;
    const upper: Chunk = { keys: chunk.keys.splice(half), values: chunk.values.splice(half) };
    this.chunks.splice(chunkIndex + 1, 0, upper);
  }
}

function lastKey(chunk: Chunk): Uint8Array {
  return chunk.keys[chunk.keys.length - 1]!;
}

/** The first index in [0, length) where the monotone predicate holds, or `length`. */
function firstIndex(length: number, holds: (index: number) => boolean): number {
  let low = 0;
  let high = length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (holds(middle)) high = middle;
    else low = middle + 1;
  }
  return low;
}
