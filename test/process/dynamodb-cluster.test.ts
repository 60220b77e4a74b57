import { test, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  BatchGetItemCommand,
  type BatchGetItemCommandInput,
  type BatchGetItemCommandOutput,
  BatchWriteItemCommand,
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  ListTablesCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  UpdateItemCommand,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  DescribeTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { eventually } from "../../src/testing/eventually.js";
import { createOrders } from "../../src/dynamodb/testing/sdk-assertions.js";
import { ProcessGroup, startNode, withNodeLogs, type NodeProcess } from "./shoal-process.js";
import { allUp, peerPortOf } from "./cluster-views.js";

/**
 * Issue 5: the AWS SDK v3 against three real `shoal` processes on loopback (LMDB, TCP), each
 * client pointed at a different node's client port: a table made through one node is on all,
 * a write through one is seen by ConsistentRead GetItem, Query and Scan through the others,
 * concurrent UpdateItem counters through all three add up, batches work across nodes,
 * concurrent UpdateTable and UpdateTimeToLive through two nodes both land, the error cases
 * answer DynamoDB's exceptions, and after SIGKILL and restart of one node every item is still
 * read consistently through it. Then one node alone through the DocumentClient, killed and
 * restarted on its data directory.
 */
const group = new ProcessGroup();
const clients: DynamoDBClient[] = [];
after(async () => {
  for (const client of clients.splice(0)) client.destroy();
  await group.cleanUp();
});

const formDeadlineMs = 30_000;

function clientOf(node: NodeProcess): DynamoDBClient {
  const client = new DynamoDBClient({ endpoint: node.url, region: "us-east-1", maxAttempts: 3, credentials: { accessKeyId: "local", secretAccessKey: "local" } });
  clients.push(client);
  return client;
}

async function exceptionName(work: Promise<unknown>): Promise<string> {
  try {
    await work;
  } catch (error) {
    return (error as Error).name;
  }
  return "no exception";
}

test("the AWS SDK against three real processes: consistent reads across nodes, counters, batches, table changes, errors, and a node killed and restarted", { timeout: 180_000 }, () => withNodeLogs(group, async () => {
  const root = group.tempDir("shoal-dynamodb-cluster-");
  const first = await startNode(group, join(root, "node-1"));
  const seed = `127.0.0.1:${peerPortOf(first)}`;
  const others = await Promise.all([2, 3].map((i) => startNode(group, join(root, `node-${i}`), ["--join", seed])));
  const nodes = [first, ...others];
  const ids = nodes.map((n) => n.nodeId);
  await eventually("three nodes to form one cluster", () => allUp(nodes, ids), { deadlineMs: formDeadlineMs, pollMs: 50 });
  const [a, b, c] = nodes.map(clientOf) as [DynamoDBClient, DynamoDBClient, DynamoDBClient];

  await createOrders(a);
  for (const client of [b, c]) {
    await eventually("the table on every node", async () => (await client.send(new ListTablesCommand({}))).TableNames?.includes("orders") === true, { deadlineMs: formDeadlineMs, pollMs: 100 });
  }

  // A write through b, read consistently through a and c.
  await b.send(new PutItemCommand({ TableName: "orders", Item: { customer: { S: "ann" }, placed: { N: "1" }, note: { S: "via b" } } }));
  const got = await c.send(new GetItemCommand({ TableName: "orders", Key: { customer: { S: "ann" }, placed: { N: "1" } }, ConsistentRead: true }));
  assert.deepEqual(got.Item?.note, { S: "via b" });
  const queried = await a.send(new QueryCommand({ TableName: "orders", KeyConditionExpression: "customer = :c", ExpressionAttributeValues: { ":c": { S: "ann" } }, ConsistentRead: true }));
  assert.deepEqual(queried.Items?.map((item) => item.note), [{ S: "via b" }]);
  const scanned = await c.send(new ScanCommand({ TableName: "orders", ConsistentRead: true }));
  assert.equal(scanned.Count, 1);

  // Counters through all three nodes at once, then batches written through one and read through another.
  const bumps = [a, b, c].flatMap((client) =>
    Array.from({ length: 4 }, () => client.send(new UpdateItemCommand({ TableName: "orders", Key: { customer: { S: "ann" }, placed: { N: "1" } }, UpdateExpression: "ADD hits :one", ExpressionAttributeValues: { ":one": { N: "1" } } }))),
  );
  await Promise.all(bumps);
  const counted = await b.send(new GetItemCommand({ TableName: "orders", Key: { customer: { S: "ann" }, placed: { N: "1" } }, ConsistentRead: true }));
  assert.deepEqual(counted.Item?.hits, { N: "12" });
  await a.send(new BatchWriteItemCommand({ RequestItems: { orders: [2, 3, 4, 5].map((at) => ({ PutRequest: { Item: { customer: { S: "bo" }, placed: { N: String(at) } } } })) } }));
  // A key whose read did not finish in time comes back in UnprocessedKeys (as DynamoDB may answer
  // under load); a client asks again for those, as the SDK's users must. A few rounds at most.
  let requested: BatchGetItemCommandInput["RequestItems"] = { orders: { Keys: [2, 3, 4, 5, 6].map((at) => ({ customer: { S: "bo" }, placed: { N: String(at) } })), ConsistentRead: true } };
  const found: unknown[] = [];
  for (let round = 0; round < 5 && requested !== undefined && Object.keys(requested).length > 0; round++) {
    const batch: BatchGetItemCommandOutput = await c.send(new BatchGetItemCommand({ RequestItems: requested }));
    found.push(...(batch.Responses?.orders ?? []));
    requested = batch.UnprocessedKeys;
  }
  assert.equal(found.length, 4, `BatchGetItem found ${found.length} of 4 items; still unprocessed after 5 rounds: ${JSON.stringify(requested)}`);
  const page = await b.send(new QueryCommand({ TableName: "orders", KeyConditionExpression: "customer = :c AND placed > :p", ExpressionAttributeValues: { ":c": { S: "bo" }, ":p": { N: "2" } }, Limit: 2, ScanIndexForward: false, ConsistentRead: true }));
  assert.deepEqual(page.Items?.map((item) => item.placed!.N), ["5", "4"]);
  assert.deepEqual(page.LastEvaluatedKey, { customer: { S: "bo" }, placed: { N: "4" } });

  // Table changes through two nodes at once both land.
  await Promise.all([
    a.send(new UpdateTableCommand({ TableName: "orders", BillingMode: "PROVISIONED", ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 2 } })),
    b.send(new UpdateTimeToLiveCommand({ TableName: "orders", TimeToLiveSpecification: { AttributeName: "expires", Enabled: true } })),
  ]);
  await eventually("both table changes on c", async () => {
    const described = await c.send(new DescribeTableCommand({ TableName: "orders" }));
    const ttl = await c.send(new DescribeTimeToLiveCommand({ TableName: "orders" }));
    return described.Table?.ProvisionedThroughput?.ReadCapacityUnits === 5 && ttl.TimeToLiveDescription?.TimeToLiveStatus === "ENABLED";
  }, { deadlineMs: formDeadlineMs, pollMs: 100 });

  // Error cases answer DynamoDB's exceptions.
  assert.equal(await exceptionName(c.send(new GetItemCommand({ TableName: "nope", Key: { id: { S: "x" } } }))), "ResourceNotFoundException");
  assert.equal(await exceptionName(c.send(new GetItemCommand({ TableName: "orders", Key: { customer: { S: "ann" } } }))), "ValidationException");
  assert.equal(
    await exceptionName(a.send(new PutItemCommand({ TableName: "orders", Item: { customer: { S: "ann" }, placed: { N: "1" } }, ConditionExpression: "attribute_not_exists(customer)" }))),
    "ConditionalCheckFailedException",
  );
  assert.equal(await exceptionName(b.send(new CreateTableCommand({ TableName: "orders", KeySchema: [{ AttributeName: "id", KeyType: "HASH" }], AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }], BillingMode: "PAY_PER_REQUEST" }))), "ResourceInUseException");

  // SIGKILL node 3 and restart it on its data directory: every item is read consistently through it.
  const victim = others[1]!;
  victim.child.kill("SIGKILL");
  await victim.exited;
  await a.send(new PutItemCommand({ TableName: "orders", Item: { customer: { S: "cy" }, placed: { N: "1" }, note: { S: "while c was down" } } }));
  const back = await startNode(group, join(root, "node-3"), ["--join", seed]);
  await eventually("the restarted node up in every view", () => allUp([first, others[0]!, back], ids), { deadlineMs: formDeadlineMs, pollMs: 50 });
  const restarted = clientOf(back);
  await eventually("the restarted node answering for the table", async () => (await restarted.send(new ListTablesCommand({})).catch(() => undefined))?.TableNames?.includes("orders") === true, { deadlineMs: formDeadlineMs, pollMs: 100 });
  const all = await restarted.send(new ScanCommand({ TableName: "orders", ConsistentRead: true }));
  assert.deepEqual(all.Items?.map((item) => `${item.customer!.S}/${item.placed!.N}`).sort(), ["ann/1", "bo/2", "bo/3", "bo/4", "bo/5", "cy/1"]);
  const during = await restarted.send(new GetItemCommand({ TableName: "orders", Key: { customer: { S: "cy" }, placed: { N: "1" } }, ConsistentRead: true }));
  assert.deepEqual(during.Item?.note, { S: "while c was down" });
}));

