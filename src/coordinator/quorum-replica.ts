import type { NodeId } from "../runtime/network.js";

/**
 * One replica a quorum operation asks, as the preference list names it (Dynamo paper, section
 * 4.6, sloppy quorum): a primary is one of the key's first n distinct owners; a fallback is a
 * healthy node standing in for a down primary, keeping what it receives as a hint for
 * `standsInFor`. Structurally the ring's PreferenceListEntry, so a coordinator passes that
 * list as is.
 */
export interface QuorumReplica {
  readonly node: NodeId;
  readonly primary: boolean;
  /** On a fallback: the down primary whose writes it keeps as hints. */
  readonly standsInFor?: NodeId;
}
