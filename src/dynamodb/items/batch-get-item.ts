import type { DynamoContext } from "../dynamo-context.js";
import type { ResolvedProjection } from "../expressions/expression-ast.js";
import { projectItem } from "../expressions/project-item.js";
import { itemToJson } from "../model/attribute-value-json.js";
import { itemSize } from "../model/item-size.js";
import { DynamoException, validationException } from "../protocol/dynamo-exception.js";
import { RequestReader, expectObject, type JsonObject } from "../protocol/request-reader.js";
import type { DynamoTable } from "../tables/dynamo-table.js";
import { tableNamePattern } from "../tables/table-name.js";
import { capacityList, readCapacityReport, readCapacityUnits } from "./consumed-capacity.js";
import { compileRequestExpressions, readExpressionMembers } from "./expression-parameters.js";
import { isRetryable, storeException } from "./store-failure.js";
import { liveItem, newestVersion } from "./stored-item.js";
import { readKey, type TableKey } from "./table-key.js";
import { readConsistency } from "./read-consistency.js";

/**
 * BatchGetItem (API reference, "BatchGetItem"): up to 100 keys across tables, read in parallel
 * (each key its own read, strong or eventual as its table's ConsistentRead asks). Keys whose
 * read the cluster could not serve right now, or that would push the answer past the response
 * bound, come back in UnprocessedKeys for the client to retry, as DynamoDB does.
 */
interface TableRequest {
  table: DynamoTable;
  raw: JsonObject;
  keys: TableKey[];
  projection: ResolvedProjection | undefined;
  consistent: boolean;
}

export async function batchGetItem(context: DynamoContext, body: JsonObject): Promise<JsonObject> {
  const reader = new RequestReader(body);
  const requestItems = reader.object("RequestItems", { required: true });
  const report = readCapacityReport(reader);
  if (requestItems !== undefined && Object.keys(requestItems).length === 0) reader.violation(requestItems, "requestItems", "Member must have length greater than or equal to 1");
  reader.finish();
  const requests = readTableRequests(context, requestItems!);
  const responses: Record<string, JsonObject[]> = {};
  const unprocessed: Record<string, JsonObject> = {};
  const units = new Map<string, number>();
  let bytesLeft = context.limits.batchGetResponseBytesMax;
  const nowMs = context.clock.nowMs();
  for (const request of requests) {
    const name = request.table.definition.name;
    responses[name] = [];
    const reads = await Promise.all(
      request.keys.map((key) => context.items.get(request.table.definition, key.parts, { quorum: {}, consistency: readConsistency(request.table, request.consistent) })),
    );
    const left: JsonObject[] = [];
    reads.forEach((read, i) => {
      const key = request.keys[i]!;
      if (!read.ok) {
        if (!isRetryable(read.error)) throw storeException(read.error);
        left.push(itemToJson(key.attributes));
        return;
      }
      const item = liveItem(request.table, newestVersion(read.value), nowMs);
      const size = item === undefined ? 0 : itemSize(item);
      if (size > bytesLeft) {
        left.push(itemToJson(key.attributes));
        return;
      }
      bytesLeft -= size;
      units.set(name, (units.get(name) ?? 0) + readCapacityUnits(size, request.consistent));
      if (item !== undefined) responses[name]!.push(itemToJson(request.projection === undefined ? item : projectItem(item, request.projection)));
    });
    if (left.length > 0) unprocessed[name] = { ...request.raw, Keys: left };
  }
  const output: JsonObject = { Responses: responses, UnprocessedKeys: unprocessed };
  const capacity = capacityList(report, units, "read");
  if (capacity !== undefined) output.ConsumedCapacity = capacity;
  return output;
}

function readTableRequests(context: DynamoContext, requestItems: JsonObject): TableRequest[] {
  const shaped = Object.entries(requestItems).map(([name, value]) => {
    const reader = new RequestReader(expectObject(value));
    const keys = reader.array("Keys", { required: true, path: `requestItems.${name}.member.keys`, lengthMin: 1, lengthMax: context.limits.batchGetKeysMax });
    const consistent = reader.boolean("ConsistentRead") ?? false;
    const expressions = readExpressionMembers(reader, ["ProjectionExpression"]);
    if (name.length < 3 || name.length > 255 || !tableNamePattern.test(name)) reader.violation(name, "requestItems", "Map keys must satisfy constraint: [Member must have length less than or equal to 255, Member must have length greater than or equal to 3, Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+]");
    reader.finish();
    return { name, raw: expectObject(value), keys: keys!, consistent, expressions };
  });
  const total = shaped.reduce((sum, r) => sum + r.keys.length, 0);
  if (total > context.limits.batchGetKeysMax) throw validationException("Too many items requested for the BatchGetItem call");
  return shaped.map((r) => {
    const { projection } = compileRequestExpressions(r.expressions);
    const table = context.tables.get(r.name);
    if (table === undefined) throw new DynamoException("ResourceNotFoundException", "Requested resource not found");
    const keys = r.keys.map((key) => readKey(table, key));
    const distinct = new Set(keys.map((k) => keyIdentity(k)));
    if (distinct.size !== keys.length) throw validationException("Provided list of item keys contains duplicates");
    return { table, raw: r.raw, keys, projection, consistent: r.consistent };
  });
}

export function keyIdentity(key: TableKey): string {
  const sort = key.parts.sortKey === undefined ? "" : Buffer.from(key.parts.sortKey).toString("hex");
  return `${Buffer.from(key.parts.partitionKey).toString("hex")}/${sort}`;
}
