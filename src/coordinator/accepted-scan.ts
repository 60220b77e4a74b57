import { assertVersioned } from "../paxos/acceptor-record.js";
import type { StrongVersioned } from "../paxos/strong-coordinator.js";
import type { ReplicaService } from "../replica/replica-service.js";
import { scanMessage } from "../replica/replica-messages.js";
import type { ScanRange } from "../replica/sibling-scan.js";
import type { Network, NodeId } from "../runtime/network.js";
import { isRemoteFailure } from "../transport/remote-failure.js";

/**
 * One page of a strong table's accepted values from one acceptor (a "replica.query" with
 * records "accepted"; this node by a local call): the eventual read of a strong query. The
 * first acceptor in `targets` that answers is used. What one acceptor accepted may not be
 * chosen yet; a strong query re-reads each key through the protocol.
 */
export interface AcceptedScanOptions {
  self: NodeId;
  network: Network | undefined;
  replicas: Pick<ReplicaService, "scanAccepted">;
  timeoutMs: number;
  /**
   * Whether this node's acceptor is relearning (acceptor-relearn.ts: a new data directory):
   * its records are then incomplete, so it does not answer for itself and the scan moves on
   * to the next target (a relearning peer refuses the same way, `refuseAcceptedScans`).
   */
  relearning?: () => boolean;
}

export interface AcceptedPage {
  entries: { key: Uint8Array; value: StrongVersioned | undefined }[];
  exhausted: boolean;
}

/** Why a relearning acceptor does not list its records (it lost them; others still hold them). */
export const relearningRefusal = "its acceptor is relearning its records after losing its data directory";

export async function scanAcceptedValues(options: AcceptedScanOptions, targets: readonly NodeId[], range: ScanRange): Promise<{ ok: true; page: AcceptedPage } | { ok: false; errors: string[] }> {
  const errors: string[] = [];
  for (const node of targets) {
    if (node === options.self) {
      if (options.relearning?.() === true) {
        errors.push(`${node}: ${relearningRefusal}`);
        continue;
      }
      return { ok: true, page: options.replicas.scanAccepted(range) };
    }
    if (options.network === undefined) continue;
    const result = await options.network.request<{ ok?: boolean; entries?: unknown; exhausted?: unknown; error?: string }>(node, scanMessage("replica.query", range, "accepted"), { timeoutMs: options.timeoutMs });
    if (!result.ok) {
      errors.push(`${node}: ${result.error}`);
      continue;
    }
    const page = isRemoteFailure(result.reply) ? result.reply.shoalRemoteFailure.message : parseAcceptedReply(result.reply, range.limit);
    if (typeof page === "string") errors.push(`${node}: ${page}`);
    else return { ok: true, page };
  }
  return { ok: false, errors };
}

function parseAcceptedReply(reply: { ok?: boolean; entries?: unknown; exhausted?: unknown; error?: string } | null, limit: number): AcceptedPage | string {
  if (reply?.ok !== true) return reply?.error ?? "refused";
  if (!Array.isArray(reply.entries) || reply.entries.length > limit || typeof reply.exhausted !== "boolean") return "scan reply is malformed";
  const entries: AcceptedPage["entries"] = [];
  for (const entry of reply.entries as unknown[]) {
    if (!Array.isArray(entry) || !(entry[0] instanceof Uint8Array)) return "scan reply entry is not [key, value]";
    const value = entry[1] === null ? undefined : (entry[1] as StrongVersioned);
    if (value !== undefined) {
      try {
        assertVersioned(value, "accepted scan reply");
      } catch {
        return "scan reply holds a malformed value";
      }
    }
    entries.push({ key: entry[0], value });
  }
  return { entries, exhausted: reply.exhausted };
}
