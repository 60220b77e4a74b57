import type { ItemKeyParts, ItemVersion } from "../coordinator/item-operations.js";
import type { Consistency } from "../catalog/table-definition.js";
import type { QuorumOverrides } from "../coordinator/quorum-options.js";
import type { WriteCondition } from "../replica/item-write.js";
import type { RingState } from "../ring/ring-state.js";

/**
 * The messages of the Shoal client protocol (issue 3, item 6): what the partition-aware client
 * (client/shoal-client.ts) sends to a node's peer port over the binary transport, and what the
 * node answers. Every message is a plain MessagePack map whose `type` starts with "client.", so
 * the node's PeerDispatcher routes the whole family to one handler (client-protocol-handler.ts).
 *
 * Keys and values travel as raw bytes; the node owns the key encoding. Every answer carries the
 * node's ring version, so a client placing keys with an older ring learns it at once and
 * refetches (`client.ring`); expected failures travel as `{ code, message }` with the
 * StoreFailure codes (replica/store-result.ts) plus `BadRequest` for malformed messages.
 */
export const clientMessageTypes = {
  ping: "client.ping",
  ring: "client.ring",
  get: "client.get",
  put: "client.put",
  delete: "client.delete",
  list: "client.list",
} as const;

/** The dispatcher prefix the node routes to the client protocol handler. */
export const clientMessagePrefix = "client.";

/** An item key on the wire: the user's raw partition key and optional sort key. */
export interface WireItemKey {
  partitionKey: Uint8Array;
  sortKey?: Uint8Array;
}

/** Opens a connection's use (the answer proves the handshake finished) and reports the ring version. */
export interface ClientPingRequest {
  type: typeof clientMessageTypes.ping;
}

export interface ClientRingRequest {
  type: typeof clientMessageTypes.ring;
}

export interface ClientGetRequest {
  type: typeof clientMessageTypes.get;
  table: string;
  key: WireItemKey;
  quorum?: Pick<QuorumOverrides, "r" | "pr">;
  consistency?: Consistency;
}

export interface ClientPutRequest {
  type: typeof clientMessageTypes.put;
  table: string;
  key: WireItemKey;
  value: Uint8Array;
  contentType?: string;
  metadata?: Record<string, string>;
  /** Absolute expiry in ms since the epoch, or null/absent for none. */
  expiresAtMs?: number | null;
  quorum?: Pick<QuorumOverrides, "w" | "dw" | "pw">;
  /** The causal context of the read this write follows. */
  context?: string;
  condition?: WriteCondition;
}

export interface ClientDeleteRequest {
  type: typeof clientMessageTypes.delete;
  table: string;
  key: WireItemKey;
  quorum?: Pick<QuorumOverrides, "w" | "dw" | "pw">;
  context?: string;
  condition?: WriteCondition;
}

export interface ClientListRequest {
  type: typeof clientMessageTypes.list;
  table: string;
  /** Raw partition-key prefix; absent or empty for the whole table. */
  prefix?: Uint8Array;
  /** Resume strictly after this key. */
  after?: WireItemKey;
  /** Items per page; the node's default when absent, never above its maximum. */
  limit?: number;
}

export type ClientRequest = ClientPingRequest | ClientRingRequest | ClientGetRequest | ClientPutRequest | ClientDeleteRequest | ClientListRequest;

/** A cluster member as the client needs it: where to dial, and what gossip says about it. */
export interface ClientMemberInfo {
  id: string;
  host: string;
  peerPort: number;
  /** The member's REST endpoint, "http://host:clientPort". */
  clientUrl: string;
  state: "up" | "suspect" | "down" | "joining" | "leaving";
}

export interface ClientRingAnswer {
  /** Null while the node holds no ring yet (a joiner that has not heard from its seed). */
  ring: RingState | null;
  members: ClientMemberInfo[];
}

/** ItemVersion as it travels: the same fields, the timestamp a hybrid-logical-clock number. */
export type WireItemVersion = ItemVersion;

export interface ClientGetAnswer {
  /** Empty when the item does not exist. */
  siblings: WireItemVersion[];
  context: string;
}

export interface ClientPutAnswer {
  item: WireItemVersion;
  created: boolean;
  context: string;
}

export interface ClientDeleteAnswer {
  existed: boolean;
}

export interface ClientListAnswer {
  items: Array<{ key: ItemKeyParts; siblings: WireItemVersion[] }>;
  resumeAfter: ItemKeyParts | null;
}

export interface ClientFailure {
  code: string;
  message: string;
}

/** Every answer: the outcome, and the answering node's ring version (0 without a ring). */
export type ClientReply<T = unknown> = { ok: true; ringVersion: number; value: T } | { ok: false; ringVersion: number; error: ClientFailure };

/** The answer type of each request type. */
export interface ClientAnswers {
  "client.ping": null;
  "client.ring": ClientRingAnswer;
  "client.get": ClientGetAnswer;
  "client.put": ClientPutAnswer;
  "client.delete": ClientDeleteAnswer;
  "client.list": ClientListAnswer;
}
