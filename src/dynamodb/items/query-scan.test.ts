import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { BatchWriteItemCommand, CreateTableCommand, QueryCommand, ScanCommand, type AttributeValue, type DynamoDBClient, type QueryCommandInput } from "@aws-sdk/client-dynamodb";
import { startDynamoTestServer, type DynamoTestServer } from "../testing/dynamo-test-server.js";
import { rejectsWith } from "../testing/sdk-assertions.js";

let server: DynamoTestServer;
let client: DynamoDBClient;
const sortKeys = [-20, -3.5, -1, 0, 0.25, 1, 2, 10, 11, 100, 1e5, 123456789];

before(async () => {
  server = await startDynamoTestServer({ limits: { fetchItemsMax: 3 } });
  client = server.client();
  await client.send(
    new CreateTableCommand({
      TableName: "series",
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
  await client.send(
    new CreateTableCommand({ TableName: "words", KeySchema: [{ AttributeName: "w", KeyType: "HASH" }], AttributeDefinitions: [{ AttributeName: "w", AttributeType: "S" }], BillingMode: "PAY_PER_REQUEST" }),
  );
  // Shuffled (fixed order) so key order comes from the store, not from insertion.
  const order = [5, 0, 9, 2, 11, 7, 1, 10, 3, 8, 4, 6];
  for (const pk of ["a", "b"]) {
    const requests = order.map((i) => ({ PutRequest: { Item: { pk: { S: pk }, sk: { N: String(sortKeys[i]) }, even: { BOOL: i % 2 === 0 }, label: { S: `item-${i}` } } } }));
    await client.send(new BatchWriteItemCommand({ RequestItems: { series: requests } }));
  }
  const words = ["apple", "apricot", "banana", "blueberry", "cherry", "date", "elder", "fig", "grape", "kiwi", "lemon", "lime", "mango", "melon"];
  for (let i = 0; i < words.length; i += 7) {
    await client.send(new BatchWriteItemCommand({ RequestItems: { words: words.slice(i, i + 7).map((w) => ({ PutRequest: { Item: { w: { S: w }, len: { N: String(w.length) } } } })) } }));
  }
});
after(() => server.close());

const sks = (items: Record<string, AttributeValue>[] | undefined) => (items ?? []).map((item) => Number(item.sk!.N));
const queryA = (input: Partial<QueryCommandInput>) =>
  client.send(new QueryCommand({ TableName: "series", KeyConditionExpression: "pk = :pk", ExpressionAttributeValues: { ":pk": { S: "a" } }, ...input, ...(input.ExpressionAttributeValues ? { ExpressionAttributeValues: { ":pk": { S: "a" }, ...input.ExpressionAttributeValues } } : {}) }));

test("Query returns one partition in numeric sort-key order, and reversed with ScanIndexForward false", async () => {
  const forward = await queryA({});
  assert.deepEqual(sks(forward.Items), sortKeys);
  assert.equal(forward.Count, sortKeys.length);
  assert.equal(forward.LastEvaluatedKey, undefined);
  const backward = await queryA({ ScanIndexForward: false });
  assert.deepEqual(sks(backward.Items), [...sortKeys].reverse());
});

test("Query's sort-key conditions select the right ranges", async () => {
  const cases: Array<[string, Record<string, AttributeValue>, number[]]> = [
    ["pk = :pk AND sk = :v", { ":v": { N: "10" } }, [10]],
    ["pk = :pk AND sk < :v", { ":v": { N: "0" } }, [-20, -3.5, -1]],
    ["pk = :pk AND sk <= :v", { ":v": { N: "0" } }, [-20, -3.5, -1, 0]],
    ["pk = :pk AND sk > :v", { ":v": { N: "100" } }, [1e5, 123456789]],
    ["pk = :pk AND sk >= :v", { ":v": { N: "100" } }, [100, 1e5, 123456789]],
    ["pk = :pk AND sk BETWEEN :lo AND :hi", { ":lo": { N: "-1" }, ":hi": { N: "2" } }, [-1, 0, 0.25, 1, 2]],
  ];
  for (const [expression, values, expected] of cases) {
    const result = await queryA({ KeyConditionExpression: expression, ExpressionAttributeValues: values });
    assert.deepEqual(sks(result.Items), expected, expression);
  }
  await rejectsWith(queryA({ KeyConditionExpression: "pk = :pk AND sk BETWEEN :hi AND :lo", ExpressionAttributeValues: { ":lo": { N: "1" }, ":hi": { N: "2" } } }), "ValidationException", /BETWEEN operator requires upper bound/);
  await rejectsWith(queryA({ KeyConditionExpression: "pk = :pk AND begins_with(sk, :p)", ExpressionAttributeValues: { ":p": { N: "1" } } }), "ValidationException", /begins_with, operand type: N/);
  await rejectsWith(queryA({ KeyConditionExpression: "pk = :pk AND sk = :v", ExpressionAttributeValues: { ":v": { S: "1" } } }), "ValidationException", /Condition parameter type does not match schema type/);
});

test("Query pages with Limit and ExclusiveStartKey, through store pages smaller than the Limit", async () => {
  const seen: number[] = [];
  let start: Record<string, AttributeValue> | undefined;
  for (let pages = 0; pages < 10; pages++) {
    const page = await queryA({ Limit: 5, ...(start !== undefined ? { ExclusiveStartKey: start } : {}) });
    assert.ok((page.Items ?? []).length <= 5);
    seen.push(...sks(page.Items));
    start = page.LastEvaluatedKey;
    if (start === undefined) break;
  }
  assert.deepEqual(seen, sortKeys);
});

test("FilterExpression narrows Count but not ScannedCount; Select COUNT returns no Items", async () => {
  const filtered = await queryA({ FilterExpression: "even = :t", ExpressionAttributeValues: { ":t": { BOOL: true } } });
  assert.equal(filtered.ScannedCount, sortKeys.length);
  assert.equal(filtered.Count, sortKeys.length / 2);
  assert.ok(filtered.Items!.every((item) => item.even!.BOOL === true));
  const limited = await queryA({ FilterExpression: "even = :t", ExpressionAttributeValues: { ":t": { BOOL: true } }, Limit: 4 });
  assert.equal(limited.ScannedCount, 4);
  assert.equal(limited.Count, 2);
  assert.ok(limited.LastEvaluatedKey !== undefined);
  const counted = await queryA({ Select: "COUNT" });
  assert.equal(counted.Items, undefined);
  assert.equal(counted.Count, sortKeys.length);
  const projected = await queryA({ ProjectionExpression: "label", Limit: 1 });
  assert.deepEqual(projected.Items, [{ label: { S: "item-0" } }]);
  await rejectsWith(queryA({ Select: "COUNT", ProjectionExpression: "label" }), "ValidationException", /only the Count/);
});

test("Query stops a page at 1 MB of data read and names where to resume", async () => {
  const big = await startDynamoTestServer();
  try {
    const c = big.client();
    await c.send(new CreateTableCommand({ TableName: "blobs", KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }, { AttributeName: "n", KeyType: "RANGE" }], AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }, { AttributeName: "n", AttributeType: "N" }], BillingMode: "PAY_PER_REQUEST" }));
    for (let i = 0; i < 8; i++) {
      await c.send(new BatchWriteItemCommand({ RequestItems: { blobs: [0, 1, 2].map((j) => ({ PutRequest: { Item: { pk: { S: "p" }, n: { N: String(i * 3 + j) }, blob: { S: "x".repeat(100 * 1024) } } } })) } }));
    }
    const first = await c.send(new QueryCommand({ TableName: "blobs", KeyConditionExpression: "pk = :p", ExpressionAttributeValues: { ":p": { S: "p" } }, ReturnConsumedCapacity: "TOTAL" }));
    assert.equal(first.Count, 11); // 10 items are just under 1 MB; the 11th crosses it and is included
    assert.deepEqual(first.LastEvaluatedKey, { pk: { S: "p" }, n: { N: "10" } });
    assert.equal(first.ConsumedCapacity?.CapacityUnits, Math.ceil((11 * (100 * 1024 + 5 + 2 + 1 + 2 + 1)) / 4096) / 2);
    const rest = await c.send(new QueryCommand({ TableName: "blobs", KeyConditionExpression: "pk = :p", ExpressionAttributeValues: { ":p": { S: "p" } }, ExclusiveStartKey: first.LastEvaluatedKey }));
    assert.equal(rest.Count, 11);
  } finally {
    await big.close();
  }
});

