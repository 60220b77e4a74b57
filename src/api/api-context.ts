import type { TableCatalog } from "../catalog/table-catalog.js";
import type { TableDefinition } from "../catalog/table-definition.js";
import type { ItemKeyParts, ItemOperations } from "../coordinator/item-operations.js";
import type { Limits } from "../limits.js";
import type { Clock } from "../runtime/runtime.js";
import { ShoalError, badRequest, conflict, notFound, preconditionFailed, unavailable } from "../errors.js";
import type { StoreFailure } from "../replica/store-result.js";
import type { AntiEntropyStatus } from "./anti-entropy-handler.js";
import type { ClusterForgetResult, ClusterPlanAccess, ClusterStatus } from "./cluster-handler.js";

/**
 * What the REST handlers need from the node: the catalog, the item operations (an interface:
 * the handlers never see storage or replicas), the limits and a clock for expiry times.
 */
export interface ApiContext {
  readonly tables: TableCatalog;
  readonly items: ItemOperations;
  readonly limits: Limits;
  readonly clock: Clock;
  /** Members of the cluster, for the effective replication a table description shows. */
  clusterSize(): number;
  /** This node's view of the cluster, for GET /v1/cluster. */
  cluster(): ClusterStatus;
  /** The staged membership plan (GET/POST/DELETE /v1/cluster/plan, POST /v1/cluster/commit); absent: 503. */
  readonly clusterPlan?: ClusterPlanAccess;
  /** POST /v1/cluster/forget: drops a dead leaver's pending departure cluster-wide; absent: 503. */
  clusterForget?(node: string): Promise<ClusterForgetResult>;
  /** This node's anti-entropy trees (roots) and counters, for GET /v1/internal/anti-entropy. */
  antiEntropy(): AntiEntropyStatus;
  /** A table was dropped: remove its items in the background. */
  tableDropped(table: TableDefinition): void;
}

/** The table a request names, or 404 TableNotFound. */
export function requireTable(context: ApiContext, rawName: string): TableDefinition {
  let name = rawName;
  if (rawName.includes("%")) {
    try {
      name = decodeURIComponent(rawName);
    } catch {
      name = rawName;
    }
  }
  const table = context.tables.get(name);
  if (table === undefined) throw notFound("TableNotFound", `table "${name.slice(0, 255)}" does not exist`);
  return table;
}

/**
 * A failure value from the coordinator, as the edge's error. The statuses are the ones
 * replica/store-result.ts lists; 503 and 504 carry different codes so a client can tell "nothing
 * was written" (Unavailable, Overloaded) from "the outcome is unknown" (Indeterminate).
 */
export function storeError(failure: StoreFailure, action: string): ShoalError {
  const message = `${action}: ${failure.message}`;
  switch (failure.code) {
    case "PreconditionFailed":
      return preconditionFailed(message);
    case "ItemNotFound":
      return notFound("ItemNotFound", message);
    case "TableNotFound":
      return notFound("TableNotFound", message);
    case "BadRequest":
      return badRequest("BadRequest", message);
    case "TooManySiblings":
      return conflict("TooManySiblings", message);
    case "Overloaded":
      return unavailable("Overloaded", message);
    case "Unavailable":
      return unavailable("Unavailable", message);
    case "Indeterminate":
      return new ShoalError("Indeterminate", 504, message);
  }
}

/** A key for messages: decoded, shortened, quoted (the sort key after a "/" when there is one). */
export function describeKey(table: TableDefinition, key: ItemKeyParts | Uint8Array): string {
  const parts = key instanceof Uint8Array ? { partitionKey: key } : key;
  const text = shortText(parts.partitionKey) + (parts.sortKey === undefined ? "" : `/${shortText(parts.sortKey)}`);
  return `"${table.name}/${text}"`;
}

function shortText(bytes: Uint8Array): string {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
  return text.length > 100 ? `${text.slice(0, 100)}...` : text;
}
