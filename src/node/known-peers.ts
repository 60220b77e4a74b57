import { Packr } from "msgpackr";
import type { NodeId } from "../runtime/network.js";
import type { StorageEngine } from "../storage/storage-engine.js";
import { metaKey } from "../storage/keyspace.js";

/**
 * The peer addresses this node last knew, kept in storage so a restarted node finds its cluster
 * again without --join (the first node of `shoal cluster` has no seed; the others hold it as
 * "down" and do not call it back). They are a hint: a stale entry only costs failed dials, and
 * an address now held by another node is refused by the transport's node-id handshake.
 */
export interface PeerAddressRecord {
  id: NodeId;
  host: string;
  peerPort: number;
}

export const knownPeersMetaKey = metaKey("cluster.peers");
const packr = new Packr({ useRecords: false, moreTypes: false, structuredClone: false });

export class KnownPeers {
  private readonly peers = new Map<NodeId, PeerAddressRecord>();

  private constructor(
    private readonly storage: StorageEngine,
    /** Entries kept; membership's membersMax bounds the view, so this bounds the same set. */
    private readonly peersMax: number,
  ) {}

  /** The persisted entries (malformed ones dropped), at most peersMax. */
  static load(storage: StorageEngine, peersMax: number): KnownPeers {
    const known = new KnownPeers(storage, peersMax);
    const bytes = storage.get(knownPeersMetaKey);
    const value: unknown = bytes === undefined ? [] : unpackOrEmpty(bytes);
    for (const entry of Array.isArray(value) ? value : []) {
      const peer = parsePeer(entry);
      if (peer !== undefined && known.peers.size < peersMax) known.peers.set(peer.id, peer);
    }
    return known;
  }

  list(): PeerAddressRecord[] {
    return [...this.peers.values()];
  }

  /** Records `peer`; persists when something changed. Beyond peersMax, new peers are not kept. */
  set(peer: PeerAddressRecord): Promise<void> {
    const current = this.peers.get(peer.id);
    if (current !== undefined && current.host === peer.host && current.peerPort === peer.peerPort) return Promise.resolve();
    if (current === undefined && this.peers.size >= this.peersMax) return Promise.resolve();
    this.peers.set(peer.id, { id: peer.id, host: peer.host, peerPort: peer.peerPort });
    return this.persist();
  }

  delete(id: NodeId): Promise<void> {
    return this.peers.delete(id) ? this.persist() : Promise.resolve();
  }

  /** Not durable: losing the newest address on a power cut only costs a --join later. */
  private persist(): Promise<void> {
    return this.storage.write([{ type: "put", key: knownPeersMetaKey, value: packr.pack(this.list()) }]);
  }
}

function unpackOrEmpty(bytes: Uint8Array): unknown {
  try {
    return packr.unpack(bytes);
  } catch {
    return [];
  }
}

function parsePeer(value: unknown): PeerAddressRecord | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const ok = typeof v.id === "string" && v.id.length > 0 && typeof v.host === "string" && v.host.length > 0 &&
    Number.isInteger(v.peerPort) && (v.peerPort as number) > 0 && (v.peerPort as number) < 65_536;
  return ok ? { id: v.id as string, host: v.host as string, peerPort: v.peerPort as number } : undefined;
}
