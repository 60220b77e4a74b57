import { test } from "node:test";
import assert from "node:assert/strict";
import { deriveTableId, freshTableId, tableIdAttemptsMax } from "./table-id.js";

const created = { at: 1_700_000_000_000 * 1024, by: "n1" };

test("a table id is a pure function of the create's stamp and the attempt, a non-zero u32", () => {
  assert.equal(deriveTableId(created, 0), deriveTableId({ ...created }, 0));
  assert.notEqual(deriveTableId(created, 0), deriveTableId({ ...created, by: "n2" }, 0));
  assert.notEqual(deriveTableId(created, 0), deriveTableId({ ...created, at: created.at + 1 }, 0));
  for (let attempt = 0; attempt < 100; attempt++) {
    const id = deriveTableId(created, attempt);
    assert.ok(Number.isInteger(id) && id > 0 && id <= 0xffffffff);
  }
});

test("freshTableId skips every id already seen", () => {
  const taken = new Set([deriveTableId(created, 0), deriveTableId(created, 1)]);
  assert.equal(freshTableId(created, (id) => taken.has(id)), deriveTableId(created, 2));
  assert.equal(freshTableId(created, () => true), undefined, `gives up after ${tableIdAttemptsMax} attempts`);
});
