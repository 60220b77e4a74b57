import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { crc32 } from "node:zlib";
import { startDynamoTestServer, type DynamoTestServer } from "../testing/dynamo-test-server.js";

let server: DynamoTestServer;
before(async () => {
  server = await startDynamoTestServer({ limits: { requestBodyBytesMax: 16 * 1024 * 1024 } });
});
after(() => server.close());

async function post(target: string | undefined, body: string, contentType = "application/x-amz-json-1.0"): Promise<{ status: number; headers: Headers; text: string; json: Record<string, unknown> }> {
  const headers: Record<string, string> = { "content-type": contentType };
  if (target !== undefined) headers["x-amz-target"] = target;
  const response = await fetch(server.url, { method: "POST", headers, body });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: JSON.parse(text) as Record<string, unknown> };
}

test("an answer carries x-amzn-RequestId and the CRC32 of its body", async () => {
  const answer = await post("DynamoDB_20120810.ListTables", "{}");
  assert.equal(answer.status, 200);
  assert.match(answer.headers.get("x-amzn-requestid") ?? "", /^[A-Z0-9]{52}$/);
  assert.equal(answer.headers.get("x-amz-crc32"), String(crc32(Buffer.from(answer.text))));
  assert.equal(answer.headers.get("content-type"), "application/x-amz-json-1.0");
  assert.deepEqual(answer.json, { TableNames: [] });
});

test("an unknown operation is UnknownOperationException with status 400", async () => {
  const answer = await post("DynamoDB_20120810.TransactWriteItems", "{}");
  assert.equal(answer.status, 400);
  assert.equal(answer.json.__type, "com.amazonaws.dynamodb.v20120810#UnknownOperationException");
  const missing = await post(undefined, "{}");
  assert.equal(missing.json.__type, "com.amazonaws.dynamodb.v20120810#UnknownOperationException");
  assert.equal(missing.headers.get("x-amz-crc32"), String(crc32(Buffer.from(missing.text))));
});

test("malformed JSON and a non-object body are SerializationException", async () => {
  const malformed = await post("DynamoDB_20120810.ListTables", "{not json");
  assert.equal(malformed.status, 400);
  assert.equal(malformed.json.__type, "com.amazonaws.dynamodb.v20120810#SerializationException");
  const array = await post("DynamoDB_20120810.ListTables", "[]");
  assert.equal(array.json.__type, "com.amazonaws.dynamodb.v20120810#SerializationException");
});

test("a member of the wrong JSON type is SerializationException, a constraint violation ValidationException", async () => {
  const wrongType = await post("DynamoDB_20120810.DescribeTable", JSON.stringify({ TableName: 5 }));
  assert.equal(wrongType.json.__type, "com.amazonaws.dynamodb.v20120810#SerializationException");
  assert.equal(wrongType.json.message, "NUMBER_VALUE cannot be converted to String");
  const tooShort = await post("DynamoDB_20120810.DescribeTable", JSON.stringify({ TableName: "x" }));
  assert.equal(tooShort.json.__type, "com.amazonaws.dynamodb.v20120810#ValidationException");
  assert.equal(tooShort.json.message, "1 validation error detected: Value 'x' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3");
});

test("the 1.1 content type is accepted and answered in kind; other content types are refused", async () => {
  const answer = await post("DynamoDB_20120810.ListTables", "{}", "application/x-amz-json-1.1");
  assert.equal(answer.status, 200);
  assert.equal(answer.headers.get("content-type"), "application/x-amz-json-1.1");
  const plain = await post("DynamoDB_20120810.ListTables", "{}", "application/json");
  assert.equal(plain.status, 400);
  assert.equal(plain.json.__type, "com.amazonaws.dynamodb.v20120810#UnknownOperationException");
});

test("a body over the bound is refused with 413 before it is parsed", async () => {
  const small = await startDynamoTestServer({ limits: { requestBodyBytesMax: 400 * 1024 * 25, itemBytesMax: 1024, pageBytesMax: 1024 * 1024 } });
  try {
    const response = await fetch(small.url, {
      method: "POST",
      headers: { "content-type": "application/x-amz-json-1.0", "x-amz-target": "DynamoDB_20120810.ListTables" },
      body: "x".repeat(400 * 1024 * 25 + 1),
    });
    assert.equal(response.status, 413);
    const json = (await response.json()) as Record<string, unknown>;
    assert.equal(json.__type, "com.amazonaws.dynamodb.v20120810#RequestEntityTooLargeException");
  } finally {
    await small.close();
  }
});

