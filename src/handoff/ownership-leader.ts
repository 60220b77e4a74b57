import { ringHash } from "../ring/ring-hash.js";
import { ringMembersMax, ringSettled, type RingState } from "../ring/ring-state.js";
import type { NodeId } from "../runtime/network.js";
import { receivingNodes } from "./ownership-plan.js";

/**
 * The ring leader's part of an ownership transfer (issue 6, item 2): it collects "done"
 * reports for the current ring in transition and, once every node that gains a partition
 * reported, publishes the settled ring (ring-state.ts ringSettled: the same owners, no
 * `previous`, one version up), once. A ring is identified by (version, content hash,
 * ring/ring-hash.ts): a report for another ring of the same version (one a second leader
 * published) does not count, nor does one without a hash. The set is bounded by the ring's
 * members (ringMembersMax) and cleared when the ring changes.
 *
 * Publishing goes through membership's agreed publication (Membership.publish): when it comes
 * to nothing (no majority of the ring's members reached) or another ring of that version was
 * decided, the leader may publish again at its next check.
 */
export interface PublishedRing {
  ok: boolean;
  won?: boolean;
}

export class OwnershipLeader {
  private version = -1;
  private hash = "";
  private readonly done = new Set<NodeId>();
  private published = -1;

  constructor(private readonly options: { publishRing(ring: RingState): void | Promise<PublishedRing> }) {}

  reported(ring: RingState, from: NodeId, ringVersion: number, reportedHash: string | undefined, nMax: number): void {
    if (ring.previous === undefined || ringVersion !== ring.version || reportedHash !== ringHash(ring)) return;
    this.follow(ring);
    if (!ring.members.some((m) => m.id === from) || this.done.size >= ringMembersMax) return;
    this.done.add(from);
    this.check(ring, nMax);
  }

  /** Publishes the settled ring when every receiving node reported. */
  check(ring: RingState, nMax: number): void {
    if (ring.previous === undefined) return;
    this.follow(ring);
    if (this.published === ring.version) return;
    if (!receivingNodes(ring, nMax).every((id) => this.done.has(id))) return;
    this.published = ring.version;
    const outcome = this.options.publishRing(ringSettled(ring));
    if (outcome === undefined) return;
    const version = ring.version;
    const retry = () => {
      if (this.published === version) this.published = -1;
    };
    outcome.then((result) => (result.ok ? undefined : retry()), retry);
  }

  /** Nodes that reported for the current ring (tests, status). */
  reportedNodes(): NodeId[] {
    return [...this.done].sort();
  }

  private follow(ring: RingState): void {
    const hash = ringHash(ring);
    if (ring.version === this.version && hash === this.hash) return;
    this.version = ring.version;
    this.hash = hash;
    this.done.clear();
  }
}
