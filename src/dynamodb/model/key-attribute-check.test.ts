import { test } from "node:test";
import assert from "node:assert/strict";
import { checkKeyAttribute } from "./key-attribute-check.js";

function refusal(result: { ok: boolean; error?: { message: string } }): string {
  assert.equal(result.ok, false);
  return result.error!.message;
}

test("a key attribute of another type than declared is refused", () => {
  assert.equal(
    refusal(checkKeyAttribute({ name: "pk", type: "S", role: "partition" }, { N: "1" })),
    "One or more parameter values were invalid: Type mismatch for key pk expected: S actual: N",
  );
});

test("empty string and binary keys are refused", () => {
  assert.equal(
    refusal(checkKeyAttribute({ name: "pk", type: "S", role: "partition" }, { S: "" })),
    "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: pk",
  );
  assert.match(refusal(checkKeyAttribute({ name: "sk", type: "B", role: "sort" }, { B: new Uint8Array() })), /empty binary value. Key: sk$/);
});

test("partition keys up to 2048 bytes and sort keys up to 1024 bytes", () => {
  assert.ok(checkKeyAttribute({ name: "pk", type: "S", role: "partition" }, { S: "x".repeat(2048) }).ok);
  assert.match(refusal(checkKeyAttribute({ name: "pk", type: "S", role: "partition" }, { S: "x".repeat(2049) })), /Size of hashkey has exceeded the maximum size limit of2048 bytes/);
  assert.ok(checkKeyAttribute({ name: "sk", type: "S", role: "sort" }, { S: "é".repeat(512) }).ok);
  assert.match(refusal(checkKeyAttribute({ name: "sk", type: "S", role: "sort" }, { S: "é".repeat(513) })), /range keys has exceeded the size limit of 1024 bytes/);
});

test("a valid key attribute answers its key bytes", () => {
  const result = checkKeyAttribute({ name: "pk", type: "N", role: "partition" }, { N: "0" });
  assert.ok(result.ok);
  assert.deepEqual([...result.value], [0x02]);
});
