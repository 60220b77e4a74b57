import { ringMembersMax, ringSettled, type RingState } from "../ring/ring-state.js";
import type { NodeId } from "../runtime/network.js";
import { receivingNodes } from "./ownership-plan.js";

/**
 * The ring leader's part of an ownership transfer (issue 6, item 2): it collects "done"
 * reports for the current ring in transition and, once every node that gains a partition
 * reported, publishes the settled ring (ring-state.ts ringSettled: the same owners, no
 * `previous`, one version up), once. Reports of another ring version are ignored; the set is
 * bounded by the ring's members (ringMembersMax) and cleared when the ring changes.
 */
export class OwnershipLeader {
  private version = -1;
  private readonly done = new Set<NodeId>();
  private published = -1;

  constructor(private readonly options: { publishRing(ring: RingState): void }) {}

  reported(ring: RingState, from: NodeId, ringVersion: number, nMax: number): void {
    if (ring.previous === undefined || ringVersion !== ring.version) return;
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
    this.options.publishRing(ringSettled(ring));
  }

  /** Nodes that reported for the current version (tests, status). */
  reportedNodes(): NodeId[] {
    return [...this.done].sort();
  }

  private follow(ring: RingState): void {
    if (ring.version === this.version) return;
    this.version = ring.version;
    this.done.clear();
  }
}
