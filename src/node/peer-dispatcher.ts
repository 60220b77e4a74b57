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
 * Example:
 *   const dispatcher = new PeerDispatcher();
 *   dispatcher.route("membership.", (from, m) => membership.handle(from, m));
 *   network.serve(dispatcher.handle);
 */
export class PeerDispatcher {
  private readonly routes: Array<{ prefix: string; handler: RequestHandler }> = [];
  private unroutedCount = 0;

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
      for (const { prefix, handler } of this.routes) if (type.startsWith(prefix)) return handler(from, message);
    }
    this.unroutedCount++;
    return undefined;
  };
}
