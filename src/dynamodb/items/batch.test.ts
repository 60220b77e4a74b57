import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { BatchGetItemCommand, BatchWriteItemCommand, CreateTableCommand, GetItemCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
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
