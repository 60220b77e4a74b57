import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { CreateTableCommand, DeleteItemCommand, GetItemCommand, PutItemCommand, UpdateItemCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { startDynamoTestServer, type DynamoTestServer } from "../testing/dynamo-test-server.js";
import { rejectsWith } from "../testing/sdk-assertions.js";

/**
 * Tables made on the eventual path (tableConsistency "eventual") have no atomic
 * read-modify-write; conditional writes and UpdateItem read, decide and write with the version
 * they read as the write's condition, retrying a lost race a bounded number of times.
 */
let server: DynamoTestServer;
let client: DynamoDBClient;
before(async () => {
  server = await startDynamoTestServer({ tableConsistency: "eventual" });
  client = server.client();
  await client.send(new CreateTableCommand({ TableName: "loose", KeySchema: [{ AttributeName: "id", KeyType: "HASH" }], AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }], BillingMode: "PAY_PER_REQUEST" }));
});
after(() => server.close());

test("the table underneath is an eventual Shoal table and modify is never used", async () => {
  assert.equal(server.api.context.tables.get("loose")?.definition.consistency, "eventual");
  await client.send(new PutItemCommand({ TableName: "loose", Item: { id: { S: "a" } }, ConditionExpression: "attribute_not_exists(id)" }));
  await rejectsWith(client.send(new PutItemCommand({ TableName: "loose", Item: { id: { S: "a" } }, ConditionExpression: "attribute_not_exists(id)" })), "ConditionalCheckFailedException");
  assert.equal(server.items.calls.modify, 0);
});

test("UpdateItem counts, conditional deletes check, and ReturnValues work on the eventual path", async () => {
  for (let i = 0; i < 3; i++) {
    await client.send(new UpdateItemCommand({ TableName: "loose", Key: { id: { S: "n" } }, UpdateExpression: "ADD hits :one", ExpressionAttributeValues: { ":one": { N: "1" } } }));
  }
  const read = await client.send(new GetItemCommand({ TableName: "loose", Key: { id: { S: "n" } } }));
  assert.deepEqual(read.Item?.hits, { N: "3" });
  await rejectsWith(client.send(new DeleteItemCommand({ TableName: "loose", Key: { id: { S: "n" } }, ConditionExpression: "hits > :n", ExpressionAttributeValues: { ":n": { N: "3" } } })), "ConditionalCheckFailedException");
  const deleted = await client.send(new DeleteItemCommand({ TableName: "loose", Key: { id: { S: "n" } }, ConditionExpression: "hits = :n", ExpressionAttributeValues: { ":n": { N: "3" } }, ReturnValues: "ALL_OLD" }));
  assert.deepEqual(deleted.Attributes, { id: { S: "n" }, hits: { N: "3" } });
});

test("a write that loses its version check re-reads and decides again", async () => {
  await client.send(new PutItemCommand({ TableName: "loose", Item: { id: { S: "race" }, v: { N: "1" } } }));
  server.items.failWith("put", { code: "PreconditionFailed", message: "If-Match failed" });
  const updated = await client.send(new UpdateItemCommand({ TableName: "loose", Key: { id: { S: "race" } }, UpdateExpression: "SET v = v + :one", ExpressionAttributeValues: { ":one": { N: "1" } }, ReturnValues: "UPDATED_NEW" }));
  assert.deepEqual(updated.Attributes, { v: { N: "2" } });
  server.items.failWith("put", { code: "PreconditionFailed", message: "If-Match failed" }, 3);
  await rejectsWith(
    client.send(new UpdateItemCommand({ TableName: "loose", Key: { id: { S: "race" } }, UpdateExpression: "SET v = v + :one", ExpressionAttributeValues: { ":one": { N: "1" } } })),
    "ThrottlingException",
    /changed under 3 read-modify-write attempts/,
  );
});
