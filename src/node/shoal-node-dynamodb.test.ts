import { test } from "node:test";
import assert from "node:assert/strict";
import { CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { startTestNode } from "./test-node.js";

/**
 * Issue 5, item 1: the AWS SDK talks to a node's client port, where the native REST API also
 * answers (`POST /` with X-Amz-Target goes to the DynamoDB API; everything else to REST).
 */
test("the AWS SDK and the native REST API share a node's client port", async () => {
  const node = await startTestNode();
  const client = new DynamoDBClient({ endpoint: node.url, region: "us-east-1", maxAttempts: 1, credentials: { accessKeyId: "local", secretAccessKey: "local" } });
  try {
    await client.send(
      new CreateTableCommand({
        TableName: "orders",
        KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
        AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
        BillingMode: "PAY_PER_REQUEST",
      }),
    );
    await client.send(new PutItemCommand({ TableName: "orders", Item: { id: { S: "o1" }, amount: { N: "10" } } }));
    await client.send(new UpdateItemCommand({ TableName: "orders", Key: { id: { S: "o1" } }, UpdateExpression: "SET amount = amount + :d", ExpressionAttributeValues: { ":d": { N: "5" } } }));
    const got = await client.send(new GetItemCommand({ TableName: "orders", Key: { id: { S: "o1" } }, ConsistentRead: true }));
    assert.deepEqual(got.Item, { id: { S: "o1" }, amount: { N: "15" } });

    const tables = (await (await fetch(`${node.url}/v1/tables`)).json()) as { tables: { name: string }[] };
    assert.ok(tables.tables.some((table) => table.name === "orders"), "a DynamoDB table is a Shoal table");
    const root = await fetch(`${node.url}/`, { method: "POST", body: "{}" });
    assert.equal(root.status, 404, "POST / without X-Amz-Target stays a REST request");
    await root.body?.cancel();
    const unknown = await fetch(`${node.url}/`, { method: "POST", headers: { "x-amz-target": "DynamoDB_20120810.Frobnicate", "content-type": "application/x-amz-json-1.0" }, body: "{}" });
    assert.equal(unknown.status, 400);
    assert.match(((await unknown.json()) as { __type: string }).__type, /UnknownOperationException$/);
  } finally {
    client.destroy();
    await node.close();
  }
});
