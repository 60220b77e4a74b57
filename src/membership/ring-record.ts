import type { NodeId } from "../runtime/network.js";

/**
 * The ring as membership carries it: an opaque value with a version (ring/ring-state.ts is
 * one), and the node that computed it. The highest version wins when gossip merges. With agreed
 * rings (ring-register.ts) a version past the first names exactly one ring, decided by the
 * previous ring's members, and a stamp carries the ring's content hash so a conflicting ring of
 * that version is recognised and refused. Without agreement, two nodes can compute the same
 * version independently (each side of a partition has its own leader); then the smaller origin
 * id wins, so every node eventually picks the same ring (but may have acted on the other one).
 */
export interface VersionedRing {
  readonly version: number;
}

export interface RingStamp {
  readonly version: number;
  readonly origin: NodeId;
  /**
   * The ring's content digest (ring/ring-hash.ts), carried when membership runs agreed rings
   * (ring-register.ts): a stamp of the same version with another hash names another ring.
   */
  readonly hash?: string;
}

/** The longest hash a peer's stamp may carry. */
export const ringHashLengthMax = 64;

export interface RingRecord<R extends VersionedRing> {
  readonly ring: R;
  readonly origin: NodeId;
}

export function stampOf<R extends VersionedRing>(record: RingRecord<R> | undefined, hashOf?: (ring: R) => string): RingStamp | null {
  if (record === undefined) return null;
  const stamp = { version: record.ring.version, origin: record.origin };
  return hashOf === undefined ? stamp : { ...stamp, hash: hashOf(record.ring) };
}

/**
 * The highest version a ring can have without a base ring: a cluster's first ring is claimed
 * before any ring existed, so no ring's members can decide it (ring-register.ts); two first
 * rings of one version still resolve by origin. Every later version is decided.
 */
export const firstRingVersionMax = 1;

/**
 * Positive when `a` is the newer ring; a missing ring is older than any ring. Two stamps of one
 * version: with hashes (agreed rings, ring-register.ts) and past the first ring, neither is newer
 * (the same decided ring, or a conflict no node may take: ring-keeper.ts); otherwise the smaller
 * origin wins (the rule before rings were agreed, and for first rings).
 */
export function compareRingStamps(a: RingStamp | null, b: RingStamp | null): number {
  if (a === null || b === null) return (a === null ? 0 : 1) - (b === null ? 0 : 1);
  if (a.version !== b.version) return a.version - b.version;
  if (a.hash !== undefined && b.hash !== undefined && a.version > firstRingVersionMax) return 0;
  return a.origin < b.origin ? 1 : a.origin > b.origin ? -1 : 0;
}

/** Whether two stamps name different rings of one decided version (a conflict: ring-keeper.ts). */
export function conflictingStamps(a: RingStamp | null, b: RingStamp | null): boolean {
  return a !== null && b !== null && a.version === b.version && a.version > firstRingVersionMax && a.hash !== undefined && b.hash !== undefined && a.hash !== b.hash;
}

/** Checks a stamp that arrived from a peer; null stands for "no ring yet". */
export function parseRingStamp(value: unknown): RingStamp | null | undefined {
  if (value === null) return null;
  if (typeof value !== "object") return undefined;
  const v = value as Record<string, unknown>;
  if (!Number.isSafeInteger(v.version) || (v.version as number) < 0) return undefined;
  if (typeof v.origin !== "string" || v.origin.length === 0) return undefined;
  if (v.hash === undefined) return { version: v.version as number, origin: v.origin };
  if (typeof v.hash !== "string" || v.hash.length === 0 || v.hash.length > ringHashLengthMax) return undefined;
  return { version: v.version as number, origin: v.origin, hash: v.hash };
}

/** The default ring check: any object with a non-negative integer version. */
export function parseVersionedRing(value: unknown): VersionedRing | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const version = (value as { version?: unknown }).version;
  return Number.isSafeInteger(version) && (version as number) >= 0 ? (value as VersionedRing) : undefined;
}
