/**
 * The strong path's acceptors of a key on a node's ring: the coordinator's placement
 * (coordinator/strong-placement.ts), which asks joint majorities of the old and the new
 * preference list while the ring is in transition. Kept as a re-export for the tests that
 * import it from here (paxos/paxos-linearizability.test.ts); new code imports the coordinator's.
 */
export { ringStrongPlacement } from "../coordinator/strong-placement.js";
