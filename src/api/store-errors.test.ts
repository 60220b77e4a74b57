import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { fetch, type Response } from "undici";
import type { StoreFailureCode } from "../replica/store-result.js";
import { storeError } from "./api-context.js";
import { startFakeApi, type FakeApi } from "./fake-api-server.js";
import type { FakeOperation } from "./fake-item-operations.js";
import { createTable, itemUrl, json, postJson, put } from "./test-requests.js";

// replica/store-result.ts names the status of every failure; 503 and 504 differ in code too.
const expected: Record<StoreFailureCode, [number, string]> = {
  PreconditionFailed: [412, "PreconditionFailed"],
  ItemNotFound: [404, "ItemNotFound"],
  TableNotFound: [404, "TableNotFound"],
  BadRequest: [400, "BadRequest"],
  TooManySiblings: [409, "TooManySiblings"],
  Overloaded: [503, "Overloaded"],
  Unavailable: [503, "Unavailable"],
  Indeterminate: [504, "Indeterminate"],
};

test("storeError gives every failure code its status and a message naming the action", () => {
  for (const [code, [status, errorCode]] of Object.entries(expected) as Array<[StoreFailureCode, [number, string]]>) {
    const error = storeError({ code, message: "1 of 2 replies" }, "cannot write \"t/k\"");
    assert.equal(error.status, status, code);
    assert.equal(error.code, errorCode, code);
    assert.equal(error.message, 'cannot write "t/k": 1 of 2 replies');
  }
});

let api: FakeApi;
before(async () => {
  api = await startFakeApi();
  await createTable(api.url, "errs");
});
after(() => api.close());

test("each operation's failure reaches the client with its status, code and the coordinator's message", async () => {
  const url = itemUrl(api.url, "errs", "k");
  const requests: Array<[FakeOperation, () => Promise<Response>]> = [
    ["get", () => fetch(url)],
    ["put", () => put(url, "v")],
    ["delete", () => fetch(url, { method: "DELETE" })],
    ["list", () => fetch(`${api.url}/v1/tables/errs/items`)],
    ["batch", () => postJson(`${api.url}/v1/tables/errs/batch`, { get: ["k"] })],
  ];
  for (const [op, send] of requests) {
    for (const code of ["Unavailable", "Indeterminate", "TooManySiblings"] as const) {
      api.items.failNext(op, code, "got 1 of 2 required replies");
      const res = await send();
      assert.equal(res.status, expected[code][0], `${op} ${code}`);
      const body = await json(res);
      assert.equal(body.error.code, expected[code][1]);
      assert.match(body.error.message, /: got 1 of 2 required replies$/);
    }
  }
});
