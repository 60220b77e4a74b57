import { test } from "node:test";
import assert from "node:assert/strict";
import { headersFor, itemSize, kvKey, partitionCount, prepareRequests, queryItemsReturned, type DynamoRequestShape } from "./dynamodb-requests.js";

const shape: DynamoRequestShape = { kvTable: "bench_kv", queryTable: "bench_query", keyPrefix: "k", keyCount: 1000, itemBytes: 1024, itemsPerPartition: 8, seed: 1 };

interface Body {
  TableName: string;
  Item?: Record<string, { S: string }>;
  Key?: Record<string, { S: string }>;
  ConsistentRead?: boolean;
  KeyConditionExpression?: string;
  ExpressionAttributeValues?: Record<string, { S: string }>;
}

test("prepared PutItem bodies are DynamoDB JSON with items of exactly itemBytes, for every key width", () => {
  const prepared = prepareRequests(shape);
  for (const index of [0, 7, 999]) {
    const body = JSON.parse(prepared.putItem(index)) as Body;
    assert.equal(body.TableName, "bench_kv");
    assert.equal(body.Item!.pk!.S, kvKey(shape, index));
    assert.equal(itemSize(body.Item!), 1024);
    assert.equal(body.Item!.v!.S, prepared.kvPayload);
  }
  assert.equal(kvKey(shape, 7), "k007");
  const query = JSON.parse(prepared.putQueryItem(3, 5)) as Body;
  assert.equal(query.TableName, "bench_query");
  assert.deepEqual([query.Item!.pk!.S, query.Item!.sk!.S], ["kp003", "s5"]);
  assert.equal(itemSize(query.Item!), 1024);
});

test("GetItem says which read it asks for, and Query selects four sort keys of one partition", () => {
  const prepared = prepareRequests(shape);
  const eventual = JSON.parse(prepared.getItem(42, false)) as Body;
  const consistent = JSON.parse(prepared.getItem(42, true)) as Body;
  assert.deepEqual(eventual, { TableName: "bench_kv", Key: { pk: { S: "k042" } }, ConsistentRead: false });
  assert.equal(consistent.ConsistentRead, true);
  const query = JSON.parse(prepared.query(9)) as Body;
  assert.equal(query.KeyConditionExpression, "pk = :p AND sk BETWEEN :a AND :b");
  assert.deepEqual(query.ExpressionAttributeValues, { ":p": { S: "kp009" }, ":a": { S: "s2" }, ":b": { S: "s5" } });
  assert.equal(queryItemsReturned, 4);
  // A found item's answer carries its payload; an answer shorter than that found nothing.
  assert.equal(prepared.getItemBodyMin, prepared.kvPayload.length);
  assert.ok(prepared.queryBodyMin >= 4 * 1000);
});

test("headers name the operation and carry a well-formed (unsigned) SigV4 Authorization", () => {
  const headers = headersFor("Query");
  assert.equal(headers["x-amz-target"], "DynamoDB_20120810.Query");
  assert.equal(headers["content-type"], "application/x-amz-json-1.0");
  assert.match(headers.authorization!, /^AWS4-HMAC-SHA256 Credential=[^ ]+, SignedHeaders=[^ ]+, Signature=0{64}$/);
});

test("an item too small for its keys, or partitions outside what the query's sort keys need, are refused by name", () => {
  assert.throws(() => prepareRequests({ ...shape, itemBytes: 8 }), /items of 8 bytes leave no room for a payload/);
  assert.throws(() => prepareRequests({ ...shape, itemsPerPartition: 5 }), /itemsPerPartition must be from 6 to 10; got 5/);
  assert.throws(() => prepareRequests({ ...shape, itemsPerPartition: 11 }), /itemsPerPartition must be from 6 to 10; got 11/);
});

test("the query table holds about keyCount items: ceil(keyCount / itemsPerPartition) partitions, at least one", () => {
  assert.equal(partitionCount({ keyCount: 1000, itemsPerPartition: 8 }), 125);
  assert.equal(partitionCount({ keyCount: 1001, itemsPerPartition: 8 }), 126);
  assert.equal(partitionCount({ keyCount: 1, itemsPerPartition: 8 }), 1);
});
