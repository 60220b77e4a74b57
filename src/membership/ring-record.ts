import type { NodeId } from "../runtime/network.js";

/**
 * The ring as membership carries it: an opaque value with a version (ring/ring-state.ts is
 * one), and the node that computed it. The highest version wins when gossip merges. Two nodes
 * can compute the same version independently (each side of a partition has its own leader);
 * then the smaller origin id wins, so every node still picks the same ring, and the leader of
 * the healed cluster computes the next version from the whole membership.
 */
export interface VersionedRing {
  readonly version: number;
}

export interface RingStamp {
  readonly version: number;
  readonly origin: NodeId;
}

export interface RingRecord<R extends VersionedRing> {
  readonly ring: R;
  readonly origin: NodeId;
}

export function stampOf<R extends VersionedRing>(record: RingRecord<R> | undefined): RingStamp | null {
  return record === undefined ? null : { version: record.ring.version, origin: record.origin };
}

/** Positive when `a` is the newer ring; a missing ring is older than any ring. */
export function compareRingStamps(a: RingStamp | null, b: RingStamp | null): number {
  if (a === null || b === null) return (a === null ? 0 : 1) - (b === null ? 0 : 1);
  if (a.version !== b.version) return a.version - b.version;
  return a.origin < b.origin ? 1 : a.origin > b.origin ? -1 : 0;
}

/** Checks a stamp that arrived from a peer; null stands for "no ring yet". */
export function parseRingStamp(value: unknown): RingStamp | null | undefined {
  if (value === null) return null;
  if (typeof value !== "object") return undefined;
  const v = value as Record<string, unknown>;
  if (!Number.isSafeInteger(v.version) || (v.version as number) < 0) return undefined;
  if (typeof v.origin !== "string" || v.origin.length === 0) return undefined;
  return { version: v.version as number, origin: v.origin };
}

/** The default ring check: any object with a non-negative integer version. */
export function parseVersionedRing(value: unknown): VersionedRing | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const version = (value as { version?: unknown }).version;
  return Number.isSafeInteger(version) && (version as number) >= 0 ? (value as VersionedRing) : undefined;
}
