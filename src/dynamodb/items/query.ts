import { assert } from "../../assert.js";
import type { QueryRequest, SortKeyBound } from "../../coordinator/item-operations.js";
import type { DynamoContext } from "../dynamo-context.js";
import type { KeyCondition, SortKeyCondition } from "../expressions/key-condition.js";
import type { AttributeValue } from "../model/attribute-value.js";
import { attributeTypeOf } from "../model/attribute-value.js";
import { attributeValueToJson } from "../model/attribute-value-json.js";
import { compareScalars } from "../model/attribute-value-order.js";
import { keyBytes } from "../model/key-bytes.js";
import { storagePartitionKey } from "../model/storage-partition-key.js";
import { validationException } from "../protocol/dynamo-exception.js";
import type { JsonText } from "../protocol/dynamo-response.js";
import { RequestReader, type JsonObject } from "../protocol/request-reader.js";
import type { DynamoTable, KeyElement } from "../tables/dynamo-table.js";
import { consumedCapacity, readCapacityReport, readCapacityUnits } from "./consumed-capacity.js";
import { compileRequestExpressions, readExpressionMembers } from "./expression-parameters.js";
import { findItemTable, readItemTableName } from "./item-table.js";
import { PageCollector, moreAfter } from "./page-collector.js";
import { readIndexName, readSelect, refuseIndex, resolveSelect } from "./read-select.js";
import { storeException } from "./store-failure.js";
import { checkStorable, readStartKey } from "./table-key.js";
import { checkKeyAttribute } from "../model/key-attribute-check.js";
import { orThrow } from "./or-throw.js";
import { readConsistency } from "./read-consistency.js";

/**
 * Query (API reference, "Query"): the items of one partition key in sort-key order (or
 * reverse with ScanIndexForward false), narrowed by the key condition on the sort key, which
 * the store applies as byte bounds (key-bytes.ts keeps DynamoDB's order in bytes). Paging,
 * filter, projection and counts are the page collector's.
 */
export async function query(context: DynamoContext, body: JsonObject): Promise<JsonObject | JsonText> {
  const reader = new RequestReader(body);
  const tableName = readItemTableName(reader);
  const indexName = readIndexName(reader);
  const limit = reader.integer("Limit", { min: 1 });
  const consistent = reader.boolean("ConsistentRead") ?? false;
  const forward = reader.boolean("ScanIndexForward") ?? true;
  const select = readSelect(reader);
  const startKey = reader.object("ExclusiveStartKey");
  const report = readCapacityReport(reader);
  const expressions = readExpressionMembers(reader, ["KeyConditionExpression", "FilterExpression", "ProjectionExpression"]);
  reader.finish();
  if (expressions.strings.KeyConditionExpression === undefined) throw validationException("Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.");
  const table = findItemTable(context, tableName);
  refuseIndex(indexName);
  const { keyCondition, filter, projection } = compileRequestExpressions(expressions, table);
  assert(keyCondition !== undefined, "a KeyConditionExpression compiles to a key condition");
  const request = queryRequest(table, keyCondition, forward, consistent);
  checkQueryKeys(table, keyCondition, request);
  const after = startKey === undefined ? undefined : readStartKey(table, startKey).parts;
  if (after !== undefined && Buffer.compare(after.partitionKey, request.partitionKey) !== 0) {
    // DynamoDB's words for a start key of another partition key than the key condition's.
    throw validationException("The provided starting key is outside query boundaries based on provided conditions");
  }
  const collector = new PageCollector({
    table,
    nowMs: context.clock.nowMs(),
    limit,
    filter,
    projection,
    select: resolveSelect(select, projection !== undefined),
    pageBytesMax: context.limits.pageBytesMax,
    pageItemsMax: context.limits.pageItemsMax,
  });
  let more = false;
  if (table.metadata.keySchema.sortKey === undefined) {
    // One item at most per partition key; resuming after it leaves nothing.
    if (after === undefined) more = await offerSingle(context, table, request, collector);
  } else {
    more = await offerRange(context, table, { ...request, ...(after?.sortKey !== undefined ? { after: after.sortKey } : {}) }, collector);
  }
  const units = readCapacityUnits(collector.bytesRead, consistent);
  return collector.answer(more, consumedCapacity(report, table.definition.name, units, "read"));
}

