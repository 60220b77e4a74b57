import { test } from "node:test";
import assert from "node:assert/strict";
import { testContext } from "../testing/test-context.js";
import { createTable } from "./create-table.js";
import { describeTable } from "./describe-table.js";
import { updateTable } from "./update-table.js";

const spec = {
  TableName: "spreading",
  KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
  AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
  BillingMode: "PAY_PER_REQUEST",
};

test("a create the catalog kept but peers did not acknowledge is CREATING, and the table exists", async () => {
  const context = testContext();
  context.catalog.unacknowledgedChanges = 1;
  const created = await createTable(context, spec);
  assert.equal((created.TableDescription as { TableStatus: string }).TableStatus, "CREATING");
  const described = await describeTable(context, { TableName: "spreading" });
  assert.equal((described.Table as { TableStatus: string }).TableStatus, "ACTIVE");
});

test("an update the peers did not acknowledge is UPDATING and already applied here", async () => {
  const context = testContext();
  await createTable(context, spec);
  context.catalog.unacknowledgedChanges = 1;
  const updated = await updateTable(context, { TableName: "spreading", BillingMode: "PROVISIONED", ProvisionedThroughput: { ReadCapacityUnits: 3, WriteCapacityUnits: 4 } });
  assert.equal((updated.TableDescription as { TableStatus: string }).TableStatus, "UPDATING");
  assert.equal(context.tables.get("spreading")?.metadata.throughput.readCapacityUnits, 3);
});

test("the DynamoDB metadata lives in the catalog definition's extensions", async () => {
  const context = testContext();
  await createTable(context, spec);
  const definition = context.catalog.get("spreading")!;
  assert.equal(definition.consistency, "strong");
  assert.deepEqual((definition.extensions?.dynamodb as { keySchema: unknown }).keySchema, { partitionKey: { name: "id", type: "S" } });
});
