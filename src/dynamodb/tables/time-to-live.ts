import { assert } from "../../assert.js";
import type { DynamoContext } from "../dynamo-context.js";
import { tableNotFound, validationException } from "../protocol/dynamo-exception.js";
import { RequestReader, expectObject, type JsonObject } from "../protocol/request-reader.js";
import { catalogException } from "./catalog-exception.js";
import { requireTable } from "./describe-table.js";

/**
 * UpdateTimeToLive and DescribeTimeToLive (developer guide, "Time to Live"). With TTL enabled,
 * an item whose TTL attribute is a number of epoch seconds in the past is expired: reads hide
 * it and the TTL sweeper deletes it in the background. Changes apply at once (DynamoDB takes up
 * to an hour and reports ENABLING; Shoal reports ENABLED).
 */
export async function updateTimeToLive(context: DynamoContext, body: JsonObject): Promise<JsonObject> {
  let specification: { enabled: boolean | undefined; attributeName: string | undefined } | undefined;
  const table = requireTable(context, body, (reader) => {
    const raw = reader.object("TimeToLiveSpecification", { required: true });
    if (raw === undefined) return;
    const inner = new RequestReader(expectObject(raw));
    const enabled = inner.boolean("Enabled");
    const attributeName = inner.string("AttributeName");
    if (enabled === undefined) reader.violation(null, "timeToLiveSpecification.enabled", "Member must not be null");
    if (attributeName === undefined) reader.violation(null, "timeToLiveSpecification.attributeName", "Member must not be null");
    else if (attributeName.length < 1 || attributeName.length > 255) reader.violation(attributeName, "timeToLiveSpecification.attributeName", "Member must have length greater than or equal to 1");
    specification = { enabled, attributeName };
  });
  assert(specification?.enabled !== undefined && specification.attributeName !== undefined, "the specification was checked");
  const { enabled, attributeName } = specification;
  const current = table.metadata.timeToLive;
  if (enabled && current?.enabled === true) throw validationException("TimeToLive is already enabled");
  if (!enabled && current?.enabled !== true) throw validationException("TimeToLive is already disabled");
  if (!enabled && current !== null && current.attributeName !== attributeName) {
    throw validationException(`TimeToLive is active on a different AttributeName: current AttributeName is ${current.attributeName}`);
  }
  const updated = await context.tables.update(table.definition.name, (metadata) => ({ ...metadata, timeToLive: { attributeName, enabled } }));
  if (!updated.ok) throw updated.code === "TableNotFound" ? tableNotFound(table.definition.name) : catalogException(updated.code, updated.message);
  return { TimeToLiveSpecification: { Enabled: enabled, AttributeName: attributeName } };
}

export function describeTimeToLive(context: DynamoContext, body: JsonObject): Promise<JsonObject> {
  const table = requireTable(context, body);
  const ttl = table.metadata.timeToLive;
  const description: JsonObject = ttl?.enabled === true ? { TimeToLiveStatus: "ENABLED", AttributeName: ttl.attributeName } : { TimeToLiveStatus: "DISABLED" };
  return Promise.resolve({ TimeToLiveDescription: description });
}
