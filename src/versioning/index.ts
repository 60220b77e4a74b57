/**
 * versioning/: how the eventual path names versions (DESIGN.md, "The eventual path").
 *
 *   import { dvvset, encodeCausalContext, decodeCausalContext } from "../versioning/index.js";
 *   const context = dvvset.join(merged);                 // what a read saw
 *   const header = encodeCausalContext(context);         // X-Shoal-Context
 *   const stored = dvvset.update(dvvset.newWithContext(context, sibling), local, nodeId);
 */
export * as dvvset from "./dotted-version-vector-set.js";
export type { DottedVersionVectorSet, DvvEntry } from "./dotted-version-vector-set.js";
export {
  type VersionVector,
  type VersionVectorEntry,
  type Dot,
  emptyVersionVector,
  versionVectorError,
  counterOf,
  coversDot,
  descends,
  dominates,
  concurrent,
  mergeVersionVectors,
} from "./version-vector.js";
export {
  type CausalContext,
  type CausalContextBounds,
  type CausalContextDecodeResult,
  CAUSAL_CONTEXT_FORMAT,
  defaultCausalContextBounds,
  causalContextCharsMax,
  encodeCausalContext,
  decodeCausalContext,
} from "./causal-context.js";
export { type Sibling, liveSiblings, compareSiblingsForLww, isSibling } from "./sibling.js";
export { comparePlainData } from "./plain-data-order.js";
export {
  type HlcTimestamp,
  type HlcReceiveResult,
  HybridLogicalClock,
  HLC_LOGICAL_BITS,
  hlcFrom,
  hlcLogical,
  hlcPhysicalMs,
} from "./hybrid-logical-clock.js";
