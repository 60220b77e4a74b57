import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import type { TableDefinition } from "../../catalog/table-definition.js";
import type { DynamoTable, KeySchema } from "../tables/dynamo-table.js";
import { readKey, readKeyGeneric } from "./table-key.js";

// readKey takes the common Key ({"pk": {"S": "..."}}) without the general parser; on every
// input it must answer exactly what the general path answers (the same key, or the same error).

function table(keySchema: KeySchema): DynamoTable {
  const definition = { name: "t", id: 7, replication: { n: 1, r: 1, w: 1 }, consistency: "strong", conflicts: "lww", createdAtMs: 0 } as unknown as TableDefinition;
  return { definition, metadata: { keySchema, billingMode: "PAY_PER_REQUEST", throughput: { readCapacityUnits: 0, writeCapacityUnits: 0 }, timeToLive: null } };
}

const tables = [
  table({ partitionKey: { name: "pk", type: "S" } }),
  table({ partitionKey: { name: "pk", type: "S" }, sortKey: { name: "sk", type: "S" } }),
  table({ partitionKey: { name: "pk", type: "S" }, sortKey: { name: "sk", type: "N" } }),
  table({ partitionKey: { name: "__proto__", type: "S" } }),
];

function outcome(read: () => unknown): unknown {
  try {
    return { ok: true, value: read() };
  } catch (error) {
    return { ok: false, type: (error as { type?: string }).type, message: (error as Error).message };
  }
}

const text = fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom("", "\ud800", "x".repeat(2049), "a\u0000b"));
const value = fc.oneof(
  text.map((S) => ({ S })),
  fc.constantFrom<unknown>({ N: "1" }, { S: "x", N: null }, { S: 1 }, { S: null }, {}, null, "x", [{ S: "x" }], { B: "AA==" }, { S: "x", B: "AA==" }),
);
const name = fc.constantFrom("pk", "sk", "other", "__proto__");
const keyJson = fc.array(fc.tuple(name, value), { maxLength: 3 }).map((entries) => {
  const json: Record<string, unknown> = {};
  for (const [key, member] of entries) Object.defineProperty(json, key, { value: member, enumerable: true, writable: true, configurable: true });
  return json;
});

test("law: the common Key path answers exactly what the general parser answers", () => {
  fc.assert(
    fc.property(fc.constantFrom(...tables), fc.oneof(keyJson, fc.constantFrom<unknown>(null, [], "pk", 3)), (schemaTable, json) => {
      assert.deepEqual(outcome(() => readKey(schemaTable, json)), outcome(() => readKeyGeneric(schemaTable, json)));
    }),
    { numRuns: 2000, seed: 11 },
  );
});

test("the common Key reads as before: attributes and key bytes", () => {
  const key = readKey(tables[1]!, JSON.parse('{"sk": {"S": "b"}, "pk": {"S": "a"}}'));
  assert.deepEqual(key.attributes, { pk: { S: "a" }, sk: { S: "b" } });
  assert.deepEqual([...key.parts.partitionKey], [0x61]);
  assert.deepEqual([...key.parts.sortKey!], [0x62]);
  assert.throws(() => readKey(tables[0]!, { pk: { S: "" } }), /cannot contain an empty string value/);
  assert.throws(() => readKey(tables[0]!, { pk: { S: "a" }, extra: { S: "b" } }), /does not match the schema/);
});
