import type { ApiContext } from "./api-context.js";
import { sendJson } from "./respond.js";
import type { ShoalRequest, ShoalResponse } from "./shoal-response.js";

/**
 * `GET /v1/internal/anti-entropy` (issue 6): this node's anti-entropy state for operators and
 * the benchmarks. Two replicas of a tree ("partition/n") agree exactly when their `root`s are
 * equal, so a convergence check compares roots across the nodes `replicas` names. Bounded by
 * the trees the node keeps (treesMax). Internal: the shape may change between versions.
 */
export interface AntiEntropyTreeStatus {
  partition: number;
  n: number;
  /** 16 hex digits; all zeros for a tree with no keys. */
  root: string;
  /** The tree's preference list in this node's ring. */
  replicas: string[];
  /** Milliseconds since this node's last complete exchange of the tree, or null for never. */
  lastCompleteAgeMs: number | null;
}

export interface AntiEntropyStatus {
  /** false when the node was started with --anti-entropy off (no trees, no exchanges). */
  enabled: boolean;
  /** True once the trees were rebuilt from their index after start (exchanges run only then). */
  loaded: boolean;
  schedule: { intervalMs: number; concurrency: number; bytesPerSecond: number };
  exchanges: number;
  exchangesAgreed: number;
  exchangesFailed: number;
  keysDiffering: number;
  keysRepaired: number;
  bytes: number;
  /** Leaf segments an exchange put off because they were written within the last few seconds. */
  segmentsDeferred: number;
  /** Rounds run, anti-entropy messages sent (requests and replies), leaf segments rehashed from the index: what the rounds cost. */
  rounds: number;
  messages: number;
  segmentsRehashed: number;
  trees: AntiEntropyTreeStatus[];
}

export function getAntiEntropy(context: ApiContext, _req: ShoalRequest, res: ShoalResponse): void {
  sendJson(res, 200, context.antiEntropy());
}
