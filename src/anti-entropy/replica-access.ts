import type { DottedVersionVectorSet } from "../versioning/dotted-version-vector-set.js";
import type { Sibling } from "../versioning/sibling.js";

/**
 * What anti-entropy needs of the local replica: read a key's stored set and sync a set into
 * it through the normal versioned merge (ReplicaService.fetch and .merge with the table's
 * conflict mode). Repair never writes a set directly, so a tombstone, or an expired value
 * turned tombstone, always beats the value it superseded (DESIGN.md, "Deletes write
 * tombstones"): the merge keeps what neither side has seen superseded, nothing more.
 */
export interface ReplicaAccess {
  fetch(itemKey: Uint8Array): DottedVersionVectorSet<Sibling> | undefined;
  merge(itemKey: Uint8Array, set: DottedVersionVectorSet<Sibling>): Promise<{ ok: boolean }>;
}
