/**
 * Membership (DESIGN.md: "membership/ gossip, failure detection, staged ring changes"):
 * SWIM-style failure detection, push-pull gossip of member records and the ring, seeds and
 * joining. A node composes `Membership` and routes "membership." messages to `handle`.
 */
export { Membership, type ComputeRing, type MembershipEvent, type MembershipListener, type MembershipOptions, type MembershipSelf } from "./membership.js";
export { compareMembers, isLive, mergeMember, parseMember, supersedes, type Member, type MemberAddress, type MemberState } from "./member.js";
export { MembershipView, type ApplyOutcome, type MemberChange } from "./membership-view.js";
export { isMembershipMessage, membershipMessagePrefix, type MembershipMessage } from "./membership-messages.js";
export { membershipBoundsDefault, membershipIntervalsDefault, type MembershipBounds, type MembershipIntervals } from "./membership-options.js";
export { compareRingStamps, type RingRecord, type RingStamp, type VersionedRing } from "./ring-record.js";
export { ringLeader } from "./ring-leader.js";
