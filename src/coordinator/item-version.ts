import { Packr } from "msgpackr";
import type { ItemWrite } from "../replica/item-write.js";
import { isExpiredAt } from "../replica/sibling-expiry.js";
import { murmurHash3 } from "../ring/murmur-hash3.js";
import * as dvvset from "../versioning/dotted-version-vector-set.js";
import type { DottedVersionVectorSet } from "../versioning/dotted-version-vector-set.js";
import type { Sibling } from "../versioning/sibling.js";
import type { Dot } from "../versioning/version-vector.js";
import type { SiblingProposal } from "./eventual-coordinator.js";
import type { ItemVersion } from "./item-operations.js";

/**
 * Between the eventual path's siblings and the front doors' ItemVersions. A sibling's
 * `version` (the ETag) must name that sibling alike on every node and never name another: a
 * dotted sibling is named by its dot (`nodeId~counter`, base 36; node ids are
 * [A-Za-z0-9_.-], so the name needs no quoting), which the dvvset guarantees is unique per
 * key. An anonymous one (only a last-writer-wins winner that lost its dot) is named by its
 * timestamp and a hash of its content (`~t<timestamp>~<hash>`, base 36), which is the same
 * wherever it is computed.
 */
export function versionOfDot(dot: Dot): string {
  return `${dot[0]}~${dot[1].toString(36)}`;
}

const packr = new Packr({ useRecords: false, moreTypes: false, structuredClone: false });

export function versionOfAnonymous(sibling: Sibling): string {
  const hash = murmurHash3(packr.pack([sibling.value, sibling.contentType, sibling.metadata, sibling.tombstone, sibling.expiresAtMs]));
  return `~t${sibling.timestamp.toString(36)}~${hash.toString(36)}`;
}

export function itemVersionOf(sibling: Sibling, version: string): ItemVersion {
  return {
    value: sibling.value,
    contentType: sibling.contentType,
    metadata: Object.fromEntries(sibling.metadata),
    version,
    timestamp: sibling.timestamp,
    expiresAtMs: sibling.expiresAtMs,
  };
}

/** The versions a read shows at `nowMs`: no tombstones, none expired; dotted ones first, in dvvset order. */
export function itemVersionsOf(set: DottedVersionVectorSet<Sibling>, nowMs: number): ItemVersion[] {
  const versions: ItemVersion[] = [];
  const visible = (sibling: Sibling): boolean => !sibling.tombstone && !isExpiredAt(sibling, nowMs);
  for (const { dot, value } of dvvset.dottedValues(set)) if (visible(value)) versions.push(itemVersionOf(value, versionOfDot(dot)));
  for (const value of set.anonymous) if (visible(value)) versions.push(itemVersionOf(value, versionOfAnonymous(value)));
  return versions;
}

/** A front door's write as the eventual path's proposal: metadata as name-sorted pairs. */
export function proposalOf(write: ItemWrite): SiblingProposal {
  const metadata = Object.entries(write.metadata).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return { value: write.value, contentType: write.contentType, metadata, tombstone: false, expiresAtMs: write.expiresAtMs };
}
