import { assert } from "../assert.js";
import type { NodeId } from "../runtime/network.js";
import * as dvvset from "../versioning/dotted-version-vector-set.js";
import type { DottedVersionVectorSet } from "../versioning/dotted-version-vector-set.js";
import type { QuorumFailure } from "./quorum-failure.js";
import type { QuorumReplica } from "./quorum-replica.js";

/**
 * The quorum arithmetic and merge of one eventual read (Dynamo paper, sections 4.5 and 4.7:
 * the coordinator asks the replicas, waits for R, reconciles the versions, and repairs the
 * stale replicas after answering; riak_kv_get_core's add_result / enough / response). Pure:
 * the coordinator feeds replies in and does the I/O.
 *
 * Counting rules (decided here, and what the coordinators and the edge rely on):
 * - not-found is a normal reply: it counts toward r, like a found set (riak's notfound_ok). A
 *   fallback that holds no hint for the key therefore answers not-found and counts toward r;
 *   pr exists for the reader who wants to rule that out;
 * - toward pr count only primaries' ok replies, found or not-found. A fallback's reply, and in
 *   particular a fallback's not-found, never counts toward pr: a fallback only holds what it
 *   kept as hints, so its not-found says nothing about the key;
 * - a failed reply counts toward nothing; only a replica's first reply counts (duplicates are
 *   ignored).
 *
 * The merge is `dvvset.sync` over every ok reply, in any order (sync is commutative,
 * associative and idempotent, so the order of arrival cannot change it). Replies that arrive
 * after `enough()` still join the merge: `repairs()` needs the final merge over everything
 * that arrived, so the coordinator keeps feeding replies until all answered or its deadline.
 */
export type GetReply<T> = { ok: true; set: DottedVersionVectorSet<T> | undefined } | { ok: false; error: string };

export type GetQuorumName = "r" | "pr";

export type GetResponse<T> =
  | { ok: true; found: true; set: DottedVersionVectorSet<T> }
  | { ok: true; found: false }
  | QuorumFailure<GetQuorumName>;

export interface GetCoreOptions {
  readonly n: number;
  readonly r: number;
  readonly pr: number;
  /** The replicas the read was sent to: at most n, distinct. */
  readonly preferenceList: readonly QuorumReplica[];
}

export class GetCore<T> {
  /** The replicas to ask, in preference order (the read's whole list). */
  readonly targets: readonly QuorumReplica[];
  private readonly replicas: ReadonlyMap<NodeId, QuorumReplica>;
  /** Each ok reply's set (undefined: not found), by replica. */
  private readonly sets = new Map<NodeId, DottedVersionVectorSet<T> | undefined>();
  private readonly failed = new Map<NodeId, string>();
  private readonly needed: Readonly<Record<GetQuorumName, number>>;
  private readonly got: Record<GetQuorumName, number> = { r: 0, pr: 0 };
  private merged: DottedVersionVectorSet<T> | undefined;
  private pending: number;
  private pendingPrimaries: number;

  constructor(options: GetCoreOptions) {
    const { n, r, pr, preferenceList } = options;
    if (!(Number.isSafeInteger(n) && n >= 1)) assert(false, `GetCore: n must be a positive integer, got ${n}`);
    if (!(Number.isSafeInteger(r) && r >= 1 && r <= n)) assert(false, `GetCore: r=${r} must be within 1..n=${n}`);
    if (!(Number.isSafeInteger(pr) && pr >= 0 && pr <= n)) assert(false, `GetCore: pr=${pr} must be within 0..n=${n}`);
    if (!(preferenceList.length <= n)) assert(false, `GetCore: ${preferenceList.length} replicas for n=${n}`);
    this.replicas = new Map(preferenceList.map((replica) => [replica.node, replica]));
    assert(this.replicas.size === preferenceList.length, "GetCore: the preference list names a node twice");
    this.targets = preferenceList;
    this.needed = { r, pr };
    this.pending = preferenceList.length;
    this.pendingPrimaries = preferenceList.filter((replica) => replica.primary).length;
  }

  /** Records `node`'s reply; returns false when it was ignored as a duplicate. */
  addReply(node: NodeId, reply: GetReply<T>): boolean {
    const replica = this.replicas.get(node);
    if (replica === undefined) assert(false, `GetCore: a reply from ${node}, which is not in the preference list`);
    if (this.sets.has(node) || this.failed.has(node)) return false;
    this.pending--;
    if (replica.primary) this.pendingPrimaries--;
    if (!reply.ok) {
      this.failed.set(node, reply.error);
      return true;
    }
    // A set with no history and no values is what a key nobody wrote has: not found.
    const set = reply.set === undefined || isEmptySet(reply.set) ? undefined : reply.set;
    this.sets.set(node, set);
    this.got.r++;
    if (replica.primary) this.got.pr++;
    if (set !== undefined) this.merged = this.merged === undefined ? set : dvvset.sync(this.merged, set);
    return true;
  }

  /** Success reached, or success out of reach with the replicas still to answer. */
  enough(): boolean {
    return this.succeeded() || this.impossible();
  }

  /** True once every replica asked has answered (ok or not): no repair can change any more. */
  complete(): boolean {
    return this.pending === 0;
  }

  /** The merged read so far: found (the sync of every set that arrived), not found, or a quorum failure. */
  response(): GetResponse<T> {
    if (!this.succeeded()) {
      const errors = [...this.failed].map(([node, error]) => ({ node, error }));
      return { ok: false, error: "quorum", got: { ...this.got }, needed: this.needed, errors };
    }
    return this.merged === undefined ? { ok: true, found: false } : { ok: true, found: true, set: this.merged };
  }

  /** The sync of every set that arrived (undefined: every ok reply was not-found, or none came). */
  mergedSet(): DottedVersionVectorSet<T> | undefined {
    return this.merged;
  }

  /**
   * Read repair (Dynamo paper, section 5): the replicas that answered ok with a set not equal
   * to the merge of everything that arrived, in preference-list order. The coordinator sends
   * each the merged set (a replica syncs it into its own). A fallback in the list should get it
   * as a hint for the primary it stands in for (`standsInFor`), not as its own data. Replicas
   * that failed or have not answered are not listed: nothing is known about them.
   */
  repairs(): QuorumReplica[] {
    const merged = this.merged ?? dvvset.empty<T>();
    return this.targets.filter((replica) => {
      if (!this.sets.has(replica.node)) return false;
      return !dvvset.equal(this.sets.get(replica.node) ?? dvvset.empty<T>(), merged);
    });
  }

  /** r and pr met. */
  succeeded(): boolean {
    return this.got.r >= this.needed.r && this.got.pr >= this.needed.pr;
  }

  /** r or pr out of reach with the replicas still to answer. */
  impossible(): boolean {
    return this.got.r + this.pending < this.needed.r || this.got.pr + this.pendingPrimaries < this.needed.pr;
  }
}

/** A set with no history and no values: what a key nobody wrote has (a not-found reply). */
export function isEmptySet<T>(set: DottedVersionVectorSet<T>): boolean {
  return set.entries.length === 0 && set.anonymous.length === 0;
}
