import { test, after } from "node:test";
import assert from "node:assert/strict";
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  GetItemCommand,
  ListTablesCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  UpdateItemCommand,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  type DynamoDBClient,
} from "@aws-sdk/client-dynamodb";
import { startTestNode, type TestNode } from "../node/test-node.js";
import { eventually } from "../testing/eventually.js";
import { startDynamoNodeServer, type DynamoNodeServer } from "./testing/dynamo-node-server.js";
import { createOrders, rejectsWith } from "./testing/sdk-assertions.js";

/** The DynamoDB API over real ShoalNodes: one node, then three nodes on loopback TCP. */
const nodes: TestNode[] = [];
const servers: DynamoNodeServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await Promise.all(nodes.map((n) => n.close()));
});

async function node(options: Parameters<typeof startTestNode>[0], tableConsistency?: "strong" | "eventual"): Promise<{ node: TestNode; server: DynamoNodeServer; client: DynamoDBClient }> {
  const started = await startTestNode(options);
  nodes.push(started);
  const server = await startDynamoNodeServer(started, tableConsistency !== undefined ? { tableConsistency } : {});
  servers.push(server);
  return { node: started, server, client: server.client };
}

test("one node: tables on the strong path, conditional writes and atomic counters", async () => {
  const { node: single, client } = await node({ config: { nodeId: "d1" } });
  await createOrders(client);
  assert.equal(single.node.catalog.get("orders")?.consistency, "strong");
  for (const at of [3, 1, 2]) await client.send(new PutItemCommand({ TableName: "orders", Item: { customer: { S: "ann" }, placed: { N: String(at) }, amount: { N: "10" } } }));
  await rejectsWith(
    client.send(new PutItemCommand({ TableName: "orders", Item: { customer: { S: "ann" }, placed: { N: "1" } }, ConditionExpression: "attribute_not_exists(customer)" })),
    "ConditionalCheckFailedException",
  );
  const bump = () => client.send(new UpdateItemCommand({ TableName: "orders", Key: { customer: { S: "ann" }, placed: { N: "1" } }, UpdateExpression: "ADD amount :one", ExpressionAttributeValues: { ":one": { N: "1" } } }));
  await Promise.all(Array.from({ length: 8 }, bump));
  const read = await client.send(new GetItemCommand({ TableName: "orders", Key: { customer: { S: "ann" }, placed: { N: "1" } }, ConsistentRead: true }));
  assert.deepEqual(read.Item?.amount, { N: "18" });
  const eventual = await client.send(new GetItemCommand({ TableName: "orders", Key: { customer: { S: "ann" }, placed: { N: "2" } } }));
  assert.deepEqual(eventual.Item?.amount, { N: "10" });
});

// Query and Scan over the eventual path (the strong path's are in the three-node test below).
test("one node, eventual tables: Query in both directions with paging, and Scan", async () => {
  const { node: single, client } = await node({ config: { nodeId: "e1" } }, "eventual");
  await createOrders(client);
  assert.equal(single.node.catalog.get("orders")?.consistency, "eventual");
  for (const at of [3, 1, 2, 10]) await client.send(new PutItemCommand({ TableName: "orders", Item: { customer: { S: "ann" }, placed: { N: String(at) } } }));
  await client.send(new PutItemCommand({ TableName: "orders", Item: { customer: { S: "cy" }, placed: { N: "1" } } }));
  const queried = await client.send(new QueryCommand({ TableName: "orders", KeyConditionExpression: "customer = :c AND placed >= :from", ExpressionAttributeValues: { ":c": { S: "ann" }, ":from": { N: "2" } } }));
  assert.deepEqual(queried.Items?.map((item) => item.placed!.N), ["2", "3", "10"]);
  const reversed = await client.send(new QueryCommand({ TableName: "orders", KeyConditionExpression: "customer = :c", ExpressionAttributeValues: { ":c": { S: "ann" } }, ScanIndexForward: false, Limit: 2 }));
  assert.deepEqual(reversed.Items?.map((item) => item.placed!.N), ["10", "3"]);
  assert.deepEqual(reversed.LastEvaluatedKey, { customer: { S: "ann" }, placed: { N: "3" } });
  const rest = await client.send(new QueryCommand({ TableName: "orders", KeyConditionExpression: "customer = :c", ExpressionAttributeValues: { ":c": { S: "ann" } }, ScanIndexForward: false, ExclusiveStartKey: reversed.LastEvaluatedKey }));
  assert.deepEqual(rest.Items?.map((item) => item.placed!.N), ["2", "1"]);
  const scanned = await client.send(new ScanCommand({ TableName: "orders", Select: "COUNT" }));
  assert.equal(scanned.Count, 5);
  // ConsistentRead is never refused: on an eventual table it is the quorum read.
  const consistentScan = await client.send(new ScanCommand({ TableName: "orders", Select: "COUNT", ConsistentRead: true }));
  assert.equal(consistentScan.Count, 5);
  const consistentQuery = await client.send(new QueryCommand({ TableName: "orders", KeyConditionExpression: "customer = :c", ExpressionAttributeValues: { ":c": { S: "cy" } }, ConsistentRead: true }));
  assert.equal(consistentQuery.Count, 1);
  const consistentGet = await client.send(new GetItemCommand({ TableName: "orders", Key: { customer: { S: "cy" }, placed: { N: "1" } }, ConsistentRead: true }));
  assert.ok(consistentGet.Item !== undefined);
  const consistentBatch = await client.send(new BatchGetItemCommand({ RequestItems: { orders: { Keys: [{ customer: { S: "cy" }, placed: { N: "1" } }], ConsistentRead: true } } }));
  assert.equal(consistentBatch.Responses?.orders?.length, 1);
  const counted = await client.send(new UpdateItemCommand({ TableName: "orders", Key: { customer: { S: "cy" }, placed: { N: "1" } }, UpdateExpression: "ADD visits :one", ExpressionAttributeValues: { ":one": { N: "1" } }, ReturnValues: "UPDATED_NEW" }));
  assert.deepEqual(counted.Attributes, { visits: { N: "1" } });
});

