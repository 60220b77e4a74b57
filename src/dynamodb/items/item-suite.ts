import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  CreateTableCommand,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
  type ScanCommandOutput,
} from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { rejectsWith } from "../testing/sdk-assertions.js";

/**
 * The item operations through the SDK, as one suite run against every store underneath: the
 * in-memory ItemOperations (items.test.ts) and a real ShoalNode on the strong path
 * (items-node.test.ts).
 */
export interface ItemSuiteTarget {
  client: DynamoDBClient;
  close(): Promise<void>;
}

export function itemSuite(start: () => Promise<ItemSuiteTarget>): void {
let client: DynamoDBClient;
let target: ItemSuiteTarget;
before(async () => {
  target = await start();
  client = target.client;
  await client.send(
    new CreateTableCommand({
      TableName: "things",
      KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
      AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
      BillingMode: "PAY_PER_REQUEST",
    }),
  );
  await client.send(
    new CreateTableCommand({
      TableName: "events",
      KeySchema: [
        { AttributeName: "pk", KeyType: "HASH" },
        { AttributeName: "sk", KeyType: "RANGE" },
      ],
      AttributeDefinitions: [
        { AttributeName: "pk", AttributeType: "S" },
        { AttributeName: "sk", AttributeType: "N" },
      ],
      BillingMode: "PAY_PER_REQUEST",
    }),
  );
});
after(() => target.close());

const get = async (id: string, consistent = true) => (await client.send(new GetItemCommand({ TableName: "things", Key: { id: { S: id } }, ConsistentRead: consistent }))).Item;

test("PutItem then GetItem returns every attribute type, numbers normalised", async () => {
  const item = {
    id: { S: "all-types" },
    s: { S: "" },
    n: { N: "0012.500" },
    b: { B: new Uint8Array([0, 1, 255]) },
    t: { BOOL: true },
    z: { NULL: true },
    m: { M: { inner: { L: [{ N: "-0" }, { S: "x" }] } } },
    ss: { SS: ["a", "b"] },
    ns: { NS: ["1", "2.50"] },
    bs: { BS: [new Uint8Array([1]), new Uint8Array([2])] },
  };
  await client.send(new PutItemCommand({ TableName: "things", Item: item }));
  for (const consistent of [true, false]) {
    const read = await get("all-types", consistent);
    assert.deepEqual(read, { ...item, n: { N: "12.5" }, m: { M: { inner: { L: [{ N: "0" }, { S: "x" }] } } }, ns: { NS: ["1", "2.5"] } });
  }
});

test("GetItem of a missing item has no Item; of a missing table is ResourceNotFoundException", async () => {
  assert.equal(await get("never-written"), undefined);
  await rejectsWith(client.send(new GetItemCommand({ TableName: "nowhere", Key: { id: { S: "x" } } })), "ResourceNotFoundException", "Requested resource not found");
});

test("keys are checked against the schema with DynamoDB's messages", async () => {
  await rejectsWith(client.send(new PutItemCommand({ TableName: "things", Item: { other: { S: "x" } } })), "ValidationException", "One or more parameter values were invalid: Missing the key id in the item");
  await rejectsWith(
    client.send(new PutItemCommand({ TableName: "things", Item: { id: { N: "1" } } })),
    "ValidationException",
    "One or more parameter values were invalid: Type mismatch for key id expected: S actual: N",
  );
  await rejectsWith(client.send(new GetItemCommand({ TableName: "things", Key: { id: { S: "x" }, extra: { S: "y" } } })), "ValidationException", "The provided key element does not match the schema");
  await rejectsWith(client.send(new GetItemCommand({ TableName: "things", Key: { id: { N: "1" } } })), "ValidationException", "The provided key element does not match the schema");
  await rejectsWith(client.send(new GetItemCommand({ TableName: "events", Key: { pk: { S: "x" } } })), "ValidationException", "The provided key element does not match the schema");
  await rejectsWith(client.send(new PutItemCommand({ TableName: "things", Item: { id: { S: "" } } })), "ValidationException", /cannot contain an empty string value. Key: id/);
});

test("partition keys over 2048 bytes, sort keys over 1024 bytes and items over 400 KB are refused", async () => {
  await rejectsWith(client.send(new PutItemCommand({ TableName: "things", Item: { id: { S: "k".repeat(2049) } } })), "ValidationException", /Size of hashkey has exceeded the maximum size limit of\s?2048 bytes/);
  // DynamoDB's full 2048-byte partition keys (stored as a digest) and 1024-byte sort keys.
  await client.send(new PutItemCommand({ TableName: "things", Item: { id: { S: "k".repeat(2048) } } }));
  assert.ok((await get("k".repeat(2048))) !== undefined);
  await client.send(new PutItemCommand({ TableName: "events", Item: { pk: { S: "p".repeat(2048) }, sk: { N: "12345" } } }));
  await rejectsWith(
    client.send(new PutItemCommand({ TableName: "events", Item: { pk: { S: "p" }, sk: { N: "1" }, long: { S: "x" } } })).then(() =>
      client.send(new GetItemCommand({ TableName: "events", Key: { pk: { S: "p" }, sk: { S: "s".repeat(1025) } } })),
    ),
    "ValidationException",
    "The provided key element does not match the schema",
  );
  await rejectsWith(client.send(new PutItemCommand({ TableName: "things", Item: { id: { S: "big" }, blob: { S: "x".repeat(400 * 1024) } } })), "ValidationException", "Item size has exceeded the maximum allowed size");
  await client.send(new PutItemCommand({ TableName: "things", Item: { id: { S: "big" }, blob: { S: "x".repeat(400 * 1024 - 10) } } }));
});

test("2048-byte partition keys and 1024-byte sort keys work in every item operation, paging included", async () => {
  await client.send(
    new CreateTableCommand({
      TableName: "long",
      KeySchema: [
        { AttributeName: "pk", KeyType: "HASH" },
        { AttributeName: "sk", KeyType: "RANGE" },
      ],
      AttributeDefinitions: [
        { AttributeName: "pk", AttributeType: "S" },
        { AttributeName: "sk", AttributeType: "B" },
      ],
      BillingMode: "PAY_PER_REQUEST",
    }),
  );
  const pk = { S: "é".repeat(1023) + "pq" }; // 2048 UTF-8 bytes
  const other = { S: "é".repeat(1023) + "pr" }; // same length, differs in the last byte
  const sk = (n: number) => ({ B: Uint8Array.from({ length: 1024 }, (_, i) => (i === 1023 ? n : 7)) });
  for (const n of [3, 1, 2]) await client.send(new PutItemCommand({ TableName: "long", Item: { pk, sk: sk(n), n: { N: String(n) } } }));
  await client.send(new BatchWriteItemCommand({ RequestItems: { long: [{ PutRequest: { Item: { pk: other, sk: sk(1), n: { N: "9" } } } }, { DeleteRequest: { Key: { pk, sk: sk(3) } } }] } }));
  const got = await client.send(new GetItemCommand({ TableName: "long", Key: { pk, sk: sk(2) }, ConsistentRead: true }));
  assert.deepEqual(got.Item?.pk, pk);
  assert.deepEqual(got.Item?.n, { N: "2" });
  const batch = await client.send(new BatchGetItemCommand({ RequestItems: { long: { Keys: [{ pk, sk: sk(1) }, { pk: other, sk: sk(1) }, { pk, sk: sk(3) }], ConsistentRead: true } } }));
  assert.deepEqual(batch.Responses?.long?.map((item) => item.n!.N).sort(), ["1", "9"]);
  // Query within the long partition key: sort-key order, one item per page, resuming from LastEvaluatedKey.
  const seen: string[] = [];
  let start: Record<string, AttributeValue> | undefined;
  for (let page = 0; page < 5; page++) {
    const queried = await client.send(new QueryCommand({ TableName: "long", KeyConditionExpression: "pk = :p", ExpressionAttributeValues: { ":p": pk }, Limit: 1, ConsistentRead: true, ...(start ? { ExclusiveStartKey: start } : {}) }));
    seen.push(...(queried.Items ?? []).map((item) => item.n!.N!));
    if (queried.LastEvaluatedKey !== undefined) assert.deepEqual(queried.LastEvaluatedKey.pk, pk);
    start = queried.LastEvaluatedKey;
    if (start === undefined) break;
  }
  assert.deepEqual(seen, ["1", "2"]);
  const scanned: string[] = [];
  start = undefined;
  for (let page = 0; page < 5; page++) {
    const result: ScanCommandOutput = await client.send(new ScanCommand({ TableName: "long", Limit: 2, ...(start ? { ExclusiveStartKey: start } : {}) }));
    scanned.push(...(result.Items ?? []).map((item) => item.n!.N!));
    start = result.LastEvaluatedKey;
    if (start === undefined) break;
  }
  assert.deepEqual(scanned.sort(), ["1", "2", "9"]);
  await client.send(new DeleteItemCommand({ TableName: "long", Key: { pk, sk: sk(1) } }));
  assert.equal((await client.send(new GetItemCommand({ TableName: "long", Key: { pk, sk: sk(1) }, ConsistentRead: true }))).Item, undefined);
  // Only a sort key with many NUL bytes (each counts twice in a storage key) is still too long.
  await rejectsWith(
    client.send(new PutItemCommand({ TableName: "long", Item: { pk, sk: { B: new Uint8Array(1000) } } })),
    "ValidationException",
    /partition key \(stored as its 33-byte digest\) and 1000-byte sort key encode to 2040 bytes/,
  );
});

test("PutItem with ReturnValues ALL_OLD returns the replaced item; ALL_NEW is refused", async () => {
  await client.send(new PutItemCommand({ TableName: "things", Item: { id: { S: "rv" }, v: { N: "1" } } }));
  const replaced = await client.send(new PutItemCommand({ TableName: "things", Item: { id: { S: "rv" }, v: { N: "2" } }, ReturnValues: "ALL_OLD" }));
  assert.deepEqual(replaced.Attributes, { id: { S: "rv" }, v: { N: "1" } });
  await rejectsWith(client.send(new PutItemCommand({ TableName: "things", Item: { id: { S: "rv" } }, ReturnValues: "ALL_NEW" })), "ValidationException", "ReturnValues can only be ALL_OLD or NONE");
});

test("a ConditionExpression that fails is ConditionalCheckFailedException and leaves the item", async () => {
  const put = () => client.send(new PutItemCommand({ TableName: "things", Item: { id: { S: "once" }, v: { N: "1" } }, ConditionExpression: "attribute_not_exists(id)" }));
  await put();
  await rejectsWith(put(), "ConditionalCheckFailedException", "The conditional request failed");
  await rejectsWith(
    client.send(new DeleteItemCommand({ TableName: "things", Key: { id: { S: "once" } }, ConditionExpression: "#v > :min", ExpressionAttributeNames: { "#v": "v" }, ExpressionAttributeValues: { ":min": { N: "5" } } })),
    "ConditionalCheckFailedException",
  );
  assert.deepEqual(await get("once"), { id: { S: "once" }, v: { N: "1" } });
  const deleted = await client.send(new DeleteItemCommand({ TableName: "things", Key: { id: { S: "once" } }, ConditionExpression: "v = :one", ExpressionAttributeValues: { ":one": { N: "1" } }, ReturnValues: "ALL_OLD" }));
  assert.deepEqual(deleted.Attributes, { id: { S: "once" }, v: { N: "1" } });
  assert.equal(await get("once"), undefined);
});

test("an unused or undefined placeholder is a ValidationException", async () => {
  await rejectsWith(
    client.send(new PutItemCommand({ TableName: "things", Item: { id: { S: "p" } }, ConditionExpression: "attribute_not_exists(id)", ExpressionAttributeValues: { ":x": { S: "1" } } })),
    "ValidationException",
    /unused in expressions: keys: \{:x\}/,
  );
  await rejectsWith(client.send(new PutItemCommand({ TableName: "things", Item: { id: { S: "p" } }, ConditionExpression: "v = :nope" })), "ValidationException", /:nope/);
  await rejectsWith(client.send(new PutItemCommand({ TableName: "things", Item: { id: { S: "p" } }, ExpressionAttributeValues: { ":x": { S: "1" } } })), "ValidationException", "ExpressionAttributeValues can only be specified when using expressions");
});

test("UpdateItem creates a missing item, counts atomically and returns what ReturnValues asks", async () => {
  const bump = (returnValues: "UPDATED_NEW" | "UPDATED_OLD" | "ALL_NEW" | "ALL_OLD" | "NONE") =>
    client.send(
      new UpdateItemCommand({
        TableName: "things",
        Key: { id: { S: "counter" } },
        UpdateExpression: "SET #c = if_not_exists(#c, :zero) + :one, tags = list_append(if_not_exists(tags, :empty), :tag) ADD seen :s",
        ExpressionAttributeNames: { "#c": "count" },
        ExpressionAttributeValues: { ":zero": { N: "0" }, ":one": { N: "1" }, ":empty": { L: [] }, ":tag": { L: [{ S: "t" }] }, ":s": { SS: ["a"] } },
        ReturnValues: returnValues,
      }),
    );
  const first = await bump("UPDATED_NEW");
  assert.deepEqual(first.Attributes, { count: { N: "1" }, tags: { L: [{ S: "t" }] }, seen: { SS: ["a"] } });
  await Promise.all(Array.from({ length: 10 }, () => bump("NONE")));
  const old = await bump("UPDATED_OLD");
  assert.deepEqual(old.Attributes?.count, { N: "11" });
  const all = await bump("ALL_NEW");
  assert.equal(all.Attributes?.id?.S, "counter");
  assert.deepEqual(all.Attributes?.count, { N: "13" });
  const removed = await client.send(new UpdateItemCommand({ TableName: "things", Key: { id: { S: "counter" } }, UpdateExpression: "REMOVE tags DELETE seen :s", ExpressionAttributeValues: { ":s": { SS: ["a"] } }, ReturnValues: "ALL_NEW" }));
  assert.deepEqual(removed.Attributes, { id: { S: "counter" }, count: { N: "13" } });
});

test("UpdateItem refuses key attributes and wrong operand types, and honours its condition", async () => {
  await rejectsWith(
    client.send(new UpdateItemCommand({ TableName: "things", Key: { id: { S: "u" } }, UpdateExpression: "SET id = :v", ExpressionAttributeValues: { ":v": { S: "other" } } })),
    "ValidationException",
    "One or more parameter values were invalid: Cannot update attribute id. This attribute is part of the key",
  );
  await client.send(new PutItemCommand({ TableName: "things", Item: { id: { S: "u" }, name: { S: "text" } } }));
  await rejectsWith(
    client.send(new UpdateItemCommand({ TableName: "things", Key: { id: { S: "u" } }, UpdateExpression: "SET #n = #n + :one", ExpressionAttributeNames: { "#n": "name" }, ExpressionAttributeValues: { ":one": { N: "1" } } })),
    "ValidationException",
    "An operand in the update expression has an incorrect data type",
  );
  await rejectsWith(
    client.send(new UpdateItemCommand({ TableName: "things", Key: { id: { S: "u" } }, UpdateExpression: "SET x = :one", ConditionExpression: "attribute_not_exists(id)", ExpressionAttributeValues: { ":one": { N: "1" } } })),
    "ConditionalCheckFailedException",
  );
  assert.deepEqual(await get("u"), { id: { S: "u" }, name: { S: "text" } });
});

test("GetItem's ProjectionExpression returns only the named paths", async () => {
  await client.send(new PutItemCommand({ TableName: "things", Item: { id: { S: "proj" }, a: { M: { b: { N: "1" }, c: { N: "2" } } }, d: { L: [{ S: "x" }, { S: "y" }] }, e: { S: "e" } } }));
  const read = await client.send(new GetItemCommand({ TableName: "things", Key: { id: { S: "proj" } }, ProjectionExpression: "a.b, d[1], #e", ExpressionAttributeNames: { "#e": "e" } }));
  assert.deepEqual(read.Item, { a: { M: { b: { N: "1" } } }, d: { L: [{ S: "y" }] }, e: { S: "e" } });
});

test("ReturnConsumedCapacity reports DynamoDB's units: writes per 1 KB, reads per 4 KB, eventual at half", async () => {
  const item = { id: { S: "cap" }, blob: { S: "x".repeat(5000) } };
  const put = await client.send(new PutItemCommand({ TableName: "things", Item: item, ReturnConsumedCapacity: "TOTAL" }));
  assert.equal(put.ConsumedCapacity?.CapacityUnits, 5);
  assert.equal(put.ConsumedCapacity?.TableName, "things");
  const strong = await client.send(new GetItemCommand({ TableName: "things", Key: { id: { S: "cap" } }, ConsistentRead: true, ReturnConsumedCapacity: "INDEXES" }));
  assert.equal(strong.ConsumedCapacity?.CapacityUnits, 2);
  assert.equal(strong.ConsumedCapacity?.Table?.CapacityUnits, 2);
  const eventual = await client.send(new GetItemCommand({ TableName: "things", Key: { id: { S: "cap" } }, ReturnConsumedCapacity: "TOTAL" }));
  assert.equal(eventual.ConsumedCapacity?.CapacityUnits, 1);
  const none = await client.send(new GetItemCommand({ TableName: "things", Key: { id: { S: "cap" } } }));
  assert.equal(none.ConsumedCapacity, undefined);
});

test("the DocumentClient works end to end", async () => {
  const doc = DynamoDBDocumentClient.from(client);
  await doc.send(new PutCommand({ TableName: "things", Item: { id: "doc", list: [1, "two", { three: 3 }], flag: false } }));
  const updated = await doc.send(new UpdateCommand({ TableName: "things", Key: { id: "doc" }, UpdateExpression: "SET hits = :n", ExpressionAttributeValues: { ":n": 7 }, ReturnValues: "ALL_NEW" }));
  assert.deepEqual(updated.Attributes, { id: "doc", list: [1, "two", { three: 3 }], flag: false, hits: 7 });
  const read = await doc.send(new GetCommand({ TableName: "things", Key: { id: "doc" } }));
  assert.deepEqual(read.Item, updated.Attributes);
});
}
