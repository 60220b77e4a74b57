import type { AttributeValue } from "../model/attribute-value.js";
import { parseAttributeValueMap } from "../model/attribute-value-json.js";
import { compileExpressions, type CompiledExpressions, type ExpressionInput } from "../expressions/compile-expressions.js";
import { validationException } from "../protocol/dynamo-exception.js";
import { expectString, type RequestReader } from "../protocol/request-reader.js";
import type { DynamoTable } from "../tables/dynamo-table.js";
import { orThrow } from "./or-throw.js";

/**
 * The expression members of an item request (ConditionExpression, FilterExpression,
 * UpdateExpression, ProjectionExpression, KeyConditionExpression) and the two placeholder maps,
 * read from the request and compiled together (the expressions module checks undefined and
 * unused placeholders in DynamoDB's order). Legacy parameters (Expected, AttributesToGet,
 * KeyConditions, QueryFilter, ScanFilter, AttributeUpdates, ConditionalOperator) are refused:
 * Shoal speaks only the expression API.
 */
export type ExpressionMember = "ConditionExpression" | "FilterExpression" | "UpdateExpression" | "ProjectionExpression" | "KeyConditionExpression";

const legacyMembers = ["Expected", "AttributesToGet", "KeyConditions", "QueryFilter", "ScanFilter", "AttributeUpdates", "ConditionalOperator"];

export interface ExpressionRequest {
  strings: Partial<Record<ExpressionMember, string>>;
  names?: Record<string, string>;
  values?: Record<string, AttributeValue>;
}

export function readExpressionMembers(reader: RequestReader, members: readonly ExpressionMember[]): ExpressionRequest {
  for (const legacy of legacyMembers) {
    if (reader.body[legacy] !== undefined && reader.body[legacy] !== null) {
      throw validationException(`${legacy} is a legacy parameter Shoal does not support; use ${members.join(" or ")} instead`);
    }
  }
  if (reader.body.ReturnValuesOnConditionCheckFailure === "ALL_OLD") {
    throw validationException("ReturnValuesOnConditionCheckFailure ALL_OLD is not supported by Shoal's DynamoDB API; read the item after a ConditionalCheckFailedException instead");
  }
  const strings: Partial<Record<ExpressionMember, string>> = {};
  for (const member of members) {
    const text = reader.string(member);
    if (text !== undefined) strings[member] = text;
  }
  const request: ExpressionRequest = { strings };
  const names = reader.map("ExpressionAttributeNames");
  if (names !== undefined) {
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(names)) out[name] = expectString(value);
    request.names = out;
  }
  const rawValues = reader.map("ExpressionAttributeValues");
  if (rawValues !== undefined) request.values = { ...orThrow(parseAttributeValueMap(rawValues)) };
  return request;
}

/** Compiles after the shape checks, with DynamoDB's checks on the maps themselves first. */
export function compileRequestExpressions(request: ExpressionRequest, table?: DynamoTable): CompiledExpressions {
  const anyExpression = Object.keys(request.strings).length > 0;
  if (request.names !== undefined) {
    if (!anyExpression) throw validationException("ExpressionAttributeNames can only be specified when using expressions");
    if (Object.keys(request.names).length === 0) throw validationException("ExpressionAttributeNames must not be empty");
  }
  if (request.values !== undefined) {
    if (!anyExpression) throw validationException("ExpressionAttributeValues can only be specified when using expressions");
    if (Object.keys(request.values).length === 0) throw validationException("ExpressionAttributeValues must not be empty");
  }
  if (!anyExpression) return {};
  const { strings } = request;
  const schema = table?.metadata.keySchema;
  const input: ExpressionInput = {
    ...(strings.ConditionExpression !== undefined ? { conditionExpression: strings.ConditionExpression } : {}),
    ...(strings.FilterExpression !== undefined ? { filterExpression: strings.FilterExpression } : {}),
    ...(strings.UpdateExpression !== undefined ? { updateExpression: strings.UpdateExpression } : {}),
    ...(strings.ProjectionExpression !== undefined ? { projectionExpression: strings.ProjectionExpression } : {}),
    ...(strings.KeyConditionExpression !== undefined ? { keyConditionExpression: strings.KeyConditionExpression } : {}),
    ...(schema !== undefined
      ? { keySchema: { partitionKey: schema.partitionKey.name, ...(schema.sortKey !== undefined ? { sortKey: schema.sortKey.name } : {}) } }
      : {}),
    ...(request.names !== undefined ? { expressionAttributeNames: request.names } : {}),
    ...(request.values !== undefined ? { expressionAttributeValues: request.values } : {}),
  };
  return orThrow(compileExpressions(input));
}
