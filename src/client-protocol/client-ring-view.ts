import { parseRing, type RingState } from "../ring/ring-state.js";
import { partitionOf } from "../ring/partition-hash.js";
import { preferenceList } from "../ring/preference-list.js";
import type { NodeId } from "../runtime/network.js";
import type { ClientMemberInfo, ClientRingAnswer } from "./client-messages.js";
import type { NodeAddress } from "./node-connections.js";

/**
 * The Shoal client's picture of the cluster: the ring it places keys with (fetched with
 * `client.ring`), what gossip said about each member, and the preference order per partition
 * (ring/preference-list.ts over every member, so the first entries are the key's primaries and
 * the rest give a read somewhere to go). Placement is cached per partition and rebuilt when a
 * newer ring arrives, so it is bounded by the ring's partition count.
 */
export class ClientRingView {
  private current: RingState | undefined;
  private members = new Map<NodeId, ClientMemberInfo>();
  private placements = new Map<number, readonly NodeId[]>();
  private nextAnyNode = 0;

  /** The ring keys are placed with; only after a first successful `adopt`. */
  get ring(): RingState {
    if (this.current === undefined) throw new Error("ClientRingView: no ring adopted yet");
    return this.current;
  }

  get version(): number {
    return this.current?.version ?? 0;
  }

  /**
   * Takes a fetched answer: a valid ring not older than ours replaces it, and its members'
   * states and addresses replace ours. Returns false when the answer holds no valid ring.
   */
  adopt(answer: ClientRingAnswer): boolean {
    const parsed = parseRing(answer.ring);
    if (!parsed.ok) return false;
    if (this.current !== undefined && parsed.ring.version < this.current.version) return true;
    if (this.current?.version !== parsed.ring.version) this.placements = new Map();
    this.current = parsed.ring;
    const ringIds = new Set(parsed.ring.members.map((m) => m.id));
    this.members = new Map(answer.members.filter((m) => ringIds.has(m.id)).map((m) => [m.id, m]));
    return true;
  }

  /** Peer addresses of the ring's members (for NodeConnections.setAddresses). */
  addresses(): Map<NodeId, NodeAddress> {
    return new Map([...this.members].map(([id, m]) => [id, { host: m.host, peerPort: m.peerPort }]));
  }

  /** Every member in the preference order of the partition that holds `partitionKey`. */
  placement(partitionKey: Uint8Array): readonly NodeId[] {
    const ring = this.ring;
    const partition = partitionOf(partitionKey, ring.partitionCount);
    let nodes = this.placements.get(partition);
    if (nodes === undefined) {
      nodes = preferenceList(ring, partition, ring.members.length);
      this.placements.set(partition, nodes);
    }
    return nodes;
  }

  /** All members, starting from a rotating one, for requests no key places (list). */
  anyNodes(): NodeId[] {
    const ids = this.ring.members.map((m) => m.id);
    const start = this.nextAnyNode++ % ids.length;
    return [...ids.slice(start), ...ids.slice(0, start)];
  }

  /**
   * Up to `attemptsMax` of `nodes` to try, in order: live members (gossip says up, joining or
   * leaving) that did not fail lately first, keeping the preference order; then the others,
   * since gossip and local failure marks are only hints.
   */
  candidates(nodes: readonly NodeId[], attemptsMax: number, failedLately: (id: NodeId) => boolean): NodeId[] {
    const healthy: NodeId[] = [];
    const doubtful: NodeId[] = [];
    for (const id of nodes) {
      const state = this.members.get(id)?.state;
      const live = state === "up" || state === "joining" || state === "leaving";
      (live && !failedLately(id) ? healthy : doubtful).push(id);
    }
    return [...healthy, ...doubtful].slice(0, attemptsMax);
  }
}
