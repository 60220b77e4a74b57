/**
 * Route matching for the native API without regular expressions or splitting: walk the
 * segments with indexOf. Each route has a pattern (the metrics label) and the methods it allows
 * (the `Allow` header of a 405).
 */
export const Route = Object.freeze({
  health: 0,
  metrics: 1,
  tables: 2,
  table: 3,
  items: 4,
  item: 5,
  batch: 6,
  cluster: 7,
  increment: 8,
  antiEntropy: 9,
  clusterPlan: 10,
  clusterCommit: 11,
  clusterForget: 12,
} as const);

export type RouteId = (typeof Route)[keyof typeof Route];

export const routePatterns: Readonly<Record<RouteId, string>> = Object.freeze({
  [Route.health]: "/health",
  [Route.metrics]: "/metrics",
  [Route.tables]: "/v1/tables",
  [Route.table]: "/v1/tables/{table}",
  [Route.items]: "/v1/tables/{table}/items",
  [Route.item]: "/v1/tables/{table}/items/{key}",
  [Route.batch]: "/v1/tables/{table}/batch",
  [Route.cluster]: "/v1/cluster",
  [Route.increment]: "/v1/tables/{table}/items/{key}/increment",
  [Route.antiEntropy]: "/v1/internal/anti-entropy",
  [Route.clusterPlan]: "/v1/cluster/plan",
  [Route.clusterCommit]: "/v1/cluster/commit",
  [Route.clusterForget]: "/v1/cluster/forget",
});

export const routeMethods: Readonly<Record<RouteId, readonly string[]>> = Object.freeze({
  [Route.health]: ["GET", "HEAD"],
  [Route.metrics]: ["GET", "HEAD"],
  [Route.tables]: ["GET", "HEAD", "POST"],
  [Route.table]: ["GET", "HEAD", "DELETE"],
  [Route.items]: ["GET", "HEAD"],
  [Route.item]: ["GET", "HEAD", "PUT", "DELETE"],
  [Route.batch]: ["POST"],
  [Route.cluster]: ["GET", "HEAD"],
  [Route.increment]: ["POST"],
  [Route.antiEntropy]: ["GET", "HEAD"],
  [Route.clusterPlan]: ["GET", "HEAD", "POST", "DELETE"],
  [Route.clusterCommit]: ["POST"],
  [Route.clusterForget]: ["POST"],
});

export interface RouteMatch {
  route: RouteId;
  /** Raw (still percent-encoded) table segment, when the route has one. */
  table: string;
  /** Raw (still percent-encoded) key segment, for the item and increment routes. */
  key: string;
  /** The query string after "?", or "". */
  query: string;
}

const tablesPrefix = "/v1/tables";
const SLASH = 47;

/** Matches `url` (path plus optional query), or undefined for an unknown route. */
export function matchRoute(url: string): RouteMatch | undefined {
  const q = url.indexOf("?");
  const end = q < 0 ? url.length : q;
  const query = q < 0 ? "" : url.slice(q + 1);
  if (!url.startsWith(tablesPrefix)) {
    const path = q < 0 ? url : url.slice(0, end);
    if (path === "/health") return { route: Route.health, table: "", key: "", query };
    if (path === "/metrics") return { route: Route.metrics, table: "", key: "", query };
    if (path === "/v1/cluster") return { route: Route.cluster, table: "", key: "", query };
    if (path === "/v1/cluster/plan") return { route: Route.clusterPlan, table: "", key: "", query };
    if (path === "/v1/cluster/commit") return { route: Route.clusterCommit, table: "", key: "", query };
    if (path === "/v1/cluster/forget") return { route: Route.clusterForget, table: "", key: "", query };
    if (path === "/v1/internal/anti-entropy") return { route: Route.antiEntropy, table: "", key: "", query };
    return undefined;
  }
  // Walk the segments after "/v1/tables" with indexOf: no split, no regular expression.
  let at = tablesPrefix.length;
  if (at === end) return { route: Route.tables, table: "", key: "", query };
  if (url.charCodeAt(at) !== SLASH) return undefined;
  const tableEnd = segmentEnd(url, at + 1, end);
  if (tableEnd === at + 1) return undefined;
  const table = url.slice(at + 1, tableEnd);
  if (tableEnd === end) return { route: Route.table, table, key: "", query };
  at = tableEnd + 1;
  const wordEnd = segmentEnd(url, at, end);
  const word = url.slice(at, wordEnd);
  if (word === "batch") return wordEnd === end ? { route: Route.batch, table, key: "", query } : undefined;
  if (word !== "items") return undefined;
  if (wordEnd === end) return { route: Route.items, table, key: "", query };
  const keyEnd = segmentEnd(url, wordEnd + 1, end);
  const key = url.slice(wordEnd + 1, keyEnd);
  if (keyEnd === end) return { route: Route.item, table, key, query };
  // A "/" inside a key travels as %2F, so a further segment is an action on the item.
  if (key !== "" && url.slice(keyEnd + 1, end) === "increment") return { route: Route.increment, table, key, query };
  return undefined;
}

/** Index of the "/" ending the segment that starts at `from`, or `end`. */
function segmentEnd(url: string, from: number, end: number): number {
  const slash = url.indexOf("/", from);
  return slash < 0 || slash > end ? end : slash;
}
