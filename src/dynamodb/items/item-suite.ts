import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { CreateTableCommand, DeleteItemCommand, GetItemCommand, PutItemCommand, UpdateItemCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
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
  // DynamoDB takes 2048 bytes; Shoal's storage keys stop short of that (the message names both numbers).
  await rejectsWith(client.send(new PutItemCommand({ TableName: "things", Item: { id: { S: "k".repeat(2048) } } })), "ValidationException", /2048-byte partition key encode to 2055 bytes .* at most 1969 encoded bytes/);
  await client.send(new PutItemCommand({ TableName: "things", Item: { id: { S: "k".repeat(1962) } } }));
  assert.ok((await get("k".repeat(1962))) !== undefined);
  await rejectsWith(
    client.send(new PutItemCommand({ TableName: "events", Item: { pk: { S: "p".repeat(1000) }, sk: { N: "1" }, } })).then(() =>
      client.send(new PutItemCommand({ TableName: "events", Item: { pk: { S: "p".repeat(1960) }, sk: { N: "12345" } } })),
    ),
    "ValidationException",
    /1960-byte partition key and 7-byte sort key encode to 1974 bytes/,
  );
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
