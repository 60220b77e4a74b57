import type { DynamoAction } from "./dynamodb-requests.js";

/**
 * What the orchestrator (single-node-benchmark.ts) asks of one load process (load.ts), and what
 * that process answers on stdout as one JSON line. The load process is separate from every server
 * so that client CPU never competes with the server inside one event loop.
 */
export type LoadTarget =
  | { kind: "http"; url: string; table: string }
  | { kind: "redis"; host: string; port: number }
  /** Several Shoal nodes: worker i sends to urls[i % urls.length] (any node coordinates). */
  | { kind: "shoal-cluster"; urls: string[]; table: string; r?: number }
  /** Several Shoal nodes through the partition-aware ShoalClient (binary protocol, peer ports). */
  | { kind: "shoal-client"; seeds: string[]; table: string; r?: number }
  /** An etcd cluster through its v3 JSON gateway; worker i talks to urls[i % urls.length]. */
  | { kind: "etcd"; urls: string[]; serializable?: boolean }
  /**
   * A DynamoDB API (Shoal's or dynalite's): prepared requests (worker i to urls[i % urls.length])
   * or, with `sdk`, the AWS SDK v3 client. valueBytes is the item size.
   */
  | {
      kind: "dynamodb";
      urls: string[];
      action: DynamoAction;
      consistentRead: boolean;
      sdk: boolean;
      /** Prepared requests through undici, or through the minimal client of raw-http.ts. */
      transport: "undici" | "raw";
      kvTable: string;
      queryTable: string;
      itemsPerPartition: number;
    };

export interface LoadSpec {
  target: LoadTarget;
  /** increment: Shoal's compare-and-set increment endpoint (strong tables). */
  op: "get" | "put" | "increment";
  valueBytes: number;
  /** Operations in flight at once: one connection each. */
  concurrency: number;
  /** Keys are `<keyPrefix><n>` for n below keyCount, chosen by a seeded generator. */
  keyPrefix: string;
  keyCount: number;
  /** Write every key once before the warm-up (GET needs the keys to exist). */
  preload: boolean;
  warmupMs: number;
  durationMs: number;
  /** The measured phase also stops after this many operations. */
  opsMax: number;
  /** Server processes whose CPU time (from /proc/<pid>/stat) is measured over the same window. */
  serverPids: number[];
  seed: number;
}

export interface LatencySummary {
  p50Us: number;
  p99Us: number;
  p999Us: number;
  maxUs: number;
  meanUs: number;
}

export interface LoadResult {
  ops: number;
  errors: number;
  /** The first error seen, for the report; errors are counted, not thrown. */
  firstError: string | null;
  durationMs: number;
  opsPerSec: number;
  latency: LatencySummary;
  /** CPU used over the measured window, in percent of one core; null where not measurable. */
  loadCpuPct: number;
  serverCpuPct: number | null;
}
