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
  /** Per set, the ok and the other answers so far (kept as answers come: a phase asks after each). */
  private readonly oks: number[];
  private readonly nos: number[];
  private okTotal = 0;
  /** Every distinct acceptor of the phase, in first-seen order. */
  readonly nodes: readonly NodeId[];

  constructor(sets: ReadonlyArray<readonly NodeId[]>) {
    assert(sets.length > 0 && sets.every((set) => set.length > 0), "a phase needs at least one non-empty acceptor set");
    if (sets.length === 1) {
      // The common case (a key whose partition is not moving), without the flattening copies.
      const only = sets[0]!;
      const set = new Set(only);
      this.sets = [set];
      this.nodes = set.size === only.length ? only : [...set];
    } else {
      this.sets = sets.map((set) => new Set(set));
      this.nodes = [...new Set(sets.flat())];
    }
    this.oks = this.sets.map(() => 0);
    this.nos = this.sets.map(() => 0);
  }

  /** Records `node`'s answer; a repeated answer from one node is ignored (duplicated messages). */
  add(node: NodeId, ok: boolean): void {
    assert(this.nodes.includes(node), `reply from ${node}, which is not an acceptor of this phase`);
    if (this.replied.has(node)) return;
    this.replied.set(node, ok);
    if (ok) this.okTotal++;
    const counts = ok ? this.oks : this.nos;
    for (let i = 0; i < this.sets.length; i++) if (this.sets[i]!.has(node)) counts[i]!++;
  }

  /** A strict majority of every set answered ok. */
  get reached(): boolean {
    for (let i = 0; i < this.sets.length; i++) if (!(this.oks[i]! > this.sets[i]!.size / 2)) return false;
    return true;
  }

  /** Some set can no longer reach a strict majority, whatever the rest answer. */
  get failed(): boolean {
    for (let i = 0; i < this.sets.length; i++) if (this.sets[i]!.size - this.nos[i]! <= this.sets[i]!.size / 2) return true;
    return false;
  }

  /** Every acceptor answered. */
  get complete(): boolean {
    return this.replied.size === this.nodes.length;
  }

  /** Every acceptor answered ok (the condition for collecting a tombstone). */
  get unanimous(): boolean {
    return this.complete && this.okTotal === this.nodes.length;
  }

  /** "2 of 3" per set, for messages. */
  describe(): string {
    return this.sets.map((set, i) => `${this.oks[i]!} of ${set.size}`).join(" and ");
  }
}