test("Query on a hash-only table finds the one item of its key", async () => {
  const result = await client.send(new QueryCommand({ TableName: "words", KeyConditionExpression: "w = :w", ExpressionAttributeValues: { ":w": { S: "fig" } } }));
  assert.deepEqual(result.Items, [{ w: { S: "fig" }, len: { N: "3" } }]);
});

test("Scan pages through every item exactly once", async () => {
  const seen: string[] = [];
  let start: Record<string, AttributeValue> | undefined;
  for (let pages = 0; pages < 30; pages++) {
    const page = await client.send(new ScanCommand({ TableName: "series", Limit: 5, ...(start !== undefined ? { ExclusiveStartKey: start } : {}) }));
    seen.push(...page.Items!.map((item) => `${item.pk!.S}/${item.sk!.N}`));
    start = page.LastEvaluatedKey;
    if (start === undefined) break;
  }
  assert.equal(seen.length, 2 * sortKeys.length);
  assert.equal(new Set(seen).size, seen.length);
});

test("parallel Scan segments cover every item exactly once", async () => {
  for (const total of [1, 2, 3, 7]) {
    const seen: string[] = [];
    for (let segment = 0; segment < total; segment++) {
      let start: Record<string, AttributeValue> | undefined;
      for (let pages = 0; pages < 30; pages++) {
        const page = await client.send(new ScanCommand({ TableName: "words", Segment: segment, TotalSegments: total, Limit: 4, ...(start !== undefined ? { ExclusiveStartKey: start } : {}) }));
        seen.push(...page.Items!.map((item) => item.w!.S!));
        start = page.LastEvaluatedKey;
        if (start === undefined) break;
      }
    }
    assert.equal(seen.length, 14, `TotalSegments ${total}`);
    assert.equal(new Set(seen).size, 14, `TotalSegments ${total}`);
  }
  await rejectsWith(client.send(new ScanCommand({ TableName: "words", Segment: 3, TotalSegments: 3 })), "ValidationException", /Segment: 3 is not less than TotalSegments: 3/);
  await rejectsWith(client.send(new ScanCommand({ TableName: "words", Segment: 0 })), "ValidationException", /TotalSegments parameter is required/);
});

