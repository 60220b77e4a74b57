import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { CreateTableCommand, GetItemCommand, PutItemCommand, QueryCommand, ScanCommand, UpdateItemCommand, UpdateTimeToLiveCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { startDynamoTestServer, type DynamoTestServer } from "../testing/dynamo-test-server.js";

let server: DynamoTestServer;
let client: DynamoDBClient;
const startMs = Date.UTC(2026, 0, 1);
const nowSeconds = () => Math.floor(server.clock.nowMs() / 1000);

before(async () => {
  server = await startDynamoTestServer({ nowMs: startMs, limits: { ttlSweepBatchMax: 2, fetchItemsMax: 3 } });
  client = server.client();
  await client.send(new CreateTableCommand({ TableName: "sessions", KeySchema: [{ AttributeName: "id", KeyType: "HASH" }], AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }], BillingMode: "PAY_PER_REQUEST" }));
  await client.send(new UpdateTimeToLiveCommand({ TableName: "sessions", TimeToLiveSpecification: { Enabled: true, AttributeName: "expires" } }));
});
after(() => server.close());

const session = (id: string, expiresInSeconds: number | null) => ({ id: { S: id }, ...(expiresInSeconds === null ? {} : { expires: { N: String(nowSeconds() + expiresInSeconds) } }) });

test("an item whose TTL attribute has passed is hidden from GetItem, Query and Scan", async () => {
  await client.send(new PutItemCommand({ TableName: "sessions", Item: session("short", 60) }));
  await client.send(new PutItemCommand({ TableName: "sessions", Item: session("forever", null) }));
  await client.send(new PutItemCommand({ TableName: "sessions", Item: { id: { S: "text-ttl" }, expires: { S: "not a number" } } }));
  const read = () => client.send(new GetItemCommand({ TableName: "sessions", Key: { id: { S: "short" } }, ConsistentRead: true }));
  assert.ok((await read()).Item !== undefined);
  server.clock.advance(61_000);
  assert.equal((await read()).Item, undefined);
  const query = await client.send(new QueryCommand({ TableName: "sessions", KeyConditionExpression: "id = :id", ExpressionAttributeValues: { ":id": { S: "short" } } }));
  assert.equal(query.Count, 0);
  const scanned = await client.send(new ScanCommand({ TableName: "sessions" }));
  assert.deepEqual(scanned.Items?.map((item) => item.id!.S).sort(), ["forever", "text-ttl"]);
});

test("an expired item counts as absent for conditions and UpdateItem starts it afresh", async () => {
  await client.send(new PutItemCommand({ TableName: "sessions", Item: { ...session("renew", 10), hits: { N: "5" } } }));
  server.clock.advance(11_000);
  await client.send(new PutItemCommand({ TableName: "sessions", Item: session("renew2", 10), ConditionExpression: "attribute_not_exists(id)" }));
  const updated = await client.send(new UpdateItemCommand({ TableName: "sessions", Key: { id: { S: "renew" } }, UpdateExpression: "ADD hits :one", ExpressionAttributeValues: { ":one": { N: "1" } }, ReturnValues: "ALL_NEW" }));
  assert.deepEqual(updated.Attributes, { id: { S: "renew" }, hits: { N: "1" } });
});

test("the sweeper deletes expired items in bounded steps and spares live ones", async () => {
  for (let i = 0; i < 5; i++) await client.send(new PutItemCommand({ TableName: "sessions", Item: session(`sweep-${i}`, 30) }));
  await client.send(new PutItemCommand({ TableName: "sessions", Item: session("sweep-live", 3600) }));
  server.clock.advance(31_000);
  const table = server.api.context.tables.get("sessions")!.definition;
  const before = server.items.size(table);
  let deleted = 0;
  for (let step = 0; step < 8; step++) {
    const count = await server.api.ttlSweeper.step();
    assert.ok(count <= 2, `a step deletes at most ttlSweepBatchMax items, deleted ${count}`);
    deleted += count;
  }
  assert.ok(deleted >= 6, `deleted ${deleted}`); // the five sweep-* items and "short", at least
  assert.equal(server.items.size(table), before - deleted);
  const live = await client.send(new GetItemCommand({ TableName: "sessions", Key: { id: { S: "sweep-live" } } }));
  assert.ok(live.Item !== undefined);
  const scanned = await client.send(new ScanCommand({ TableName: "sessions", Select: "COUNT" }));
  assert.equal(scanned.Count, server.items.size(table));
});
