import assert from "node:assert/strict";
import { CreateTableCommand, type CreateTableCommandOutput, type DynamoDBClient } from "@aws-sdk/client-dynamodb";

/** Asserts that an SDK call fails with DynamoDB's exception name, status 400 and (optionally) message. */
export async function rejectsWith(promise: Promise<unknown>, name: string, message?: string | RegExp): Promise<void> {
  await assert.rejects(promise, (error: Error & { $metadata?: { httpStatusCode?: number } }) => {
    assert.equal(error.name, name, error.message);
    assert.equal(error.$metadata?.httpStatusCode, 400);
    if (typeof message === "string") assert.equal(error.message, message);
    else if (message !== undefined) assert.match(error.message, message);
    return true;
  });
}

/** Creates the tests' "orders" table: hash key customer (S), range key placed (N), on demand. */
export function createOrders(client: DynamoDBClient): Promise<CreateTableCommandOutput> {
  return client.send(
    new CreateTableCommand({
      TableName: "orders",
      KeySchema: [
        { AttributeName: "customer", KeyType: "HASH" },
        { AttributeName: "placed", KeyType: "RANGE" },
      ],
      AttributeDefinitions: [
        { AttributeName: "customer", AttributeType: "S" },
        { AttributeName: "placed", AttributeType: "N" },
      ],
      BillingMode: "PAY_PER_REQUEST",
    }),
  );
}
