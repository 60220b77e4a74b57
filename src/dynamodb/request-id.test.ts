import assert from "node:assert/strict";
import { test } from "node:test";
import { newRequestId, requestIdLength } from "./dynamodb-api.js";

test("request ids are 52 characters of A-Z and 0-9, distinct across refills of the random pool", () => {
  const ids = Array.from({ length: 1000 }, () => newRequestId());
  for (const id of ids) assert.match(id, new RegExp(`^[A-Z0-9]{${requestIdLength}}$`));
  assert.equal(new Set(ids).size, ids.length);
});
