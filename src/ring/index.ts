/**
 * ring/: partitions, claim and preference lists, as pure functions of a RingState
 * (DESIGN.md, "Beside the main path"). Membership decides who is in the ring and gossips it;
 * coordinators and the partition-aware client ask it where a key lives:
 *
 *   const placed = claimInitial([{ id: "n1" }, { id: "n2" }, { id: "n3" }]);
 *   if (placed.ok) {
 *     const partition = partitionOf(new TextEncoder().encode("cart:42"), placed.ring.partitionCount);
 *     const replicas = preferenceListWithFallbacks(placed.ring, partition, 3, (id) => isUp(id));
 *   }
 */
export { murmurHash3 } from "./murmur-hash3.js";
export {
  isValidPartitionCount,
  partitionCountDefault,
  partitionCountMax,
  partitionCountMin,
  partitionOf,
  partitionOfPosition,
  ringHashSeed,
  ringPosition,
} from "./partition-hash.js";
export {
  assignmentsEqual,
  compareNodeIds,
  memberOf,
  ownerOf,
  parseRing,
  partitionShares,
  previousRing,
  partitionsOwnedBy,
  ringMembersMax,
  ringProblem,
  ringSettled,
  ringState,
  ringsEqual,
  ringTransition,
  type RingMember,
  type RingParseResult,
  type RingState,
  type RingTransition,
} from "./ring-state.js";
export {
  claimInitial,
  claimJoin,
  claimLeave,
  reclaim,
  targetNValDefault,
  type ClaimError,
  type ClaimOptions,
  type ClaimResult,
  type InitialClaimOptions,
} from "./claim.js";
export { preferenceList, preferenceListWithFallbacks, type PreferenceListEntry } from "./preference-list.js";
export { movedPartitionCount, replicaChanges, ringDiff, type PartitionTransfer, type ReplicaChange } from "./ring-diff.js";
export { parsePlanChange, planRing, ringPlanChangesMax, type RingPlanChange, type RingPlanResult } from "./ring-plan.js";
