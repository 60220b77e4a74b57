import type { ReplicaService } from "../replica/replica-service.js";
import { scanMessage, type ScanPlacement } from "../replica/replica-messages.js";
import { isRingRefusal } from "../replica/ring-fence.js";
import type { ScanRange } from "../replica/sibling-scan.js";
import type { Network, NodeId } from "../runtime/network.js";
import { isRemoteFailure } from "../transport/remote-failure.js";
import * as dvvset from "../versioning/dotted-version-vector-set.js";
import { isSibling } from "../versioning/sibling.js";
import type { ReplicaScanReply } from "./scan-merge.js";

/**
 * Sends one scan ("replica.list" or "replica.query") to several replicas (this node by a local
 * call) and collects their pages: it resolves once `needed` replicas answered (and, when given,
 * `complete` holds for the nodes that answered: a list needs a replica of every partition), or
 * when every one has answered or failed (each request has the network's deadline). A reply is checked
 * before it is trusted (its entries within the asked limit, each set parsed).
 *
 * A query passes `placed` (the ring version and n its partition key was placed on), a list the
 * ring version it worked out its coverage on: each replica message carries it, and a replica
 * whose newer ring no longer places the query's key (a list: any newer ring) refuses the scan
 * (replica/ring-fence.ts); such a refusal is an error that is also listed in `refusals`, so the
 * caller can learn that ring and ask the new replicas.
 */
export interface ScanFanOutOptions {
  self: NodeId;
  network: Network | undefined;
  replicas: Pick<ReplicaService, "scan">;
  timeoutMs: number;
}

export interface ScanGathered {
  replies: ReplicaScanReply[];
  errors: { node: NodeId; error: string }[];
  /** Replicas that refused the scan for their newer ring (only with `placed`), and that ring's version. */
  refusals: { node: NodeId; ringVersion: number }[];
  /** The nodes whose replies are in `replies`. */
  answered: Set<NodeId>;
}

export function gatherScans(
  options: ScanFanOutOptions,
  type: "replica.list" | "replica.query",
  targets: readonly NodeId[],
  range: ScanRange,
  needed: number,
  placed?: ScanPlacement,
  complete?: (answered: ReadonlySet<NodeId>) => boolean,
): Promise<ScanGathered> {
  const gathered: ScanGathered = { replies: [], errors: [], refusals: [], answered: new Set() };
  return new Promise((resolve) => {
    let pending = targets.length;
    if (pending === 0) resolve(gathered);
    for (const node of targets) {
      void scanOne(options, type, node, range, placed).then((reply) => {
        if (typeof reply === "string") gathered.errors.push({ node, error: reply });
        else if ("refusedOnRing" in reply) {
          gathered.errors.push({ node, error: reply.message });
          gathered.refusals.push({ node, ringVersion: reply.refusedOnRing });
        } else {
          gathered.replies.push(reply);
          gathered.answered.add(node);
        }
        pending--;
        if ((gathered.replies.length >= needed && (complete === undefined || complete(gathered.answered))) || pending === 0) resolve(gathered);
      });
    }
  });
}

async function scanOne(options: ScanFanOutOptions, type: "replica.list" | "replica.query", node: NodeId, range: ScanRange, placed: ScanPlacement | undefined): Promise<ReplicaScanReply | { refusedOnRing: number; message: string } | string> {
  try {
    // This node's own replica holds the ring the caller placed with: no fence to check.
    if (node === options.self) return options.replicas.scan(range);
    if (options.network === undefined) return "no network";
    const result = await options.network.request<{ ok?: boolean; entries?: unknown; exhausted?: unknown; error?: string }>(node, scanMessage(type, range, "siblings", undefined, placed), { timeoutMs: options.timeoutMs });
    if (!result.ok) return result.error;
    if (isRemoteFailure(result.reply)) return result.reply.shoalRemoteFailure.message;
    if (isRingRefusal(result.reply)) return { refusedOnRing: result.reply.ringVersion, message: `ring: ${result.reply.message}` };
    return parseScanReply(result.reply, range.limit);
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

function parseScanReply(reply: { ok?: boolean; entries?: unknown; exhausted?: unknown; error?: string } | null, limit: number): ReplicaScanReply | string {
  if (reply?.ok !== true) return reply?.error ?? "refused";
  if (!Array.isArray(reply.entries) || reply.entries.length > limit || typeof reply.exhausted !== "boolean") return "scan reply is malformed";
  const entries: ReplicaScanReply["entries"][number][] = [];
  for (const entry of reply.entries as unknown[]) {
    if (!Array.isArray(entry) || !(entry[0] instanceof Uint8Array)) return "scan reply entry is not [key, set]";
    const parsed = dvvset.parse(entry[1], isSibling);
    if (!parsed.ok) return `scan reply: ${parsed.error}`;
    entries.push({ key: entry[0], set: parsed.set });
  }
  return { entries, exhausted: reply.exhausted };
}
