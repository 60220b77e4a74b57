import { assert } from "../assert.js";
import type { NodeId } from "../runtime/network.js";

/**
 * The quorum arithmetic of one Paxos phase (riak_kv_get_core's shape: add a reply, ask whether
 * enough): a strict majority of every acceptor set. Normally there is one set, the key's N
 * primary replicas; while the key's partition moves there are two (new and previous), and a
 * phase must win a majority of both, so every majority of the old configuration intersects
 * every majority the phase used and nothing accepted under either is lost (DESIGN.md, "The
 * strong path"). A node in both sets counts in both.
 */
export class PhaseQuorum {
  private readonly sets: ReadonlyArray<ReadonlySet<NodeId>>;
  private readonly replied = new Map<NodeId, boolean>();
  /** Every distinct acceptor of the phase, in first-seen order. */
  readonly nodes: readonly NodeId[];

  constructor(sets: ReadonlyArray<readonly NodeId[]>) {
    assert(sets.length > 0 && sets.every((set) => set.length > 0), "a phase needs at least one non-empty acceptor set");
    this.sets = sets.map((set) => new Set(set));
    this.nodes = [...new Set(sets.flat())];
  }

  /** Records `node`'s answer; a repeated answer from one node is ignored (duplicated messages). */
  add(node: NodeId, ok: boolean): void {
    assert(this.nodes.includes(node), `reply from ${node}, which is not an acceptor of this phase`);
    if (!this.replied.has(node)) this.replied.set(node, ok);
  }

  /** A strict majority of every set answered ok. */
  get reached(): boolean {
    return this.sets.every((set) => this.count(set, true) > set.size / 2);
  }

  /** Some set can no longer reach a strict majority, whatever the rest answer. */
  get failed(): boolean {
    return this.sets.some((set) => set.size - this.count(set, false) <= set.size / 2);
  }

  /** Every acceptor answered. */
  get complete(): boolean {
    return this.replied.size === this.nodes.length;
  }

  /** Every acceptor answered ok (the condition for collecting a tombstone). */
  get unanimous(): boolean {
    return this.complete && [...this.replied.values()].every((ok) => ok);
  }

  /** "2 of 3" per set, for messages. */
  describe(): string {
    return this.sets.map((set) => `${this.count(set, true)} of ${set.size}`).join(" and ");
  }

  private count(set: ReadonlySet<NodeId>, ok: boolean): number {
    let count = 0;
    for (const [node, answer] of this.replied) if (answer === ok && set.has(node)) count++;
    return count;
  }
}
