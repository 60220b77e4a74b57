import { ShoalError, badRequest, conflict, notFound } from "../errors.js";
import type { CatalogFailure } from "../catalog/table-catalog.js";
import { requireTable, type ApiContext } from "./api-context.js";
import { readJsonBody } from "./json-body.js";
import type { RouteMatch } from "./route-match.js";
import { sendEmpty, sendJson } from "./respond.js";
import type { ShoalRequest, ShoalResponse } from "./shoal-response.js";
import { describeTable, parseTableSpec } from "./table-request.js";

/**
 * Tables through REST:
 *   curl -XPOST localhost:8000/v1/tables -H 'content-type: application/json' -d '{"name":"cart"}'
 *   curl localhost:8000/v1/tables           -> {"tables": [...]}
 *   curl localhost:8000/v1/tables/cart      -> the description
 *   curl -XDELETE localhost:8000/v1/tables/cart   (204; items are removed in the background)
 */
export async function createTable(context: ApiContext, req: ShoalRequest, res: ShoalResponse): Promise<void> {
  const spec = parseTableSpec(await readJsonBody(req, res, context.limits), context.limits);
  const result = await context.tables.create(spec);
  if (!result.ok) throw catalogError(result.error);
  sendJson(res, 201, describeTable(result.value, context.clusterSize()), { location: `/v1/tables/${result.value.name}` });
}

export function listTables(context: ApiContext, _req: ShoalRequest, res: ShoalResponse): Promise<void> {
  const size = context.clusterSize();
  sendJson(res, 200, { tables: context.tables.list().map((t) => describeTable(t, size)) });
  return Promise.resolve();
}

export function getTable(context: ApiContext, _req: ShoalRequest, res: ShoalResponse, match: RouteMatch): Promise<void> {
  sendJson(res, 200, describeTable(requireTable(context, match.table), context.clusterSize()));
  return Promise.resolve();
}

export async function dropTable(context: ApiContext, _req: ShoalRequest, res: ShoalResponse, match: RouteMatch): Promise<void> {
  const table = requireTable(context, match.table);
  const result = await context.tables.drop(table.name);
  if (!result.ok) throw catalogError(result.error);
  context.tableDropped(result.value);
  sendEmpty(res, 204);
}

function catalogError(failure: CatalogFailure): ShoalError {
  switch (failure.code) {
    case "TableExists":
      return conflict("TableExists", failure.message);
    case "TableNotFound":
      return notFound("TableNotFound", failure.message);
    case "TooManyTables":
      return new ShoalError("TooManyTables", 400, failure.message);
    case "InvalidTableOptions":
      return badRequest("InvalidTableOptions", failure.message);
    case "CatalogUnavailable":
      // The change is kept on this node and catalog sync spreads it; the client learns which
      // members had not acknowledged it yet.
      return new ShoalError("CatalogUnavailable", 503, failure.message, { missing: failure.missing });
  }
}
