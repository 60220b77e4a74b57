import { test } from "node:test";
import assert from "node:assert/strict";
import { BatchWriteItemCommand, CreateTableCommand, DeleteItemCommand, DeleteTableCommand, DescribeTableCommand, PutItemCommand, UpdateTimeToLiveCommand } from "@aws-sdk/client-dynamodb";
import { startDynamoTestServer } from "../testing/dynamo-test-server.js";

// DescribeTable's ItemCount and TableSizeBytes: a background recount through ItemOperations.list,
// started by DescribeTable when the figures are missing or older than statsMaxAgeMs.

const hourMs = 60 * 60 * 1000;

async function withServer(work: (s: Awaited<ReturnType<typeof startDynamoTestServer>>) => Promise<void>): Promise<void> {
  // Steps an hour apart: nothing runs by itself during the test; drain() runs the passes.
  const server = await startDynamoTestServer({ limits: { fetchItemsMax: 3, statsStepIntervalMs: hourMs } });
  try {
    await work(server);
  } finally {
    await server.close();
  }
}

const create = (name: string) => new CreateTableCommand({ TableName: name, KeySchema: [{ AttributeName: "id", KeyType: "HASH" }], AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }], BillingMode: "PAY_PER_REQUEST" });

test("ItemCount and TableSizeBytes are 0 until a count, then the live items and their DynamoDB sizes; stale figures are recounted", async () => {
  await withServer(async (server) => {
    const client = server.client();
    await client.send(create("tab"));
    // Seven items of "id" + "k<i>" (4 bytes each) over three pages of three.
    await client.send(new BatchWriteItemCommand({ RequestItems: { tab: Array.from({ length: 7 }, (_, i) => ({ PutRequest: { Item: { id: { S: `k${i}` } } } })) } }));
    const describe = async () => (await client.send(new DescribeTableCommand({ TableName: "tab" }))).Table!;
    assert.deepEqual([(await describe()).ItemCount, (await describe()).TableSizeBytes], [0, 0]);
    await server.api.stats.drain();
    let table = await describe();
    assert.deepEqual([table.ItemCount, table.TableSizeBytes], [7, 28]);
    await client.send(new DeleteItemCommand({ TableName: "tab", Key: { id: { S: "k0" } } }));
    await client.send(new PutItemCommand({ TableName: "tab", Item: { id: { S: "k1" }, note: { S: "longer" } } }));
    await server.api.stats.drain();
    table = await describe();
    assert.deepEqual([table.ItemCount, table.TableSizeBytes], [7, 28], "fresh figures are kept (no recount before statsMaxAgeMs)");
    server.clock.advance(6 * hourMs);
    assert.equal((await describe()).ItemCount, 7, "stale figures are answered while the recount runs");
    await server.api.stats.drain();
    table = await describe();
    assert.deepEqual([table.ItemCount, table.TableSizeBytes], [6, 24 + 4 + 6]);
  });
});

test("expired items are not counted; a failed page abandons the pass and the next DescribeTable retries", async () => {
  await withServer(async (server) => {
    const client = server.client();
    await client.send(create("ttl"));
    await client.send(new UpdateTimeToLiveCommand({ TableName: "ttl", TimeToLiveSpecification: { AttributeName: "exp", Enabled: true } }));
    const nowSeconds = Math.floor(server.clock.nowMs() / 1000);
    await client.send(new PutItemCommand({ TableName: "ttl", Item: { id: { S: "old" }, exp: { N: String(nowSeconds - 10) } } }));
    await client.send(new PutItemCommand({ TableName: "ttl", Item: { id: { S: "new" }, exp: { N: String(nowSeconds + 3600) } } }));
    server.items.failWith("list", { code: "Unavailable", message: "no member answered" });
    await client.send(new DescribeTableCommand({ TableName: "ttl" }));
    await server.api.stats.drain();
    assert.equal(server.api.stats.peek((await server.api.context.tables.get("ttl"))!.definition.id), undefined, "the failed pass left no figures");
    await client.send(new DescribeTableCommand({ TableName: "ttl" }));
    await server.api.stats.drain();
    const table = (await client.send(new DescribeTableCommand({ TableName: "ttl" }))).Table!;
    assert.equal(table.ItemCount, 1);
  });
});

test("a dropped table's figures are forgotten", async () => {
  await withServer(async (server) => {
    const client = server.client();
    await client.send(create("gone"));
    await client.send(new PutItemCommand({ TableName: "gone", Item: { id: { S: "a" } } }));
    await client.send(new DescribeTableCommand({ TableName: "gone" }));
    await server.api.stats.drain();
    const id = server.api.context.tables.get("gone")!.definition.id;
    assert.equal(server.api.stats.peek(id)?.itemCount, 1);
    await client.send(new DeleteTableCommand({ TableName: "gone" }));
    await client.send(create("other"));
    await client.send(new DescribeTableCommand({ TableName: "other" }));
    await server.api.stats.drain();
    assert.equal(server.api.stats.peek(id), undefined);
  });
});
