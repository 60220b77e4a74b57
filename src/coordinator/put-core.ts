import { assert } from "../assert.js";
import type { NodeId } from "../runtime/network.js";
import type { QuorumFailure } from "./quorum-failure.js";
import type { QuorumReplica } from "./quorum-replica.js";

/**
 * The quorum arithmetic of one eventual write (Dynamo paper, section 4.5: "the coordinator
 * ... considers the write successful once W-1 nodes respond"; Riak's put core in spirit). A
 * pure state machine: the coordinator sends the write to every replica of the preference list,
 * feeds each reply into `addReply`, and answers once `enough()` holds; it never does I/O.
 *
 * Counting rules:
 * - an ok reply counts toward w; toward dw when the replica wrote durably; toward pw only from
 *   a primary (a fallback keeps the write as a hint, which is not the replica the key's reader
 *   will ask first, so "primaries only" must not count it);
 * - a failed reply counts toward nothing and makes success less reachable;
 * - only a replica's first reply counts: a duplicate (retransmission, the network duplicating
 *   a message) is ignored, whatever it says.
 *
 * `enough()` holds once success is reached or can no longer be reached with the replicas still
 * to answer; it is monotone (once true, stays true). `response()` may be called at any time
 * (the coordinator's deadline calls it early) and is ok exactly when every quorum is met.
 */
export type PutReply = { ok: true; durable: boolean } | { ok: false; error: string };

export type PutQuorumName = "w" | "dw" | "pw";

export type PutResponse = { ok: true } | QuorumFailure<PutQuorumName>;

export interface PutCoreOptions {
  readonly n: number;
  readonly w: number;
  readonly dw: number;
  readonly pw: number;
  /** The replicas the write was sent to: at most n, distinct. */
  readonly preferenceList: readonly QuorumReplica[];
}

export class PutCore {
  private readonly replicas: ReadonlyMap<NodeId, QuorumReplica>;
  private readonly answered = new Set<NodeId>();
  private readonly errors: { node: NodeId; error: string }[] = [];
  private readonly needed: Readonly<Record<PutQuorumName, number>>;
  private readonly got: Record<PutQuorumName, number> = { w: 0, dw: 0, pw: 0 };
  private pending: number;
  private pendingPrimaries: number;

  constructor(options: PutCoreOptions) {
    const { n, w, dw, pw, preferenceList } = options;
    if (!(Number.isSafeInteger(n) && n >= 1)) assert(false, `PutCore: n must be a positive integer, got ${n}`);
    if (!(Number.isSafeInteger(w) && w >= 1 && w <= n)) assert(false, `PutCore: w=${w} must be within 1..n=${n}`);
    if (!(Number.isSafeInteger(dw) && dw >= 0 && dw <= n)) assert(false, `PutCore: dw=${dw} must be within 0..n=${n}`);
    if (!(Number.isSafeInteger(pw) && pw >= 0 && pw <= n)) assert(false, `PutCore: pw=${pw} must be within 0..n=${n}`);
    if (!(preferenceList.length <= n)) assert(false, `PutCore: ${preferenceList.length} replicas for n=${n}`);
    this.replicas = new Map(preferenceList.map((replica) => [replica.node, replica]));
    assert(this.replicas.size === preferenceList.length, "PutCore: the preference list names a node twice");
    this.needed = { w, dw, pw };
    this.pending = preferenceList.length;
    this.pendingPrimaries = preferenceList.filter((replica) => replica.primary).length;
  }

  /** Records `node`'s reply; returns false when it was ignored as a duplicate. */
  addReply(node: NodeId, reply: PutReply): boolean {
    const replica = this.replicas.get(node);
    if (replica === undefined) assert(false, `PutCore: a reply from ${node}, which is not in the preference list`);
    if (this.answered.has(node)) return false;
    this.answered.add(node);
    this.pending--;
    if (replica.primary) this.pendingPrimaries--;
    if (!reply.ok) {
      this.errors.push({ node, error: reply.error });
      return true;
    }
    this.got.w++;
    if (reply.durable) this.got.dw++;
    if (replica.primary) this.got.pw++;
    return true;
  }

  /** Success reached, or success out of reach with the replicas still to answer. */
  enough(): boolean {
    return this.succeeded() || this.impossible();
  }

  response(): PutResponse {
    if (this.succeeded()) return { ok: true };
    return { ok: false, error: "quorum", got: { ...this.got }, needed: this.needed, errors: [...this.errors] };
  }

  private succeeded(): boolean {
    return this.got.w >= this.needed.w && this.got.dw >= this.needed.dw && this.got.pw >= this.needed.pw;
  }

  /** Even if every replica still to answer said ok (durably), some quorum stays unmet. */
  private impossible(): boolean {
    return (
      this.got.w + this.pending < this.needed.w ||
      this.got.dw + this.pending < this.needed.dw ||
      this.got.pw + this.pendingPrimaries < this.needed.pw
    );
  }
}
