import { assert } from "../assert.js";
import { murmurHash3 } from "../ring/murmur-hash3.js";
import type { CatalogStamp } from "./catalog-record.js";

/**
 * Table ids without coordination. An id prefixes every item key as a u32 (storage/item-key.ts),
 * so it must be unique cluster-wide and never reused, or a dropped table's leftovers would show
 * through a new table, or a purge would delete a live table's items.
 *
 * Why a hash of the create's stamp: a per-node counter (the single-node catalog's) gives every
 * node the same small ids, and a cluster-wide counter needs consensus on every create. The create
 * stamp (HLC time, creating node) is already unique, so its 32-bit hash is unique with high
 * probability, and the creator then checks the id against every id it has ever seen (live and
 * dead incarnations of every name, and the single-node counter's range), taking the next attempt
 * on a clash. What is left is two creates that no node saw together deriving one id: about
 * k^2 / 2^33 for k creates concurrent within one sync interval (1e-7 for 30). The merge rule then
 * kills the clashing incarnations on every node alike (merge-name-record.ts) rather than let two
 * tables share keys.
 *
 * Id 0 is never returned, so the key space's "before every table" stays free.
 */
export const tableIdAttemptsMax = 64;

const encoder = new TextEncoder();

export function deriveTableId(created: CatalogStamp, attempt: number): number {
  assert(Number.isSafeInteger(attempt) && attempt >= 0, `deriveTableId: attempt must be a non-negative integer, got ${attempt}`);
  const id = murmurHash3(encoder.encode(`${created.at}/${created.by}/${attempt}`));
  return id === 0 ? 1 : id;
}

/**
 * The first derived id `isUsed` does not refuse, or undefined after tableIdAttemptsMax
 * attempts (only when nearly every u32 is taken, which tablesMax rules out).
 */
export function freshTableId(created: CatalogStamp, isUsed: (id: number) => boolean): number | undefined {
  for (let attempt = 0; attempt < tableIdAttemptsMax; attempt++) {
    const id = deriveTableId(created, attempt);
    if (!isUsed(id)) return id;
  }
  return undefined;
}
