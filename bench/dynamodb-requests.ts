/**
 * Prepared DynamoDB requests for the DynamoDB benchmark (issue 5): the headers are built once, and
 * each body is a pre-built JSON text with only the key spliced in, so the load process spends its
 * CPU on HTTP and nothing on an SDK, marshalling or signing. Both systems run in local mode (any
 * credentials): the Authorization header is well-formed (dynalite checks its shape) but unsigned.
 *
 * Items are 1 KB by DynamoDB's size rule (attribute name lengths plus value lengths): keys have a
 * fixed width so every item has exactly `itemBytes` bytes.
 */
export type DynamoAction = "PutItem" | "GetItem" | "Query";

export interface DynamoRequestShape {
  /** The table with a hash key `pk` (PutItem, GetItem). */
  kvTable: string;
  /** The table with hash key `pk` and range key `sk` (Query). */
  queryTable: string;
  keyPrefix: string;
  /** Keys of the kv table, and partitions of the query table: indexes below this. */
  keyCount: number;
  itemBytes: number;
  /** Items per query partition; sort keys `s0` .. `s<n-1>`. */
  itemsPerPartition: number;
  /** Seeds the payload's characters. */
  seed: number;
}

/** Query partitions: the query table holds about keyCount items, like the kv table. */
export function partitionCount(shape: Pick<DynamoRequestShape, "keyCount" | "itemsPerPartition">): number {
  return Math.max(1, Math.ceil(shape.keyCount / shape.itemsPerPartition));
}

/** Query asks for the sort keys from `s${queryFrom}` to `s${queryTo}` of one partition. */
export const queryFrom = 2;
export const queryTo = 5;
export const itemsPerPartitionDefault = 8;
/** Sort keys are one digit, so `BETWEEN s2 AND s5` selects exactly four in byte order. */
export const itemsPerPartitionMax = 10;
export const queryItemsReturned = queryTo - queryFrom + 1;

const payloadAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** Fixed, not secret: an unsigned local-mode Authorization header in the shape SigV4 gives. */
const authorization =
  "AWS4-HMAC-SHA256 Credential=local/20260101/local/dynamodb/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" + "0".repeat(64);

export function headersFor(action: DynamoAction): Record<string, string> {
  return {
    "content-type": "application/x-amz-json-1.0",
    "x-amz-target": `DynamoDB_20120810.${action}`,
    "x-amz-date": "20260101T000000Z",
    authorization,
  };
}

export function keyWidth(count: number): number {
  return String(Math.max(0, count - 1)).length;
}

export function kvKey(shape: DynamoRequestShape, index: number): string {
  return `${shape.keyPrefix}${String(index).padStart(keyWidth(shape.keyCount), "0")}`;
}

export function partitionKey(shape: DynamoRequestShape, index: number): string {
  return `${shape.keyPrefix}p${String(index).padStart(keyWidth(shape.keyCount), "0")}`;
}

/** The payload attribute `v` fills the item to `itemBytes` after the key attributes. */
export function payloadLength(shape: DynamoRequestShape, keyAttributesBytes: number): number {
  const length = shape.itemBytes - keyAttributesBytes - "v".length;
  if (length < 1) throw new Error(`items of ${shape.itemBytes} bytes leave no room for a payload beside keys of ${keyAttributesBytes} bytes`);
  return length;
}

function payload(length: number, seed: number): string {
  let state = seed >>> 0 || 0x2545f491;
  let text = "";
  for (let i = 0; i < length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    text += payloadAlphabet[state % payloadAlphabet.length];
  }
  return text;
}

/** DynamoDB's item size of { pk: S, [sk: S,] v: S } with ASCII strings. */
export function itemSize(item: Record<string, { S: string }>): number {
  let size = 0;
  for (const [name, value] of Object.entries(item)) size += name.length + value.S.length;
  return size;
}

/** JSON text of a string whose characters need no escaping (keys and payloads here are ASCII letters and digits). */
function quoted(text: string): string {
  return `"${text}"`;
}

export interface PreparedRequests {
  putItem(index: number): string;
  getItem(index: number, consistentRead: boolean): string;
  /** A PutItem of one query-table item: partition `index`, sort key `s<sort>`. */
  putQueryItem(index: number, sort: number): string;
  query(index: number): string;
  /** Smallest answer body that can hold a found item (GetItem) or the queried items (Query). */
  getItemBodyMin: number;
  queryBodyMin: number;
  /** The kv items' payload (the SDK driver builds its items from it). */
  kvPayload: string;
}

export function prepareRequests(shape: DynamoRequestShape): PreparedRequests {
  if (shape.itemsPerPartition <= queryTo || shape.itemsPerPartition > itemsPerPartitionMax) {
    throw new Error(`itemsPerPartition must be from ${queryTo + 1} to ${itemsPerPartitionMax}; got ${shape.itemsPerPartition}`);
  }
  const kvKeyBytes = "pk".length + kvKey(shape, 0).length;
  const queryKeyBytes = "pk".length + partitionKey(shape, 0).length + "sk".length + "s0".length;
  const kvPayload = payload(payloadLength(shape, kvKeyBytes), shape.seed);
  const queryPayload = payload(payloadLength(shape, queryKeyBytes), shape.seed + 1);
  const kvTable = quoted(shape.kvTable);
  const queryTable = quoted(shape.queryTable);
  const putHead = `{"TableName":${kvTable},"Item":{"pk":{"S":"`;
  const putTail = `"},"v":{"S":${quoted(kvPayload)}}}}`;
  const getHead = `{"TableName":${kvTable},"Key":{"pk":{"S":"`;
  const getTailEventual = `"}},"ConsistentRead":false}`;
  const getTailConsistent = `"}},"ConsistentRead":true}`;
  const putQueryHead = `{"TableName":${queryTable},"Item":{"pk":{"S":"`;
  const putQueryTail = `"},"v":{"S":${quoted(queryPayload)}}}}`;
  const queryHead = `{"TableName":${queryTable},"KeyConditionExpression":"pk = :p AND sk BETWEEN :a AND :b","ExpressionAttributeValues":{":p":{"S":"`;
  const queryTail = `"},":a":{"S":"s${queryFrom}"},":b":{"S":"s${queryTo}"}}}`;
  return {
    putItem: (index) => putHead + kvKey(shape, index) + putTail,
    getItem: (index, consistentRead) => getHead + kvKey(shape, index) + (consistentRead ? getTailConsistent : getTailEventual),
    putQueryItem: (index, sort) => `${putQueryHead}${partitionKey(shape, index)}"},"sk":{"S":"s${sort}${putQueryTail}`,
    query: (index) => queryHead + partitionKey(shape, index) + queryTail,
    getItemBodyMin: kvPayload.length,
    queryBodyMin: queryItemsReturned * queryPayload.length,
    kvPayload,
  };
}
