import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { Packr } from "msgpackr";
import { defaultLimits } from "../limits.js";
import { parseClientRequest } from "./parse-client-request.js";

const packr = new Packr({ useRecords: false });
const limits = { ...defaultLimits, keyBytesMax: 64, valueBytesMax: 256 };
const bytes = (text: string) => new TextEncoder().encode(text);

const keyPart = fc.uint8Array({ minLength: 1, maxLength: 64 });
const key = fc.record({ partitionKey: keyPart, sortKey: keyPart }, { requiredKeys: ["partitionKey"] });
const quorumNumber = fc.integer({ min: 0, max: 5 });
const condition = fc.record({ ifMatch: fc.oneof(fc.constant("*" as const), fc.array(fc.string({ minLength: 1, maxLength: 20 }), { maxLength: 3 })), ifNoneMatch: fc.constant("*" as const) }, { requiredKeys: [] });
const table = fc.string({ minLength: 1, maxLength: 20 });

const request = fc.oneof(
  fc.record({ type: fc.constant("client.get"), table, key, quorum: fc.record({ r: quorumNumber, pr: quorumNumber }), consistency: fc.constantFrom("eventual", "strong") }, { requiredKeys: ["type", "table", "key"] }),
  fc.record(
    {
      type: fc.constant("client.put"),
      table,
      key,
      value: fc.uint8Array({ maxLength: 256 }),
      contentType: fc.constantFrom("text/plain", "application/json"),
      metadata: fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9-]{0,9}$/), fc.stringMatching(/^[ -~]{0,20}$/), { maxKeys: 4 }),
      expiresAtMs: fc.oneof(fc.constant(null), fc.integer({ min: 1, max: 2 ** 50 })),
      quorum: fc.record({ w: quorumNumber, dw: quorumNumber, pw: quorumNumber }, { requiredKeys: [] }),
      context: fc.string({ minLength: 1, maxLength: 40 }),
      condition,
    },
    { requiredKeys: ["type", "table", "key", "value"] },
  ),
  fc.record({ type: fc.constant("client.delete"), table, key, context: fc.string({ minLength: 1, maxLength: 40 }), condition }, { requiredKeys: ["type", "table", "key"] }),
  fc.record({ type: fc.constant("client.list"), table, prefix: fc.uint8Array({ maxLength: 64 }), after: key, limit: fc.integer({ min: 1, max: defaultLimits.listPageItemsMax }) }, { requiredKeys: ["type", "table"] }),
);

/** Buffers and plain objects compare equal when they hold the same bytes and fields. */
function plain(value: unknown): unknown {
  if (value instanceof Uint8Array) return [...value];
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === "object" && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

test("every well-formed request survives MessagePack and parsing unchanged", () => {
  fc.assert(
    fc.property(request, (sent) => {
      const parsed = parseClientRequest(packr.unpack(packr.pack(sent)), limits);
      assert.ok(parsed.ok, parsed.ok ? "" : parsed.message);
      assert.deepEqual(plain(parsed.request), plain(sent));
    }),
    { numRuns: 200, seed: 42 },
  );
});

test("a key or value past its limit is refused with the numbers", () => {
  const longKey = parseClientRequest({ type: "client.get", table: "t", key: { partitionKey: new Uint8Array(65) } }, limits);
  assert.deepEqual(longKey, { ok: false, message: "partitionKey is 65 bytes; the limit is 64" });
  const longValue = parseClientRequest({ type: "client.put", table: "t", key: { partitionKey: bytes("k") }, value: new Uint8Array(257) }, limits);
  assert.deepEqual(longValue, { ok: false, message: "value is 257 bytes; the limit is 256" });
  const emptyKey = parseClientRequest({ type: "client.get", table: "t", key: { partitionKey: new Uint8Array(0) } }, limits);
  assert.equal(emptyKey.ok, false);
});

test("a key dense in NUL bytes is refused by its encoded length", () => {
  const nuls = parseClientRequest({ type: "client.get", table: "t", key: { partitionKey: new Uint8Array(1024) } }, defaultLimits);
  assert.ok(!nuls.ok);
  assert.match(nuls.message, /encodes to \d+ bytes/);
});

test("a quorum field that does not belong to the operation, or is not a whole number, is refused", () => {
  const k = { partitionKey: bytes("k") };
  assert.equal(parseClientRequest({ type: "client.get", table: "t", key: k, quorum: { w: 2 } }, limits).ok, false);
  assert.equal(parseClientRequest({ type: "client.put", table: "t", key: k, value: bytes("v"), quorum: { w: 1.5 } }, limits).ok, false);
  assert.equal(parseClientRequest({ type: "client.delete", table: "t", key: k, quorum: { dw: -1 } }, limits).ok, false);
});

test("metadata follows the REST edge's rules (lower-case names, bounded size)", () => {
  const k = { partitionKey: bytes("k") };
  assert.equal(parseClientRequest({ type: "client.put", table: "t", key: k, value: bytes("v"), metadata: { Owner: "ana" } }, limits).ok, false);
  const many = Object.fromEntries(Array.from({ length: defaultLimits.metadataEntriesMax + 1 }, (_, i) => [`m${i}`, "x"]));
  const refused = parseClientRequest({ type: "client.put", table: "t", key: k, value: bytes("v"), metadata: many }, limits);
  assert.ok(!refused.ok);
  assert.match(refused.message, new RegExp(`the limit is ${defaultLimits.metadataEntriesMax}`));
});

test("an empty context is the same as none (a read of a missing item answers one)", () => {
  const parsed = parseClientRequest({ type: "client.put", table: "t", key: { partitionKey: bytes("k") }, value: bytes("v"), context: "" }, limits);
  assert.ok(parsed.ok);
  assert.equal("context" in parsed.request, false);
});
