import { test } from "node:test";
import assert from "node:assert/strict";
import { DynamoException } from "../protocol/dynamo-exception.js";
import type { JsonObject } from "../protocol/request-reader.js";
import { createTable } from "../tables/create-table.js";
import { testContext } from "../testing/test-context.js";
import { getItem } from "./get-item.js";
import { putItem } from "./put-item.js";
import { query } from "./query.js";
import { updateItem } from "./update-item.js";

/**
 * DynamoDB validates in layers: the request's shape (all violations together), then the
 * expressions, then the table's existence, then the key against the schema, then sizes. A
 * request wrong in several ways reports the earliest layer; these cases pin that order.
 */
async function failure(run: Promise<unknown>): Promise<DynamoException> {
  try {
    await run;
  } catch (error) {
    assert.ok(error instanceof DynamoException, String(error));
    return error;
  }
  assert.fail("expected a DynamoException");
}

async function contextWithTable() {
  const context = testContext();
  await createTable(context, {
    TableName: "table1",
    KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
    AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
    BillingMode: "PAY_PER_REQUEST",
  });
  return context;
}

test("the request shape is checked before the table's existence", async () => {
  const context = await contextWithTable();
  const error = await failure(putItem(context, { TableName: "missing-table", ReturnValues: "SOMETIMES" } as JsonObject));
  assert.equal(error.type, "ValidationException");
  assert.match(error.message, /^2 validation errors detected: .*'item'.*Member must not be null.*'returnValues'|^2 validation errors detected: .*'returnValues'.*'item'/);
});

test("expressions are checked before the table's existence", async () => {
  const context = await contextWithTable();
  const error = await failure(getItem(context, { TableName: "missing-table", Key: { id: { S: "x" } }, ProjectionExpression: "a,, b" }));
  assert.equal(error.type, "ValidationException");
  assert.match(error.message, /ProjectionExpression/);
});

test("a missing table is reported before the key is checked against a schema", async () => {
  const context = await contextWithTable();
  const error = await failure(getItem(context, { TableName: "missing-table", Key: { wrong: { N: "1" } } }));
  assert.equal(error.type, "ResourceNotFoundException");
});

test("an attribute value error is reported before the table's existence", async () => {
  const context = await contextWithTable();
  const error = await failure(putItem(context, { TableName: "missing-table", Item: { id: { S: "x" }, bad: { NULL: false } } }));
  assert.equal(error.type, "ValidationException");
  assert.match(error.message, /Null attribute value types must have the value of true/);
});

test("the key is checked before the item's size", async () => {
  const context = await contextWithTable();
  const error = await failure(putItem(context, { TableName: "table1", Item: { id: { N: "1" }, big: { S: "x".repeat(500 * 1024) } } }));
  assert.equal(error.message, "One or more parameter values were invalid: Type mismatch for key id expected: S actual: N");
});

test("UpdateItem refuses a key-attribute update before looking at the item", async () => {
  const context = await contextWithTable();
  const error = await failure(updateItem(context, { TableName: "table1", Key: { id: { S: "x" } }, UpdateExpression: "REMOVE id" }));
  assert.match(error.message, /Cannot update attribute id. This attribute is part of the key/);
  assert.equal(context.items.calls.modify, 0);
});

test("Query without a key condition names both parameters", async () => {
  const context = await contextWithTable();
  const error = await failure(query(context, { TableName: "table1" }));
  assert.equal(error.message, "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.");
});

test("a legacy parameter is refused by name", async () => {
  const context = await contextWithTable();
  const error = await failure(getItem(context, { TableName: "table1", Key: { id: { S: "x" } }, AttributesToGet: ["a"] }));
  assert.match(error.message, /AttributesToGet is a legacy parameter/);
});

test("ReturnValuesOnConditionCheckFailure ALL_OLD is refused by name rather than ignored", async () => {
  const context = await contextWithTable();
  const error = await failure(putItem(context, { TableName: "table1", Item: { id: { S: "x" } }, ConditionExpression: "attribute_exists(id)", ReturnValuesOnConditionCheckFailure: "ALL_OLD" }));
  assert.match(error.message, /ReturnValuesOnConditionCheckFailure ALL_OLD is not supported/);
});

test("a Query's ExclusiveStartKey must belong to the queried partition key", async () => {
  const context = await contextWithTable();
  const error = await failure(query(context, { TableName: "table1", KeyConditionExpression: "id = :id", ExpressionAttributeValues: { ":id": { S: "a" } }, ExclusiveStartKey: { id: { S: "b" } } }));
  assert.equal(error.message, "The provided starting key is outside query boundaries based on provided conditions");
});

test("a Query with a partition key over 2048 bytes is refused before reaching the store; one of 2048 bytes reaches it", async () => {
  const context = await contextWithTable();
  const tooLong = await failure(query(context, { TableName: "table1", KeyConditionExpression: "id = :id", ExpressionAttributeValues: { ":id": { S: "q".repeat(2049) } } }));
  assert.match(tooLong.message, /Size of hashkey has exceeded/);
  assert.equal(context.items.calls.query + context.items.calls.get, 0);
  await query(context, { TableName: "table1", KeyConditionExpression: "id = :id", ExpressionAttributeValues: { ":id": { S: "q".repeat(2048) } } });
  assert.equal(context.items.calls.query + context.items.calls.get, 1);
});

test("an ExclusiveStartKey that does not match the key schema says it is the starting key", async () => {
  const context = await contextWithTable();
  const error = await failure(query(context, { TableName: "table1", KeyConditionExpression: "id = :id", ExpressionAttributeValues: { ":id": { S: "a" } }, ExclusiveStartKey: { other: { S: "a" } } }));
  assert.equal(error.message, "The provided starting key is invalid: The provided key element does not match the schema");
});
