import { assert } from "../assert.js";
import type { NodeId, RequestHandler } from "../runtime/network.js";

/**
 * The node's one network handler (TcpNetwork.serve takes one): routes each peer message by the
 * prefix of its `type`: "membership." (Membership), "replica." (ReplicaService), "coordinator."
 * (EventualCoordinator), "paxos." (StrongCoordinator), "catalog." (CatalogSync) and "client."
 * (the Shoal client protocol); ShoalNode adds them through `node.cluster.dispatcher.route`. A message with no string type, or a type no
 * route claims, is answered with undefined (a one-way send is simply dropped), so a peer
 * running a newer version cannot crash this one.
 *
 * Data messages before a ring: a node that holds no ring yet (one that joins, before gossip
 * brought it the ring) cannot place a key in a Merkle tree, so an item it stored then would be
 * missing from its tree until the index check's next pass (anti-entropy/index-verify.ts, first
 * after 60 s). Once `requireRing` is set, messages whose type starts with one of
 * `ringGatedPrefixes` are answered with a typed retryable refusal (`noRingRefusal`) until the
 * node holds a ring; every sender counts a reply without `ok: true` as a failed one and retries
 * as it retries a failure (hint delivery, anti-entropy, the transfer) or counts it toward its
 * quorum (coordinators). The simulator's node (sim/cluster-node.ts) applies the same rule.
 *
 * Example:
 *   const dispatcher = new PeerDispatcher();
 *   dispatcher.route("membership.", (from, m) => membership.handle(from, m));
 *   network.serve(dispatcher.handle);
 */
/** Prefixes of the data messages a node refuses until it holds a ring (see above). */
export const ringGatedPrefixes: readonly string[] = Object.freeze(["replica.", "coordinator.", "anti-entropy.", "handoff."]);

/** The answer to a data message that reached a node without a ring: retry later (or elsewhere). */
export interface NoRingRefusal {
  ok: false;
  error: "no-ring";
  retryable: true;
  message: string;
}

/** The refusal of a message of `type` by a node that holds no ring, or undefined when the type is not ring-gated. */
export function noRingRefusal(type: string): NoRingRefusal | undefined {
  if (!ringGatedPrefixes.some((prefix) => type.startsWith(prefix))) return undefined;
  return { ok: false, error: "no-ring", retryable: true, message: `this node holds no ring yet, so it does not take ${type} messages; retry once it joined` };
}

export class PeerDispatcher {
  private readonly routes: Array<{ prefix: string; handler: RequestHandler }> = [];
  private unroutedCount = 0;
  private hasRing: (() => boolean) | undefined;
  private refusedCount = 0;
  private refuse: ((from: NodeId, type: string) => unknown) | undefined;
  private refusedFromCount = 0;

  /** Data messages refused since start because this node held no ring yet. */
  get refusedBeforeRing(): number {
    return this.refusedCount;
  }

  /** From now on, ring-gated messages are refused while `hasRing()` is false (see above). */
  requireRing(hasRing: () => boolean): void {
    this.hasRing = hasRing;
  }

  /**
   * From now on, a message for which `refuse(from, type)` returns an answer gets that answer
   * instead of its route (node-cluster.ts: data from a node a plan removed while it was down).
   */
  refuseFrom(refuse: (from: NodeId, type: string) => unknown): void {
    this.refuse = refuse;
  }

  /** Messages refused since start by the `refuseFrom` rule. */
  get refusedFrom(): number {
    return this.refusedFromCount;
  }

  /** Messages that matched no route since start (a sign of a version mismatch). */
  get unrouted(): number {
    return this.unroutedCount;
  }

  /** Adds a route; prefixes end with "." and may not overlap, so the order never matters. */
  route(prefix: string, handler: RequestHandler): void {
    assert(prefix.length > 1 && prefix.endsWith("."), `a route prefix ends with ".", got ${JSON.stringify(prefix)}`);
    const clash = this.routes.find((r) => r.prefix.startsWith(prefix) || prefix.startsWith(r.prefix));
    assert(clash === undefined, `route ${prefix} overlaps route ${clash?.prefix}`);
    this.routes.push({ prefix, handler });
  }

  /** The RequestHandler to pass to Network.serve (bound). */
  readonly handle = (from: NodeId, message: unknown): Promise<unknown> | unknown => {
    const type = typeof message === "object" && message !== null ? (message as { type?: unknown }).type : undefined;
    if (typeof type === "string") {
      if (this.hasRing !== undefined && !this.hasRing()) {
        const refusal = noRingRefusal(type);
        if (refusal !== undefined) {
          this.refusedCount++;
          return refusal;
        }
      }
      const refusal = this.refuse?.(from, type);
      if (refusal !== undefined) {
        this.refusedFromCount++;
        return refusal;
      }
      for (const { prefix, handler } of this.routes) if (type.startsWith(prefix)) return handler(from, message);
    }
    this.unroutedCount++;
    return undefined;
  };
}
