import type { HlcTimestamp } from "./hybrid-logical-clock.js";
import { comparePlainData } from "./plain-data-order.js";

/**
 * One version of an item as the eventual path keeps it (DESIGN.md, "Data model"): the
 * coordinator stores a dotted version vector set of these per key, and concurrent ones are
 * the siblings a read returns with `300 Multiple Choices`.
 *
 * A delete is a write too: a sibling with `tombstone: true` and an empty value. Through the
 * set it behaves like any value: with a context it supersedes exactly what that context saw;
 * without one it is concurrent with everything and so deletes nothing. A read whose siblings
 * are all tombstones is "not found" but still returns the context, so the next write
 * supersedes the tombstones; a read with live siblings and tombstones shows the live ones
 * (the context covers the tombstones too).
 *
 * Metadata is a list of [name, value] pairs sorted by name, not an object: a name such as
 * "__proto__" must stay plain data through MessagePack and JSON.
 */
export interface Sibling {
  readonly value: Uint8Array;
  readonly contentType: string;
  readonly metadata: readonly (readonly [name: string, value: string])[];
  /** When the coordinator accepted the write; the order of last-writer-wins tables. */
  readonly timestamp: HlcTimestamp;
  readonly tombstone: boolean;
  /** Expiry in wall-clock milliseconds, or null for none. */
  readonly expiresAtMs: number | null;
}

/** The siblings a read shows: tombstones removed. Empty means the item reads as not found. */
export function liveSiblings(siblings: readonly Sibling[]): Sibling[] {
  return siblings.filter((sibling) => !sibling.tombstone);
}

/**
 * The order of last-writer-wins tables: the later hybrid-logical-clock timestamp wins. Two
 * coordinators can issue the same timestamp, so ties fall to the structural order of the
 * whole sibling, which every replica computes alike.
 */
export function compareSiblingsForLww(a: Sibling, b: Sibling): number {
  if (a.timestamp !== b.timestamp) return a.timestamp < b.timestamp ? -1 : 1;
  return comparePlainData(a, b);
}

/** A guard for siblings read from disk or the wire (pair with dvvset `parse`). */
export function isSibling(value: unknown): value is Sibling {
  if (typeof value !== "object" || value === null) return false;
  const sibling = value as Record<string, unknown>;
  return (
    sibling.value instanceof Uint8Array &&
    typeof sibling.contentType === "string" &&
    isMetadata(sibling.metadata) &&
    typeof sibling.timestamp === "number" &&
    Number.isSafeInteger(sibling.timestamp) &&
    sibling.timestamp >= 0 &&
    typeof sibling.tombstone === "boolean" &&
    (sibling.expiresAtMs === null || (typeof sibling.expiresAtMs === "number" && Number.isSafeInteger(sibling.expiresAtMs)))
  );
}

function isMetadata(metadata: unknown): boolean {
  if (!Array.isArray(metadata)) return false;
  return metadata.every(
    (pair, i) =>
      Array.isArray(pair) &&
      pair.length === 2 &&
      typeof pair[0] === "string" &&
      typeof pair[1] === "string" &&
      (i === 0 || (metadata[i - 1] as [string, string])[0] < pair[0]),
  );
}
