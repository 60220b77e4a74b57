import type { Network, NodeId } from "../runtime/network.js";
import { parseRingStamp } from "./ring-record.js";

/**
 * Which of `nodes` hold the ring (version, hash) or a newer one, asked with one
 * "membership.ring-stamp" request each (membership.ts answers with its ring stamp). A node that
 * does not answer, holds an older ring, or holds another ring of that version (another hash)
 * has not acknowledged it. Without `hash` (membership that does not agree rings) the version
 * alone is compared. Used before a partition's old copy is dropped (handoff/partition-release.ts):
 * every new owner must hold the same settled ring first.
 */
export async function ringAcknowledgedBy(network: Network, nodes: readonly NodeId[], ring: { version: number; hash?: string }, timeoutMs: number): Promise<Set<NodeId>> {
  const answers = await Promise.all(
    nodes.map(async (id) => {
      const result = await network.request<{ ringStamp?: unknown }>(id, { type: "membership.ring-stamp" }, { timeoutMs });
      if (!result.ok || typeof result.reply !== "object" || result.reply === null) return undefined;
      const stamp = parseRingStamp(result.reply.ringStamp ?? null);
      if (stamp === undefined || stamp === null) return undefined;
      const holds = stamp.version > ring.version || (stamp.version === ring.version && (ring.hash === undefined || stamp.hash === ring.hash));
      return holds ? id : undefined;
    }),
  );
  return new Set(answers.filter((id): id is NodeId => id !== undefined));
}