test("requests beyond the in-flight bound are ServiceUnavailable 503 until one finishes", async () => {
  const bounded = await startDynamoTestServer({ limits: { requestsInFlightMax: 1 } });
  try {
    const headers = { "content-type": "application/x-amz-json-1.0", "x-amz-target": "DynamoDB_20120810.ListTables" };
    // The first request's body never finishes, so it stays in flight while the second arrives.
    const controller = new AbortController();
    const stream = new ReadableStream({ start: (c) => c.enqueue(new TextEncoder().encode("{")) });
    const stuck = fetch(bounded.url, { method: "POST", headers, body: stream, signal: controller.signal, duplex: "half" } as RequestInit).catch(() => undefined);
    let refused: Response | undefined;
    for (let attempt = 0; attempt < 200 && refused === undefined; attempt++) {
      const response = await fetch(bounded.url, { method: "POST", headers, body: "{}" });
      if (response.status === 503) refused = response;
      else await response.text();
    }
    assert.ok(refused !== undefined, "the second request was refused while the first was in flight");
    const body = (await refused.json()) as Record<string, unknown>;
    assert.equal(body.__type, "com.amazonaws.dynamodb.v20120810#ServiceUnavailable");
    controller.abort();
    await stuck;
  } finally {
    await bounded.close();
  }
});

test("an answer with non-ASCII text has the length and CRC32 of its UTF-8 bytes", async () => {
  const created = await post(
    "DynamoDB_20120810.CreateTable",
    JSON.stringify({ TableName: "utf8", KeySchema: [{ AttributeName: "id", KeyType: "HASH" }], AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }], BillingMode: "PAY_PER_REQUEST" }),
  );
  assert.equal(created.status, 200);
  const text = "é€😀 ascii \u0000 \"quoted\"";
  assert.equal((await post("DynamoDB_20120810.PutItem", JSON.stringify({ TableName: "utf8", Item: { id: { S: "ü" }, v: { S: text } } }))).status, 200);
  const read = await post("DynamoDB_20120810.GetItem", JSON.stringify({ TableName: "utf8", Key: { id: { S: "ü" } } }));
  assert.equal(read.status, 200);
  assert.deepEqual(read.json, { Item: { id: { S: "ü" }, v: { S: text } } });
  const bytes = Buffer.from(read.text, "utf8");
  assert.equal(read.headers.get("content-length"), String(bytes.length));
  assert.equal(read.headers.get("x-amz-crc32"), String(crc32(bytes)));
});

test("PutItem answers {} with its CRC32, and an item whose body held escapes or none reads back the same", async () => {
  const created = await post("DynamoDB_20120810.CreateTable", JSON.stringify({ TableName: "escapes", KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }], AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }], BillingMode: "PAY_PER_REQUEST" }));
  assert.equal(created.status, 200);
  const values = ["plain é 😀", 'a "quoted" \\ back\nslash', "\u0001\u001f"];
  for (const [i, v] of values.entries()) {
    // JSON.stringify escapes the second and third; the first is sent with no backslash at all.
    const body = JSON.stringify({ TableName: "escapes", Item: { pk: { S: `k${i}` }, v: { S: v }, n: { N: "01.50" } } });
    assert.equal(body.includes("\\"), i > 0);
    const put = await post("DynamoDB_20120810.PutItem", body);
    assert.equal(put.status, 200);
    assert.equal(put.text, "{}");
    assert.equal(put.headers.get("x-amz-crc32"), String(crc32(Buffer.from("{}"))));
    const read = await post("DynamoDB_20120810.GetItem", JSON.stringify({ TableName: "escapes", Key: { pk: { S: `k${i}` } } }));
    assert.deepEqual(read.json, { Item: { pk: { S: `k${i}` }, v: { S: v }, n: { N: "1.5" } } });
  }
  const withCapacity = await post("DynamoDB_20120810.PutItem", JSON.stringify({ TableName: "escapes", Item: { pk: { S: "c" } }, ReturnConsumedCapacity: "TOTAL" }));
  assert.deepEqual(withCapacity.json, { ConsumedCapacity: { TableName: "escapes", CapacityUnits: 1, WriteCapacityUnits: 1 } });
});