test("Scan's filter and Select COUNT", async () => {
  const long = await client.send(new ScanCommand({ TableName: "words", FilterExpression: "len > :n", ExpressionAttributeValues: { ":n": { N: "5" } }, Select: "COUNT" }));
  assert.equal(long.Count, 4); // apricot, banana, blueberry, cherry
  assert.equal(long.ScannedCount, 14);
  assert.equal(long.Items, undefined);
});

test("ConsistentRead passes through to the store and costs full read units; without it half", async () => {
  const consistent = await client.send(new ScanCommand({ TableName: "words", ConsistentRead: true, ReturnConsumedCapacity: "TOTAL" }));
  assert.equal(server.items.lastConsistency.list, "strong");
  const units = consistent.ConsumedCapacity?.CapacityUnits;
  assert.ok(units !== undefined && units >= 1 && Number.isInteger(units));
  const eventual = await client.send(new ScanCommand({ TableName: "words", ReturnConsumedCapacity: "TOTAL" }));
  assert.equal(server.items.lastConsistency.list, "eventual");
  assert.equal(eventual.ConsumedCapacity?.CapacityUnits, units / 2);
  const queried = await client.send(new QueryCommand({ TableName: "series", KeyConditionExpression: "pk = :p", ExpressionAttributeValues: { ":p": { S: "a" } }, ConsistentRead: true, ReturnConsumedCapacity: "TOTAL" }));
  assert.equal(server.items.lastConsistency.query, "strong");
  assert.ok(Number.isInteger(queried.ConsumedCapacity?.CapacityUnits));
  await client.send(new QueryCommand({ TableName: "series", KeyConditionExpression: "pk = :p", ExpressionAttributeValues: { ":p": { S: "a" } } }));
  assert.equal(server.items.lastConsistency.query, "eventual");
});
