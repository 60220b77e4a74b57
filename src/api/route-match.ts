/**
 * Route matching for the native API without regular expressions: split the path on "/" and
 * look at the segments. Each route has a pattern (the metrics label) and the methods it allows
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
});

export const routeMethods: Readonly<Record<RouteId, readonly string[]>> = Object.freeze({
  [Route.health]: ["GET", "HEAD"],
  [Route.metrics]: ["GET", "HEAD"],
  [Route.tables]: ["GET", "HEAD", "POST"],
  [Route.table]: ["GET", "HEAD", "DELETE"],
  [Route.items]: ["GET", "HEAD"],
  [Route.item]: ["GET", "HEAD", "PUT", "DELETE"],
  [Route.batch]: ["POST"],
});

export interface RouteMatch {
  route: RouteId;
  /** Raw (still percent-encoded) table segment, when the route has one. */
  table: string;
  /** Raw (still percent-encoded) key segment, for the item route. */
  key: string;
  /** The query string after "?", or "". */
  query: string;
}

/** Matches `url` (path plus optional query), or undefined for an unknown route. */
export function matchRoute(url: string): RouteMatch | undefined {
  const q = url.indexOf("?");
  const path = q < 0 ? url : url.slice(0, q);
  const query = q < 0 ? "" : url.slice(q + 1);
  const s = path.split("/");
  if (s[0] !== "") return undefined;
  if (s.length === 2) {
    if (s[1] === "health") return { route: Route.health, table: "", key: "", query };
    if (s[1] === "metrics") return { route: Route.metrics, table: "", key: "", query };
    return undefined;
  }
  if (s[1] !== "v1" || s[2] !== "tables") return undefined;
  if (s.length === 3) return { route: Route.tables, table: "", key: "", query };
  const table = s[3]!;
  if (table === "") return undefined;
  if (s.length === 4) return { route: Route.table, table, key: "", query };
  if (s[4] === "items") {
    if (s.length === 5) return { route: Route.items, table, key: "", query };
    if (s.length === 6) return { route: Route.item, table, key: s[5]!, query };
    return undefined;
  }
  if (s[4] === "batch" && s.length === 5) return { route: Route.batch, table, key: "", query };
  return undefined;
}
