import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  ListTablesCommand,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  type DynamoDBClient,
} from "@aws-sdk/client-dynamodb";
import { startDynamoTestServer, type DynamoTestServer } from "../testing/dynamo-test-server.js";

let server: DynamoTestServer;
let client: DynamoDBClient;
before(async () => {
  server = await startDynamoTestServer();
  client = server.client();
});
after(() => server.close());

async function rejects(promise: Promise<unknown>, name: string, message?: string | RegExp): Promise<void> {
  await assert.rejects(promise, (error: Error & { $metadata?: { httpStatusCode?: number } }) => {
    assert.equal(error.name, name, error.message);
    assert.equal(error.$metadata?.httpStatusCode, 400);
    if (typeof message === "string") assert.equal(error.message, message);
    else if (message !== undefined) assert.match(error.message, message);
    return true;
  });
}

const hashOnly = (name: string) => ({
  TableName: name,
  KeySchema: [{ AttributeName: "id", KeyType: "HASH" as const }],
  AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" as const }],
  BillingMode: "PAY_PER_REQUEST" as const,
});

test("CreateTable with a hash and range key is described back, ACTIVE, with its throughput", async () => {
  const created = await client.send(
    new CreateTableCommand({
      TableName: "orders",
      KeySchema: [
        { AttributeName: "customer", KeyType: "HASH" },
        { AttributeName: "placedAt", KeyType: "RANGE" },
      ],
      AttributeDefinitions: [
        { AttributeName: "customer", AttributeType: "S" },
        { AttributeName: "placedAt", AttributeType: "N" },
      ],
      ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 7 },
    }),
  );
  assert.equal(created.TableDescription?.TableStatus, "ACTIVE");
  const described = await client.send(new DescribeTableCommand({ TableName: "orders" }));
  const table = described.Table!;
  assert.deepEqual(table.KeySchema, [
    { AttributeName: "customer", KeyType: "HASH" },
    { AttributeName: "placedAt", KeyType: "RANGE" },
  ]);
  assert.deepEqual(table.AttributeDefinitions, [
    { AttributeName: "customer", AttributeType: "S" },
    { AttributeName: "placedAt", AttributeType: "N" },
  ]);
  assert.equal(table.ProvisionedThroughput?.ReadCapacityUnits, 5);
  assert.equal(table.ProvisionedThroughput?.WriteCapacityUnits, 7);
  assert.ok(table.CreationDateTime instanceof Date);
  assert.match(table.TableArn ?? "", /:table\/orders$/);
});

test("CreateTable of an existing name is ResourceInUseException", async () => {
  await client.send(new CreateTableCommand(hashOnly("dup")));
  await rejects(client.send(new CreateTableCommand(hashOnly("dup"))), "ResourceInUseException", "Table already exists: dup");
});

test("CreateTable refuses key attributes missing from AttributeDefinitions, and extra definitions", async () => {
  await rejects(
    client.send(new CreateTableCommand({ ...hashOnly("t-missing"), AttributeDefinitions: [{ AttributeName: "other", AttributeType: "S" }] })),
    "ValidationException",
    "One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [id], AttributeDefinitions: [other]",
  );
  await rejects(
    client.send(new CreateTableCommand({ ...hashOnly("t-extra"), AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }, { AttributeName: "x", AttributeType: "N" }] })),
    "ValidationException",
    /Number of attributes in KeySchema does not exactly match/,
  );
});

test("CreateTable checks the request shape first and reports every violation together", async () => {
  await rejects(
    client.send(new CreateTableCommand({ TableName: "ab", KeySchema: undefined as never, AttributeDefinitions: [{ AttributeName: "id", AttributeType: "X" as never }] })),
    "ValidationException",
    "3 validation errors detected: Value 'X' at 'attributeDefinitions.1.member.attributeType' failed to satisfy constraint: Member must satisfy enum value set: [B, N, S]; " +
      "Value 'ab' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3; " +
      "Value null at 'keySchema' failed to satisfy constraint: Member must not be null",
  );
});

test("CreateTable refuses a RANGE key first and PROVISIONED without throughput", async () => {
  await rejects(
    client.send(new CreateTableCommand({ ...hashOnly("t-range"), KeySchema: [{ AttributeName: "id", KeyType: "RANGE" }] })),
    "ValidationException",
    "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
  );
  const { BillingMode: _mode, ...provisioned } = hashOnly("t-prov");
  await rejects(client.send(new CreateTableCommand(provisioned)), "ValidationException", /ReadCapacityUnits and WriteCapacityUnits must both be specified/);
  await rejects(
    client.send(new CreateTableCommand({ ...hashOnly("t-ppr"), ProvisionedThroughput: { ReadCapacityUnits: 1, WriteCapacityUnits: 1 } })),
    "ValidationException",
    /Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST/,
  );
});

