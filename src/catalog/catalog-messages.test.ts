import { test } from "node:test";
import assert from "node:assert/strict";
import { pack, unpack } from "msgpackr";
import { digestBucketCount } from "./catalog-digest.js";
import { parseCatalogMessage, parseRecordsReply, type CatalogMessageBounds } from "./catalog-messages.js";
import type { NameRecord, TableIncarnation } from "./catalog-record.js";

// What a node accepts from the wire: every field typed and bounded, before anything is merged.

const bounds: CatalogMessageBounds = { nameLengthMax: 255, incarnationsMax: 4, extensionsBytesMax: 64, recordsPerMessageMax: 2 };
const created = { at: 1_000 * 1024, by: "n1" };
const incarnation: TableIncarnation = {
  id: 42,
  created,
  createdAtMs: 1_000,
  consistency: "eventual",
  conflicts: "siblings",
  settings: { stamp: created, replication: { n: 3, r: 2, w: 2 }, extensions: { keySchema: ["pk"] } },
  dead: false,
};
const record: NameRecord = { name: "cart", dropFloor: null, incarnations: [incarnation] };

function mergeOf(records: unknown[]): unknown {
  return unpack(pack({ type: "catalog.merge", records }));
}

test("a merge message survives the wire and parses to the same records", () => {
  assert.deepEqual(parseCatalogMessage(mergeOf([record]), bounds), { type: "catalog.merge", records: [record] });
});

test("records with a wrong or unbounded field are refused", () => {
  const broken: unknown[] = [
    { ...record, name: "" },
    { ...record, name: "x".repeat(256) },
    { ...record, dropFloor: { at: -1, by: "n1" } },
    { ...record, incarnations: [{ ...incarnation, id: 0 }] },
    { ...record, incarnations: [{ ...incarnation, id: 2 ** 32 }] },
    { ...record, incarnations: [{ ...incarnation, consistency: "linearizable" }] },
    { ...record, incarnations: [{ ...incarnation, settings: { ...incarnation.settings, replication: { n: 0, r: 1, w: 1 } } }] },
    { ...record, incarnations: [{ ...incarnation, settings: { ...incarnation.settings, extensions: { blob: "x".repeat(100) } } }] },
    { ...record, incarnations: [incarnation, incarnation] },
    { ...record, incarnations: Array.from({ length: 5 }, (_, i) => ({ ...incarnation, id: i + 1 })) },
  ];
  for (const bad of broken) assert.equal(parseCatalogMessage(mergeOf([bad]), bounds), undefined, JSON.stringify(bad).slice(0, 120));
  assert.equal(parseCatalogMessage(mergeOf([record, record, record]), bounds), undefined, "more records than one message may carry");
});

test("a digest needs exactly one u32 per bucket; a records reply only valid bucket indices", () => {
  const buckets = new Array<number>(digestBucketCount).fill(7);
  assert.deepEqual(parseCatalogMessage({ type: "catalog.digest", buckets }, bounds), { type: "catalog.digest", buckets });
  assert.equal(parseCatalogMessage({ type: "catalog.digest", buckets: buckets.slice(1) }, bounds), undefined);
  assert.equal(parseCatalogMessage({ type: "catalog.digest", buckets: [...buckets.slice(1), -1] }, bounds), undefined);
  assert.ok(parseRecordsReply({ type: "catalog.records", differing: [0, digestBucketCount - 1], records: [] }, bounds));
  assert.equal(parseRecordsReply({ type: "catalog.records", differing: [digestBucketCount], records: [] }, bounds), undefined);
  assert.equal(parseCatalogMessage({ type: "catalog.unknown" }, bounds), undefined);
});