test("the AWS SDK's DocumentClient against one real process: put, conditional update (reserved words through placeholders) and a restart that keeps the items", { timeout: 60_000 }, async () => {
  const dir = join(group.tempDir("shoal-dynamodb-single-"), "node");
  const node = await startNode(group, dir);
  const client = clientOf(node);
  await client.send(new CreateTableCommand({ TableName: "carts", KeySchema: [{ AttributeName: "id", KeyType: "HASH" }], AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }], BillingMode: "PAY_PER_REQUEST" }));
  const documents = DynamoDBDocumentClient.from(client);
  await documents.send(new PutCommand({ TableName: "carts", Item: { id: "c1", items: ["apple"], total: 3 } }));
  const updated = await documents.send(
    new UpdateCommand({ TableName: "carts", Key: { id: "c1" }, UpdateExpression: "SET #items = list_append(#items, :more), #total = #total + :p", ConditionExpression: "#total < :limit", ExpressionAttributeNames: { "#items": "items", "#total": "total" }, ExpressionAttributeValues: { ":more": ["pear"], ":p": 2, ":limit": 10 }, ReturnValues: "ALL_NEW" }),
  );
  assert.deepEqual(updated.Attributes, { id: "c1", items: ["apple", "pear"], total: 5 });
  node.child.kill("SIGKILL");
  await node.exited;
  const again = await startNode(group, dir);
  const read = await DynamoDBDocumentClient.from(clientOf(again)).send(new GetCommand({ TableName: "carts", Key: { id: "c1" }, ConsistentRead: true }));
  assert.deepEqual(read.Item, { id: "c1", items: ["apple", "pear"], total: 5 });
});