async function offerRange(context: DynamoContext, table: DynamoTable, request: QueryRequest, collector: PageCollector): Promise<boolean> {
  let after = request.after;
  for (;;) {
    const page = await context.items.query(table.definition, { ...request, limit: context.limits.fetchItemsMax, ...(after !== undefined ? { after } : {}) });
    if (!page.ok) throw storeException(page.error);
    const { items, resumeAfter } = page.value;
    for (let i = 0; i < items.length; i++) {
      if (!collector.offer(items[i]!)) return moreAfter(i, items.length, resumeAfter);
    }
    if (resumeAfter === null) return false;
    after = resumeAfter.sortKey;
  }
}

async function offerSingle(context: DynamoContext, table: DynamoTable, request: QueryRequest, collector: PageCollector): Promise<boolean> {
  const result = await context.items.get(table.definition, { partitionKey: request.partitionKey }, { quorum: {}, ...(request.consistency !== undefined ? { consistency: request.consistency } : {}) });
  if (!result.ok) throw storeException(result.error);
  collector.offer({ key: { partitionKey: request.partitionKey }, siblings: result.value.siblings });
  return false;
}

function queryRequest(table: DynamoTable, condition: KeyCondition, forward: boolean, consistent: boolean): QueryRequest {
  const { partitionKey, sortKey } = table.metadata.keySchema;
  checkOperandType(partitionKey, condition.partitionValue);
  const request: QueryRequest = { partitionKey: storagePartitionKey(keyBytes(condition.partitionValue)), reverse: !forward, limit: 1, consistency: readConsistency(table, consistent) };
  if (condition.sort === undefined) return request;
  assert(sortKey !== undefined, "the key condition only names key attributes of the schema");
  return { ...request, ...sortBounds(sortKey, condition.sort) };
}

function sortBounds(sortKey: KeyElement, sort: SortKeyCondition): Partial<QueryRequest> {
  for (const value of sort.values) checkOperandType(sortKey, value);
  const bound = (value: AttributeValue, inclusive: boolean): SortKeyBound => ({ key: keyBytes(value), inclusive });
  const [first, second] = sort.values as readonly [AttributeValue, AttributeValue | undefined];
  switch (sort.op) {
    case "=":
      return { lower: bound(first, true), upper: bound(first, true) };
    case "<":
      return { upper: bound(first, false) };
    case "<=":
      return { upper: bound(first, true) };
    case ">":
      return { lower: bound(first, false) };
    case ">=":
      return { lower: bound(first, true) };
    case "between":
      assert(second !== undefined, "BETWEEN has two operands");
      if ((compareScalars(first, second) ?? 0) > 0) {
        throw validationException(
          `Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: ${JSON.stringify(attributeValueToJson(first))}, upper bound operand: AttributeValue: ${JSON.stringify(attributeValueToJson(second))}`,
        );
      }
      return { lower: bound(first, true), upper: bound(second, true) };
    case "begins_with":
      if (sortKey.type === "N") throw validationException("Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N");
      return { sortKeyPrefix: keyBytes(first) };
  }
}

function checkOperandType(element: KeyElement, value: AttributeValue): void {
  if (attributeTypeOf(value) !== element.type) throw validationException("One or more parameter values were invalid: Condition parameter type does not match schema type");
}

/**
 * The key condition's values obey the key rules (sizes, no empty values) and, with the longest
 * sort-key bound, must fit a storage key: the store builds its range from them.
 */
function checkQueryKeys(table: DynamoTable, condition: KeyCondition, request: QueryRequest): void {
  const { partitionKey } = table.metadata.keySchema;
  orThrow(checkKeyAttribute({ name: partitionKey.name, type: partitionKey.type, role: "partition" }, condition.partitionValue));
  const bounds = [request.lower?.key, request.upper?.key, request.sortKeyPrefix].filter((b): b is Uint8Array => b !== undefined);
  const longest = bounds.reduce<Uint8Array | undefined>((a, b) => (a === undefined || b.length > a.length ? b : a), undefined);
  checkStorable(request.partitionKey, longest);
}
