import type { Network, NodeId } from "../runtime/network.js";

/**
 * Asks one peer for its ring, the way gossip does (a "membership.sync" with no members and no
 * ring stamp: the peer answers with its ring and stamp whenever it holds one), and hands what
 * comes back to membership as a "membership.ring" message, which adopts it only when its stamp
 * is newer (membership/ring-keeper.ts) and after checking it (parseRing). Used by the eventual
 * coordinator when a replica refused a write or a read for a newer ring (replica/ring-fence.ts),
 * so the retry need not wait for the next gossip round. Never throws; resolves when done or
 * given up.
 *
 * Requests to one peer are coalesced: while one is in flight, another learn from that peer
 * waits for it instead of sending its own (a burst of reads refused during a ring change asks
 * once). At most one request per peer is in flight, so the map is bounded by the cluster size.
 */
export function learnRingFrom(network: Network, membership: { handle(from: NodeId, message: unknown): unknown }, timeoutMs: number): (peer: NodeId) => Promise<void> {
  const inFlight = new Map<NodeId, Promise<void>>();
  const learn = async (peer: NodeId): Promise<void> => {
    const result = await network.request<{ type?: unknown; ring?: unknown; ringStamp?: unknown }>(peer, { type: "membership.sync", members: [], ringStamp: null }, { timeoutMs });
    if (!result.ok || result.reply === null || typeof result.reply !== "object" || result.reply.type !== "membership.sync-reply") return;
    const stamp = result.reply.ringStamp as { origin?: unknown } | null | undefined;
    if (result.reply.ring === null || result.reply.ring === undefined || typeof stamp?.origin !== "string") return;
    membership.handle(peer, { type: "membership.ring", ring: result.reply.ring, origin: stamp.origin });
  };
  return (peer) => {
    const pending = inFlight.get(peer);
    if (pending !== undefined) return pending;
    const started = learn(peer)
      .catch(() => undefined)
      .finally(() => inFlight.delete(peer));
    inFlight.set(peer, started);
    return started;
  };
}
