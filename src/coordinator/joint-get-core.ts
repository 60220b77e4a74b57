import { assert } from "../assert.js";
import type { NodeId } from "../runtime/network.js";
import * as dvvset from "../versioning/dotted-version-vector-set.js";
import type { DottedVersionVectorSet } from "../versioning/dotted-version-vector-set.js";
import { GetCore, isEmptySet, type GetCoreOptions, type GetReply, type GetResponse } from "./get-core.js";
import type { QuorumReplica } from "./quorum-replica.js";

/**
 * What the eventual coordinator's read needs of its quorum arithmetic: GetCore's surface, so a
 * read of a settled partition and one of a moving partition go through the same gather, repair
 * and answer.
 */
export interface ReadCore<T> {
  /** The replicas to ask, each once, in preference order. */
  readonly targets: readonly QuorumReplica[];
  addReply(node: NodeId, reply: GetReply<T>): boolean;
  enough(): boolean;
  complete(): boolean;
  response(): GetResponse<T>;
  mergedSet(): DottedVersionVectorSet<T> | undefined;
  repairs(): QuorumReplica[];
}

/**
 * The read quorum of a key whose partition moves (issue 6: a ring in transition, ring-state.ts
 * `previous`), as a joint quorum: r (and pr) replies from the key's OLD preference list AND r
 * (and pr) from its NEW one, the answer being the merge of every reply that arrived.
 *
 * Why both. Until the ring settles, a node that gains the partition is still filling it
 * (handoff/ownership-transfer.ts), so its not-found says nothing about a write acknowledged
 * before the commit: such a write is on w of the OLD list, and r of the old list meets it
 * (r + w > n). Writes coordinated on the ring in transition go to the NEW list (a coordinator
 * on an older ring is refused and retried there, replica/ring-fence.ts), and r of the new list
 * meets those. Reading the new list alone (what the coordinator did before) can take two
 * not-founds from the gaining node and a replica that missed the write, and answer 404 for a
 * key whose acknowledged write sits on the old replica leaving the list (seen in the elastic
 * join benchmark: 15 of 379,746 reads). The ring settles only once every gaining node scanned
 * a majority of its old lists, so after that the new list alone is enough again.
 *
 * The same rule the strong path uses for its acceptors (joint majorities while a partition
 * moves). A node on both lists answers once and counts in both.
 */
export class JointGetCore<T> implements ReadCore<T> {
  readonly targets: readonly QuorumReplica[];
  private readonly before: GetCore<T>;
  private readonly after: GetCore<T>;
  private readonly inBefore: ReadonlySet<NodeId>;
  private readonly inAfter: ReadonlySet<NodeId>;
  /** Each ok reply's set (undefined: not found), by replica, for repairs. */
  private readonly sets = new Map<NodeId, DottedVersionVectorSet<T> | undefined>();
  private readonly answered = new Set<NodeId>();

  constructor(options: { before: GetCoreOptions; after: GetCoreOptions }) {
    this.before = new GetCore<T>(options.before);
    this.after = new GetCore<T>(options.after);
    this.inBefore = new Set(options.before.preferenceList.map((replica) => replica.node));
    this.inAfter = new Set(options.after.preferenceList.map((replica) => replica.node));
    this.targets = [...options.after.preferenceList, ...options.before.preferenceList.filter((replica) => !this.inAfter.has(replica.node))];
  }

  /** Records `node`'s reply in each list that names it; false when ignored as a duplicate. */
  addReply(node: NodeId, reply: GetReply<T>): boolean {
    if (!this.inBefore.has(node) && !this.inAfter.has(node)) assert(false, `JointGetCore: a reply from ${node}, which is on neither preference list`);
    if (this.answered.has(node)) return false;
    this.answered.add(node);
    if (this.inBefore.has(node)) this.before.addReply(node, reply);
    if (this.inAfter.has(node)) this.after.addReply(node, reply);
    if (reply.ok) this.sets.set(node, reply.set === undefined || isEmptySet(reply.set) ? undefined : reply.set);
    return true;
  }

  enough(): boolean {
    return (this.before.succeeded() && this.after.succeeded()) || this.before.impossible() || this.after.impossible();
  }

  complete(): boolean {
    return this.before.complete() && this.after.complete();
  }

  /** Found (the merge of every reply), not found, or the failure of the list that missed its quorum (the new list's when both did). */
  response(): GetResponse<T> {
    const after = this.after.response();
    if (!after.ok) return after;
    const before = this.before.response();
    if (!before.ok) return before;
    const merged = this.mergedSet();
    return merged === undefined ? { ok: true, found: false } : { ok: true, found: true, set: merged };
  }

  /** The sync of every set that arrived: each reply went to at least one of the two lists. */
  mergedSet(): DottedVersionVectorSet<T> | undefined {
    const before = this.before.mergedSet();
    const after = this.after.mergedSet();
    if (before === undefined || after === undefined) return before ?? after;
    return dvvset.sync(before, after);
  }

  /** The replicas of either list that answered with something other than the merge of everything. */
  repairs(): QuorumReplica[] {
    const merged = this.mergedSet() ?? dvvset.empty<T>();
    return this.targets.filter((replica) => this.sets.has(replica.node) && !dvvset.equal(this.sets.get(replica.node) ?? dvvset.empty<T>(), merged));
  }
}
