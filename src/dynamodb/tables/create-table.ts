import { assert } from "../../assert.js";
import type { KeyAttributeType } from "../model/attribute-value.js";
import type { DynamoContext } from "../dynamo-context.js";
import { DynamoException, validationException } from "../protocol/dynamo-exception.js";
import { RequestReader, expectObject, expectString, type JsonObject } from "../protocol/request-reader.js";
import { checkThroughputForMode, readBillingMode, readThroughput } from "./billing.js";
import type { DynamoTableMetadata, KeyElement, KeySchema } from "./dynamo-table.js";
import { catalogException } from "./catalog-exception.js";
import { describeTable } from "./table-description.js";
import { readTableName } from "./table-name.js";

/**
 * CreateTable (API reference, "CreateTable"): a hash key, or a hash and a range key, each
 * defined in AttributeDefinitions as S, N or B, and exactly the key attributes defined (there
 * are no secondary indexes, so any other definition is refused as DynamoDB refuses it).
 * Secondary indexes, streams and SSE are not supported: asking for them is a ValidationException.
 */
interface KeySchemaEntry {
  name: string;
  keyType: string;
}

export async function createTable(context: DynamoContext, body: JsonObject): Promise<JsonObject> {
  const reader = new RequestReader(body);
  const definitions = readAttributeDefinitions(reader);
  const tableName = readTableName(reader);
  const entries = readKeySchema(reader);
  const billingMode = readBillingMode(reader) ?? "PROVISIONED";
  const throughput = readThroughput(reader);
  reader.finish();
  assert(tableName !== undefined && entries !== undefined && definitions !== undefined, "required members were checked");
  refuseUnsupported(body);
  const keySchema = resolveKeySchema(entries, definitions);
  checkThroughputForMode(billingMode, throughput, "create");
  const nowMs = context.clock.nowMs();
  const metadata: DynamoTableMetadata = {
    keySchema,
    billingMode,
    throughput: { readCapacityUnits: throughput?.readCapacityUnits ?? 0, writeCapacityUnits: throughput?.writeCapacityUnits ?? 0 },
    ...(billingMode === "PAY_PER_REQUEST" ? { payPerRequestSinceMs: nowMs } : {}),
    timeToLive: null,
  };
  const created = await context.tables.create(tableName, metadata);
  if (!created.ok) {
    if (created.code === "TableExists") throw new DynamoException("ResourceInUseException", `Table already exists: ${tableName}`);
    throw catalogException(created.code, created.message);
  }
  return { TableDescription: describeTable(context, created.table, created.spreading === true ? "CREATING" : "ACTIVE") };
}

function readKeySchema(reader: RequestReader): KeySchemaEntry[] | undefined {
  const raw = reader.array("KeySchema", { required: true, lengthMin: 1, lengthMax: 2 });
  if (raw === undefined) return undefined;
  return raw.map((entry, i) => {
    const element = new RequestReader(expectObject(entry));
    const name = element.string("AttributeName");
    const keyType = element.string("KeyType");
    if (name === undefined) reader.violation(null, `keySchema.${i + 1}.member.attributeName`, "Member must not be null");
    else if (name.length < 1 || name.length > 255) reader.violation(name, `keySchema.${i + 1}.member.attributeName`, "Member must have length less than or equal to 255");
    if (keyType === undefined) reader.violation(null, `keySchema.${i + 1}.member.keyType`, "Member must not be null");
    else if (keyType !== "HASH" && keyType !== "RANGE") reader.violation(keyType, `keySchema.${i + 1}.member.keyType`, "Member must satisfy enum value set: [HASH, RANGE]");
    return { name: name ?? "", keyType: keyType ?? "" };
  });
}

function readAttributeDefinitions(reader: RequestReader): Map<string, KeyAttributeType> | undefined {
  const raw = reader.array("AttributeDefinitions", { required: true });
  if (raw === undefined) return undefined;
  const definitions = new Map<string, KeyAttributeType>();
  raw.forEach((entry, i) => {
    const element = expectObject(entry);
    const name = element.AttributeName === undefined || element.AttributeName === null ? undefined : expectString(element.AttributeName);
    const type = element.AttributeType === undefined || element.AttributeType === null ? undefined : expectString(element.AttributeType);
    if (name === undefined) reader.violation(null, `attributeDefinitions.${i + 1}.member.attributeName`, "Member must not be null");
    if (type === undefined) reader.violation(null, `attributeDefinitions.${i + 1}.member.attributeType`, "Member must not be null");
    else if (type !== "S" && type !== "N" && type !== "B") reader.violation(type, `attributeDefinitions.${i + 1}.member.attributeType`, "Member must satisfy enum value set: [B, N, S]");
    if (name !== undefined && (type === "S" || type === "N" || type === "B")) {
      if (definitions.has(name)) throw validationException(`Cannot have two attributes with the same name: ${name}`);
      definitions.set(name, type);
    }
  });
  return definitions;
}

function resolveKeySchema(entries: KeySchemaEntry[], definitions: Map<string, KeyAttributeType>): KeySchema {
  const [hash, range] = entries;
  assert(hash !== undefined, "KeySchema length was checked");
  if (hash.keyType !== "HASH") throw validationException("Invalid KeySchema: The first KeySchemaElement is not a HASH key type");
  if (range !== undefined && range.keyType !== "RANGE") throw validationException("Invalid KeySchema: The second KeySchemaElement is not a RANGE key type");
  if (range !== undefined && range.name === hash.name) throw validationException("Both the Hash Key and the Range Key element in the KeySchema have the same name");
  const undefinedKeys = entries.filter((e) => !definitions.has(e.name)).map((e) => e.name);
  if (undefinedKeys.length > 0) {
    const defined = [...definitions.keys()];
    throw validationException(`One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [${undefinedKeys.join(", ")}], AttributeDefinitions: [${defined.join(", ")}]`);
  }
  if (definitions.size !== entries.length) {
    throw validationException("One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions");
  }
  const element = (entry: KeySchemaEntry): KeyElement => ({ name: entry.name, type: definitions.get(entry.name)! });
  return range === undefined ? { partitionKey: element(hash) } : { partitionKey: element(hash), sortKey: element(range) };
}

/** Features Shoal does not have yet: refused by name rather than silently ignored. */
function refuseUnsupported(body: JsonObject): void {
  for (const member of ["LocalSecondaryIndexes", "GlobalSecondaryIndexes"]) {
    const value = body[member];
    if (Array.isArray(value) && value.length > 0) throw validationException(`${member} are not supported by Shoal's DynamoDB API`);
  }
  const stream = body.StreamSpecification;
  if (typeof stream === "object" && stream !== null && (stream as JsonObject).StreamEnabled === true) {
    throw validationException("StreamSpecification: streams are not supported by Shoal's DynamoDB API");
  }
}
