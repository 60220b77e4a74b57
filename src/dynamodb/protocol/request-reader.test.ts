import { test } from "node:test";
import assert from "node:assert/strict";
import { DynamoException } from "./dynamo-exception.js";
import { RequestReader, jsonKind } from "./request-reader.js";

function failure(run: () => void): DynamoException {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof DynamoException);
    return error;
  }
  assert.fail("expected a DynamoException");
}

test("constraint violations are collected in reading order and reported together", () => {
  const reader = new RequestReader({ TableName: "ab", Limit: 0 });
  reader.string("TableName", { required: true, lengthMin: 3 });
  reader.integer("Limit", { min: 1 });
  reader.object("Key", { required: true });
  const error = failure(() => reader.finish());
  assert.equal(error.type, "ValidationException");
  assert.equal(
    error.message,
    "3 validation errors detected: Value 'ab' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3; " +
      "Value 0 at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1; " +
      "Value null at 'key' failed to satisfy constraint: Member must not be null",
  );
});

test("one violation is singular; none passes", () => {
  const reader = new RequestReader({ Select: "SOME" });
  reader.string("Select", { oneOf: ["ALL_ATTRIBUTES", "COUNT"] });
  assert.equal(failure(() => reader.finish()).message, "1 validation error detected: Value 'SOME' at 'select' failed to satisfy constraint: Member must satisfy enum value set: [ALL_ATTRIBUTES, COUNT]");
  const clean = new RequestReader({ TableName: "table" });
  clean.string("TableName", { required: true });
  clean.finish();
});

test("a member of the wrong JSON type is a SerializationException at once, before any collected violation", () => {
  const reader = new RequestReader({ TableName: "x", Limit: "10" });
  reader.string("TableName", { lengthMin: 3 });
  const error = failure(() => reader.integer("Limit"));
  assert.equal(error.type, "SerializationException");
  assert.equal(error.message, "STRING_VALUE cannot be converted to Integer");
  assert.equal(failure(() => new RequestReader({ ConsistentRead: "yes" }).boolean("ConsistentRead")).message, "STRING_VALUE cannot be converted to Boolean");
  assert.equal(failure(() => new RequestReader({ Key: [] }).object("Key")).type, "SerializationException");
});

test("jsonKind names values as DynamoDB's messages do", () => {
  assert.deepEqual([null, "s", 1, true, false, [], {}].map(jsonKind), ["VALUE_NULL", "STRING_VALUE", "NUMBER_VALUE", "TRUE_VALUE", "FALSE_VALUE", "START_ARRAY", "START_OBJECT"]);
});
