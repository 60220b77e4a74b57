import { validationException } from "../protocol/dynamo-exception.js";
import type { RequestReader } from "../protocol/request-reader.js";
import type { Select } from "./page-collector.js";

/** Select (Query, Scan) and its agreement with ProjectionExpression; there are no indexes. */
export function readSelect(reader: RequestReader): Select | undefined {
  return reader.string("Select", { oneOf: ["ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES", "SPECIFIC_ATTRIBUTES", "COUNT"] }) as Select | undefined;
}

export function resolveSelect(select: Select | undefined, hasProjection: boolean): Select {
  if (select === undefined) return hasProjection ? "SPECIFIC_ATTRIBUTES" : "ALL_ATTRIBUTES";
  if (select === "ALL_PROJECTED_ATTRIBUTES") throw validationException("ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName");
  if (select === "COUNT" && hasProjection) throw validationException("Cannot specify the ProjectionExpression when choosing to get only the Count");
  if (select === "ALL_ATTRIBUTES" && hasProjection) throw validationException("Cannot specify the ProjectionExpression when choosing to get ALL_ATTRIBUTES");
  if (select === "SPECIFIC_ATTRIBUTES" && !hasProjection) throw validationException("Select type SPECIFIC_ATTRIBUTES requires a ProjectionExpression");
  return select;
}

/** IndexName: Shoal has no secondary indexes yet; read with the shape, refused after it. */
export function readIndexName(reader: RequestReader): string | undefined {
  return reader.string("IndexName", { lengthMin: 3, lengthMax: 255 });
}

export function refuseIndex(index: string | undefined): void {
  if (index !== undefined) throw validationException(`The table does not have the specified index: ${index}`);
}
