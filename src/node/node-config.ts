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
  /** Peer port for node-to-node RPC; reserved until the cluster issue uses it. */
  peerPort: number;
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
}

export const nodeConfigDefaults = {
  host: "127.0.0.1",
  port: 8000,
  peerPort: 9000,
  dataDir: "./data",
  storage: "lmdb",
  durableWrites: true,
  logLevel: "info",
  expirySweepIntervalMs: 1000,
  shutdownGraceMs: 10_000,
  clockOffsetMs: 0,
} as const satisfies Partial<NodeConfig>;