test("three nodes: a table created on one is described by all, and a consistent read through another node sees a write", async () => {
  const first = await node({ config: { nodeId: "c1" } });
  const second = await node({ config: { nodeId: "c2", join: [`127.0.0.1:${first.node.node.peerPort}`] } });
  const third = await node({ config: { nodeId: "c3", join: [`127.0.0.1:${first.node.node.peerPort}`] } });
  const all = [first, second, third];
  await eventually("three nodes up", () => all.every((n) => n.node.node.cluster.status().members.filter((m) => m.state === "up").length === 3), { deadlineMs: 20_000 });
  await createOrders(first.client);
  for (const n of all) {
    await eventually("the table reaching every node", async () => (await n.client.send(new DescribeTableCommand({ TableName: "orders" })).catch(() => undefined))?.Table?.TableName === "orders");
  }
  await second.client.send(new PutItemCommand({ TableName: "orders", Item: { customer: { S: "bo" }, placed: { N: "1" }, note: { S: "written on c2" } } }));
  const read = await third.client.send(new GetItemCommand({ TableName: "orders", Key: { customer: { S: "bo" }, placed: { N: "1" } }, ConsistentRead: true }));
  assert.deepEqual(read.Item?.note, { S: "written on c2" });
  // ConsistentRead Query and Scan through the other two nodes see the write made through c2.
  const queried = await third.client.send(new QueryCommand({ TableName: "orders", KeyConditionExpression: "customer = :c", ExpressionAttributeValues: { ":c": { S: "bo" } }, ConsistentRead: true }));
  assert.deepEqual(queried.Items?.map((item) => item.note), [{ S: "written on c2" }]);
  const scanned = await first.client.send(new ScanCommand({ TableName: "orders", ConsistentRead: true, ReturnConsumedCapacity: "TOTAL" }));
  assert.deepEqual(scanned.Items?.map((item) => item.note), [{ S: "written on c2" }]);
  assert.equal(scanned.ConsumedCapacity?.CapacityUnits, 1, "a consistent read costs full units");
  await first.client.send(
    new BatchWriteItemCommand({ RequestItems: { orders: [2, 3, 4].map((at) => ({ PutRequest: { Item: { customer: { S: "bo" }, placed: { N: String(at) } } } })) } }),
  );
  const batch = await third.client.send(new BatchGetItemCommand({ RequestItems: { orders: { Keys: [1, 2, 3, 4].map((at) => ({ customer: { S: "bo" }, placed: { N: String(at) } })), ConsistentRead: true } } }));
  assert.equal(batch.Responses?.orders?.length, 4);
  const bumps = all.map((n) =>
    n.client.send(new UpdateItemCommand({ TableName: "orders", Key: { customer: { S: "bo" }, placed: { N: "1" } }, UpdateExpression: "ADD hits :one", ExpressionAttributeValues: { ":one": { N: "1" } } })),
  );
  await Promise.all(bumps);
  const counted = await first.client.send(new GetItemCommand({ TableName: "orders", Key: { customer: { S: "bo" }, placed: { N: "1" } }, ConsistentRead: true }));
  assert.deepEqual(counted.Item?.hits, { N: "3" });

  // DescribeTable through c3 counts the items written through c2 (a background pass, started by the first DescribeTable).
  await first.client.send(new CreateTableCommand({ TableName: "tally", KeySchema: [{ AttributeName: "id", KeyType: "HASH" }], AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }], BillingMode: "PAY_PER_REQUEST" }));
  await eventually("tally on c2", async () => (await second.client.send(new ListTablesCommand({}))).TableNames?.includes("tally") === true);
  await second.client.send(new BatchWriteItemCommand({ RequestItems: { tally: Array.from({ length: 5 }, (_, i) => ({ PutRequest: { Item: { id: { S: `i${i}` } } } })) } }));
  await eventually("tally on c3", async () => (await third.client.send(new ListTablesCommand({}))).TableNames?.includes("tally") === true);
  await eventually("c3 counting five items of 4 bytes", async () => {
    const table = (await third.client.send(new DescribeTableCommand({ TableName: "tally" }))).Table;
    return table?.ItemCount === 5 && table.TableSizeBytes === 20;
  });

  // UpdateTable through one node and UpdateTimeToLive through another at once: both land.
  await Promise.all([
    first.client.send(new UpdateTableCommand({ TableName: "orders", BillingMode: "PROVISIONED", ProvisionedThroughput: { ReadCapacityUnits: 7, WriteCapacityUnits: 3 } })),
    second.client.send(new UpdateTimeToLiveCommand({ TableName: "orders", TimeToLiveSpecification: { AttributeName: "expires", Enabled: true } })),
  ]);
  for (const n of all) {
    await eventually("both table changes on every node", async () => {
      const described = await n.client.send(new DescribeTableCommand({ TableName: "orders" }));
      const ttl = await n.client.send(new DescribeTimeToLiveCommand({ TableName: "orders" }));
      return described.Table?.ProvisionedThroughput?.ReadCapacityUnits === 7 && ttl.TimeToLiveDescription?.AttributeName === "expires";
    });
  }
});
