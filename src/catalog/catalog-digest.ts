import { assert } from "../assert.js";
import { murmurHash3 } from "../ring/murmur-hash3.js";
import type { NameRecord } from "./catalog-record.js";

/**
 * A summary of the whole catalog small enough to send every sync round: the names are spread
 * over `digestBucketCount` buckets by hash, and each bucket's digest is the sum (mod 2^32) of its
 * records' hashes. Two nodes compare digests and exchange only the records of the buckets that
 * differ (the Dynamo paper's anti-entropy, section 4.7, with one flat level instead of a Merkle
 * tree: the catalog is thousands of records, not millions). A record's hash covers its
 * canonical JSON (keys sorted), so every node hashes equal records equally whatever the wire or
 * the disk did to key order. Kept up to date one record at a time, so a digest costs nothing.
 */
export const digestBucketCount = 256;

const encoder = new TextEncoder();

export function bucketOfName(name: string): number {
  return murmurHash3(encoder.encode(name)) % digestBucketCount;
}

/** The record's hash and its size in bytes as canonical JSON (a bound for sync replies). */
export function hashNameRecord(record: NameRecord): { hash: number; bytes: number } {
  const encoded = encoder.encode(canonicalJson(record));
  return { hash: murmurHash3(encoded), bytes: encoded.length };
}

export class CatalogDigest {
  private readonly hashes = new Map<string, number>();
  private readonly sums: number[] = new Array<number>(digestBucketCount).fill(0);

  /** Records (or replaces) the hash of one name's record. */
  set(name: string, hash: number): void {
    const bucket = bucketOfName(name);
    const before = this.hashes.get(name) ?? 0;
    this.hashes.set(name, hash);
    this.sums[bucket] = (this.sums[bucket]! - before + hash) >>> 0;
  }

  buckets(): number[] {
    return [...this.sums];
  }

  /** Indices of the buckets where `other` differs from this digest. */
  differing(other: readonly number[]): number[] {
    assert(other.length === digestBucketCount, `a catalog digest has ${digestBucketCount} buckets, got ${other.length}`);
    const result: number[] = [];
    for (let i = 0; i < digestBucketCount; i++) if (this.sums[i] !== other[i]) result.push(i);
    return result;
  }
}

/** JSON with object keys sorted at every level; undefined members are left out, as JSON does. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item)).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, inner]) => inner !== undefined)
    .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
  return `{${entries.map(([key, inner]) => `${JSON.stringify(key)}:${canonicalJson(inner)}`).join(",")}}`;
}
