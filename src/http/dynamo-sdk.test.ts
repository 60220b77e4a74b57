import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { DynamoDbApi } from "../dynamodb/dynamodb-api.js";
import { MemoryCatalog } from "../dynamodb/testing/memory-catalog.js";
import { MemoryItemOperations } from "../dynamodb/testing/memory-item-operations.js";
import { rejectsWith } from "../dynamodb/testing/sdk-assertions.js";
import type { TimerHandle, Timers } from "../runtime/runtime.js";
import { ShoalHttpServer } from "./http-server.js";

/**
 * The AWS SDK v3 with SigV4 against the DynamoDB front door on Shoal's own HTTP server (the
 * DynamoDB package's own tests use node:http): the signature covers the headers as this
 * server hands them over, and bodies of several socket reads arrive whole.
 */
const credentials = { accessKeyId: "AKIDSHOALHTTP", secretAccessKey: "s3cr3t/with+chars" };
let api: DynamoDbApi;
let server: ShoalHttpServer;
let url: string;
const clients: DynamoDBClient[] = [];

function client(secretAccessKey = credentials.secretAccessKey): DynamoDBClient {
  const made = new DynamoDBClient({ endpoint: url, region: "us-east-1", maxAttempts: 1, credentials: { ...credentials, secretAccessKey } });
  clients.push(made);
  return made;
}

// Node's timers convert to a number that clearTimeout takes back.
const timers: Timers = {
  setTimeout: (callback, delayMs): TimerHandle => ({ id: Number(setTimeout(callback, delayMs).unref()) }),
  clearTimeout: (handle) => clearTimeout(handle.id),
};

before(async () => {
  api = new DynamoDbApi({ catalog: new MemoryCatalog(() => Date.now()), items: new MemoryItemOperations(), clock: { nowMs: () => Date.now() }, timers, auth: { mode: "sigv4", credentials: [credentials] } });
  server = new ShoalHttpServer((req, res) => void api.handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  for (const made of clients) made.destroy();
  await api.stop();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

test("signed CreateTable, PutItem (a 300 KB item) and GetItem pass through Shoal's server", async () => {
  const db = client();
  await db.send(new CreateTableCommand({ TableName: "http_sdk", KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }], AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }], BillingMode: "PAY_PER_REQUEST" }));
  const big = "é".repeat(150_000);
  await db.send(new PutItemCommand({ TableName: "http_sdk", Item: { pk: { S: "k" }, v: { S: big } } }));
  const got = await db.send(new GetItemCommand({ TableName: "http_sdk", Key: { pk: { S: "k" } } }));
  assert.equal(got.Item?.v?.S, big);
});

test("a wrong secret is InvalidSignatureException through Shoal's server", async () => {
  await rejectsWith(client("wrong").send(new GetItemCommand({ TableName: "http_sdk", Key: { pk: { S: "k" } } })), "InvalidSignatureException", /signature we calculated does not match/);
});