test("ListTables pages with Limit, LastEvaluatedTableName and ExclusiveStartTableName", async () => {
  for (const name of ["page-a", "page-b", "page-c"]) await client.send(new CreateTableCommand(hashOnly(name)));
  const all = (await client.send(new ListTablesCommand({}))).TableNames!;
  assert.deepEqual([...all].sort(), all);
  const seen: string[] = [];
  let start: string | undefined;
  for (let pages = 0; pages < 20; pages++) {
    const page = await client.send(new ListTablesCommand({ Limit: 2, ...(start !== undefined ? { ExclusiveStartTableName: start } : {}) }));
    assert.ok(page.TableNames!.length <= 2);
    seen.push(...page.TableNames!);
    start = page.LastEvaluatedTableName;
    if (start === undefined) break;
  }
  assert.deepEqual(seen, all);
  await rejects(client.send(new ListTablesCommand({ Limit: 101 })), "ValidationException", /Member must have value less than or equal to 100/);
});

test("DeleteTable answers DELETING and the table is gone; a second delete is ResourceNotFoundException", async () => {
  await client.send(new CreateTableCommand(hashOnly("doomed")));
  const deleted = await client.send(new DeleteTableCommand({ TableName: "doomed" }));
  assert.equal(deleted.TableDescription?.TableStatus, "DELETING");
  await rejects(client.send(new DescribeTableCommand({ TableName: "doomed" })), "ResourceNotFoundException", "Requested resource not found: Table: doomed not found");
  await rejects(client.send(new DeleteTableCommand({ TableName: "doomed" })), "ResourceNotFoundException");
});

test("UpdateTable changes throughput and billing mode, and refuses an unchanged throughput", async () => {
  await client.send(new CreateTableCommand({ ...hashOnly("tpt"), BillingMode: "PROVISIONED", ProvisionedThroughput: { ReadCapacityUnits: 1, WriteCapacityUnits: 1 } }));
  const raised = await client.send(new UpdateTableCommand({ TableName: "tpt", ProvisionedThroughput: { ReadCapacityUnits: 10, WriteCapacityUnits: 2 } }));
  assert.equal(raised.TableDescription?.ProvisionedThroughput?.ReadCapacityUnits, 10);
  assert.ok(raised.TableDescription?.ProvisionedThroughput?.LastIncreaseDateTime instanceof Date);
  await rejects(
    client.send(new UpdateTableCommand({ TableName: "tpt", ProvisionedThroughput: { ReadCapacityUnits: 10, WriteCapacityUnits: 2 } })),
    "ValidationException",
    /The provisioned throughput for the table will not change/,
  );
  const onDemand = await client.send(new UpdateTableCommand({ TableName: "tpt", BillingMode: "PAY_PER_REQUEST" }));
  assert.equal(onDemand.TableDescription?.BillingModeSummary?.BillingMode, "PAY_PER_REQUEST");
  assert.equal(onDemand.TableDescription?.ProvisionedThroughput?.ReadCapacityUnits, 0);
  await rejects(client.send(new UpdateTableCommand({ TableName: "tpt" })), "ValidationException", /At least one of ProvisionedThroughput, BillingMode/);
  await rejects(client.send(new UpdateTableCommand({ TableName: "nope", BillingMode: "PAY_PER_REQUEST" })), "ResourceNotFoundException");
});

test("UpdateTimeToLive enables TTL once, DescribeTimeToLive reports it", async () => {
  await client.send(new CreateTableCommand(hashOnly("ttl-table")));
  assert.deepEqual((await client.send(new DescribeTimeToLiveCommand({ TableName: "ttl-table" }))).TimeToLiveDescription, { TimeToLiveStatus: "DISABLED" });
  const enabled = await client.send(new UpdateTimeToLiveCommand({ TableName: "ttl-table", TimeToLiveSpecification: { Enabled: true, AttributeName: "expires" } }));
  assert.deepEqual(enabled.TimeToLiveSpecification, { Enabled: true, AttributeName: "expires" });
  assert.deepEqual((await client.send(new DescribeTimeToLiveCommand({ TableName: "ttl-table" }))).TimeToLiveDescription, { TimeToLiveStatus: "ENABLED", AttributeName: "expires" });
  await rejects(client.send(new UpdateTimeToLiveCommand({ TableName: "ttl-table", TimeToLiveSpecification: { Enabled: true, AttributeName: "expires" } })), "ValidationException", "TimeToLive is already enabled");
});
