import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { BatchGetItemCommand, BatchWriteItemCommand, CreateTableCommand, GetItemCommand, type BatchGetItemCommandOutput, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { startDynamoTestServer, type DynamoTestServer } from "../testing/dynamo-test-server.js";
import { rejectsWith } from "../testing/sdk-assertions.js";

let server: DynamoTestServer;
let client: DynamoDBClient;
before(async () => {
  server = await startDynamoTestServer();
  client = server.client();
  for (const name of ["left", "right"]) {
    await client.send(new CreateTableCommand({ TableName: name, KeySchema: [{ AttributeName: "id", KeyType: "HASH" }], AttributeDefinitions: [{ AttributeName: "id", AttributeType: "N" }], BillingMode: "PAY_PER_REQUEST" }));
  }
});
after(() => server.close());

const put = (id: number) => ({ PutRequest: { Item: { id: { N: String(id) }, v: { S: `v${id}` } } } });

test("BatchWriteItem puts and deletes across tables; BatchGetItem reads them back", async () => {
  const written = await client.send(new BatchWriteItemCommand({ RequestItems: { left: [put(1), put(2), put(3)], right: [put(1)] }, ReturnConsumedCapacity: "TOTAL" }));
  assert.deepEqual(written.UnprocessedItems, {});
  assert.deepEqual(written.ConsumedCapacity?.map((c) => [c.TableName, c.CapacityUnits]), [["left", 3], ["right", 1]]);
  await client.send(new BatchWriteItemCommand({ RequestItems: { left: [{ DeleteRequest: { Key: { id: { N: "2" } } } }] } }));
  const read = await client.send(
    new BatchGetItemCommand({
      RequestItems: {
        left: { Keys: [1, 2, 3].map((id) => ({ id: { N: String(id) } })), ProjectionExpression: "v" },
        right: { Keys: [{ id: { N: "1" } }], ConsistentRead: true },
      },
    }),
  );
  assert.deepEqual(read.UnprocessedKeys, {});
  assert.deepEqual(read.Responses?.left?.map((item) => item.v!.S).sort(), ["v1", "v3"]);
  assert.deepEqual(read.Responses?.right, [{ id: { N: "1" }, v: { S: "v1" } }]);
});

test("BatchWriteItem refuses more than 25 requests and duplicate keys", async () => {
  await rejectsWith(client.send(new BatchWriteItemCommand({ RequestItems: { left: Array.from({ length: 26 }, (_, i) => put(i)) } })), "ValidationException", /Member must have length less than or equal to 25/);
  await rejectsWith(client.send(new BatchWriteItemCommand({ RequestItems: { left: [put(7), { DeleteRequest: { Key: { id: { N: "7" } } } }] } })), "ValidationException", "Provided list of item keys contains duplicates");
  await rejectsWith(client.send(new BatchWriteItemCommand({ RequestItems: { missing: [put(1)] } })), "ResourceNotFoundException");
});

test("BatchGetItem refuses more than 100 keys and duplicates", async () => {
  await rejectsWith(
    client.send(new BatchGetItemCommand({ RequestItems: { left: { Keys: Array.from({ length: 101 }, (_, i) => ({ id: { N: String(i) } })) } } })),
    "ValidationException",
    /Member must have length less than or equal to 100|Too many items requested for the BatchGetItem call/,
  );
  await rejectsWith(
    client.send(new BatchGetItemCommand({ RequestItems: { left: { Keys: Array.from({ length: 60 }, (_, i) => ({ id: { N: String(i) } })) }, right: { Keys: Array.from({ length: 41 }, (_, i) => ({ id: { N: String(i) } })) } } })),
    "ValidationException",
    "Too many items requested for the BatchGetItem call",
  );
  await rejectsWith(client.send(new BatchGetItemCommand({ RequestItems: { left: { Keys: [{ id: { N: "1" } }, { id: { N: "1.0" } }] } } })), "ValidationException", "Provided list of item keys contains duplicates");
});

test("keys the store cannot serve right now come back as UnprocessedKeys and UnprocessedItems", async () => {
  await client.send(new BatchWriteItemCommand({ RequestItems: { left: [put(10), put(11)] } }));
  server.items.failWith("get", { code: "Unavailable", message: "1 of 2 replies" });
  const read = await client.send(new BatchGetItemCommand({ RequestItems: { left: { Keys: [{ id: { N: "10" } }, { id: { N: "11" } }], ConsistentRead: true } } }));
  assert.equal(read.Responses?.left?.length, 1);
  assert.equal(read.UnprocessedKeys?.left?.Keys?.length, 1);
  assert.equal(read.UnprocessedKeys?.left?.ConsistentRead, true);
  server.items.failWith("batch", { code: "Unavailable", message: "1 of 2 replies" });
  const written = await client.send(new BatchWriteItemCommand({ RequestItems: { right: [put(20)], left: [put(21)] } }));
  assert.equal(Object.keys(written.UnprocessedItems ?? {}).length, 1);
  const [[table, requests]] = Object.entries(written.UnprocessedItems!) as [[string, unknown[]]];
  assert.equal(requests.length, 1);
  const other = table === "right" ? "left" : "right";
  const otherId = other === "right" ? "20" : "21";
  assert.ok((await client.send(new GetItemCommand({ TableName: other, Key: { id: { N: otherId } } }))).Item !== undefined);
});

test("BatchGetItem answers at most batchGetResponseBytesMax of items; the rest come back as UnprocessedKeys and a retry reads them", async () => {
  const small = await startDynamoTestServer({ limits: { batchGetResponseBytesMax: 400 * 1024 } });
  try {
    const c = small.client();
    await c.send(new CreateTableCommand({ TableName: "blobs", KeySchema: [{ AttributeName: "id", KeyType: "HASH" }], AttributeDefinitions: [{ AttributeName: "id", AttributeType: "N" }], BillingMode: "PAY_PER_REQUEST" }));
    const ids = [1, 2, 3];
    await c.send(new BatchWriteItemCommand({ RequestItems: { blobs: ids.map((id) => ({ PutRequest: { Item: { id: { N: String(id) }, blob: { S: "x".repeat(300 * 1024) } } } })) } }));
    const first = await c.send(new BatchGetItemCommand({ RequestItems: { blobs: { Keys: ids.map((id) => ({ id: { N: String(id) } })), ProjectionExpression: "id" } }, ReturnConsumedCapacity: "INDEXES" }));
    assert.equal(first.Responses?.blobs?.length, 1, "300 KB items: one fits 400 KB");
    assert.deepEqual(Object.keys(first.Responses!.blobs![0]!), ["id"], "the projection applies, the size counted is the item's");
    assert.equal(first.UnprocessedKeys?.blobs?.Keys?.length, 2);
    assert.equal(first.UnprocessedKeys?.blobs?.ProjectionExpression, "id", "unprocessed keys keep the table's request members");
    // 300 KB + 8 bytes of names and values: 76 units of 4 KB, halved for an eventual read.
    assert.deepEqual(first.ConsumedCapacity, [{ TableName: "blobs", CapacityUnits: 38, ReadCapacityUnits: 38, Table: { CapacityUnits: 38, ReadCapacityUnits: 38 } }]);
    const seen = first.Responses!.blobs!.map((item) => item.id!.N);
    let pending: BatchGetItemCommandOutput["UnprocessedKeys"] = first.UnprocessedKeys;
    for (let round = 0; round < 5 && pending?.blobs !== undefined; round++) {
      const next: BatchGetItemCommandOutput = await c.send(new BatchGetItemCommand({ RequestItems: pending! }));
      seen.push(...(next.Responses?.blobs ?? []).map((item) => item.id!.N));
      pending = next.UnprocessedKeys;
    }
    assert.deepEqual(seen.sort(), ["1", "2", "3"]);
  } finally {
    await small.close();
  }
});
