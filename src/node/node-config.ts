import type { Limits } from "../limits.js";

/**
 * Everything a Shoal node process needs to start, after the CLI has merged its defaults, the
 * config file (--config) and the flags (flags win). The CLI owns parsing and the data
 * directory (lock, node id); ShoalNode owns the running node.
 */
export interface NodeConfig {
  host: string;
  /** Client port: native REST, admin, and (later) the DynamoDB API. 0 picks a free port. */
  port: number;
  /** Peer port for node-to-node RPC (membership now, replication later). 0 picks a free port. */
  peerPort: number;
  /**
   * Seeds to join, as "host:peerPort" (`--join`). Empty: this node forms a cluster of one, or
   * (after a restart) resumes the ring it persisted and waits for its peers to reach it.
   */
  join: readonly string[];
  /**
   * The host peers and clients should use to reach this node, gossiped in its member record.
   * Absent: `host`, or 127.0.0.1 when `host` is a wildcard (0.0.0.0, ::).
   */
  advertisedHost?: string;
  /** How long start() keeps trying to reach at least one seed before giving up. */
  joinTimeoutMs: number;
  dataDir: string;
  nodeId: string;
  storage: "lmdb" | "memory";
  /** Acknowledge writes only after fsync (group commit). Default true. */
  durableWrites: boolean;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  limits: Limits;
  /** How often expired items are swept from storage. */
  expirySweepIntervalMs: number;
  /** How long shutdown waits for in-flight requests before closing storage anyway. */
  shutdownGraceMs: number;
  /** Fault injection: offset added to this node's wall clock. */
  clockOffsetMs: number;
  /**
   * `--plan`: the cluster's plan mode (node/cluster-plan.ts). A node forming a cluster starts it
   * in this mode; a new node joining asks its cluster for it before it is seen; a restarted
   * node keeps the cluster's mode. Absent: "auto" for a new cluster, no change otherwise.
   */
  planMode?: "auto" | "manual";
  /**
   * Merkle anti-entropy on eventual tables (anti-entropy/). "off": replica writes keep no
   * version-hash index and no trees, and no exchanges run (a later start with "on" heals the
   * index in the background: anti-entropy/index-verify.ts).
   */
  antiEntropy: "on" | "off";
  /** Time between exchange rounds; each round exchanges every tree with one other replica. */
  antiEntropyIntervalMs: number;
  /** Exchanges running at once. */
  antiEntropyConcurrency: number;
  /** Exchange traffic this node starts, in bytes per second (both directions). */
  antiEntropyBytesPerSecond: number;
}

export const nodeConfigDefaults = {
  host: "127.0.0.1",
  port: 8000,
  peerPort: 9000,
  join: [],
  joinTimeoutMs: 10_000,
  dataDir: "./data",
  storage: "lmdb",
  durableWrites: true,
  logLevel: "info",
  expirySweepIntervalMs: 1000,
  shutdownGraceMs: 10_000,
  clockOffsetMs: 0,
  antiEntropy: "on",
  antiEntropyIntervalMs: 10_000,
  antiEntropyConcurrency: 2,
  antiEntropyBytesPerSecond: 4 * 1024 * 1024,
} as const satisfies Partial<NodeConfig>;
