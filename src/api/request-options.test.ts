import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { fetch } from "undici";
import { ShoalError } from "../errors.js";
import { startFakeApi, type FakeApi } from "./fake-api-server.js";
import { contextFromHeaders, readOptionsFromRequest, writeOptionsFromRequest } from "./request-options.js";
import { createTable, errorCode, itemUrl, json, put } from "./test-requests.js";

test("read options: r, pr and consistency from the query; other parameters are ignored", () => {
  assert.deepEqual(readOptionsFromRequest(""), { quorum: {} });
  assert.deepEqual(readOptionsFromRequest("r=2&pr=1&consistency=eventual&w=3&x=y"), { quorum: { r: 2, pr: 1 }, consistency: "eventual" });
  assert.deepEqual(readOptionsFromRequest("consistency=strong&r=0"), { quorum: { r: 0 }, consistency: "strong" });
});

test("write options: w, dw, pw, the context header and the conditions", () => {
  assert.deepEqual(writeOptionsFromRequest({}, ""), { quorum: {}, condition: {} });
  const options = writeOptionsFromRequest({ "x-shoal-context": " c.7 ", "if-match": '"v1"' }, "w=3&dw=2&pw=1&r=9&ttl=5");
  assert.deepEqual(options, { quorum: { w: 3, dw: 2, pw: 1 }, condition: { ifMatch: ["v1"] }, context: "c.7" });
  assert.equal(contextFromHeaders({ "x-shoal-context": "" }), undefined, "an empty context is a blind write");
});

test("junk quorum values, an unknown consistency and a repeated parameter are InvalidArgument naming parameter and value", () => {
  const cases: Array<[() => unknown, RegExp]> = [
    [() => readOptionsFromRequest("r=two"), /parameter r must be a whole number, got "two"/],
    [() => readOptionsFromRequest("pr=-1"), /parameter pr .* got "-1"/],
    [() => readOptionsFromRequest("r=1.5"), /parameter r .* got "1.5"/],
    [() => readOptionsFromRequest("r="), /parameter r .* got ""/],
    [() => readOptionsFromRequest("r=1234567890"), /parameter r .* got "1234567890"/],
    [() => readOptionsFromRequest("consistency=linearizable"), /parameter consistency must be "strong" or "eventual", got "linearizable"/],
    [() => readOptionsFromRequest("r=1&r=2"), /parameter r is given 2 times/],
    [() => writeOptionsFromRequest({}, "w=%20"), /parameter w .* got " "/],
    [() => writeOptionsFromRequest({}, "dw=x"), /parameter dw .* got "x"/],
    [() => writeOptionsFromRequest({}, "pw=1e2"), /parameter pw .* got "1e2"/],
  ];
  for (const [parse, message] of cases) {
    assert.throws(parse, (error) => error instanceof ShoalError && error.status === 400 && error.code === "InvalidArgument" && message.test(error.message), String(message));
  }
  assert.throws(
    () => contextFromHeaders({ "x-shoal-context": "has space" }),
    (error) => error instanceof ShoalError && error.code === "InvalidContext",
  );
});

let api: FakeApi;
before(async () => {
  api = await startFakeApi();
  await createTable(api.url, "opts");
  await createTable(api.url, "strongopts", { consistency: "strong" });
});
after(() => api.close());

test("a GET passes r, pr and consistency to the coordinator; junk is 400 before it is asked", async () => {
  const url = itemUrl(api.url, "opts", "k");
  await put(url, "v");
  assert.equal((await fetch(`${url}?r=3&pr=2&consistency=eventual`)).status, 200);
  assert.deepEqual(api.items.calls.at(-1)?.read, { quorum: { r: 3, pr: 2 }, consistency: "eventual" });
  const calls = api.items.calls.length;
  const junk = await fetch(`${url}?r=abc`);
  assert.equal(junk.status, 400);
  assert.deepEqual(await json(junk), { error: { code: "InvalidArgument", message: 'query parameter r must be a whole number, got "abc"' } });
  assert.equal(api.items.calls.length, calls, "the coordinator was not asked");
});

test("a PUT and a DELETE pass w, dw, pw, the context and the conditions", async () => {
  const url = itemUrl(api.url, "opts", "w");
  const created = await put(`${url}?w=3&dw=1&pw=2`, "v", { "if-none-match": "*" });
  assert.equal(created.status, 201);
  assert.deepEqual(api.items.calls.at(-1)?.write, { quorum: { w: 3, dw: 1, pw: 2 }, condition: { ifNoneMatch: "*" } });
  const context = created.headers.get("x-shoal-context")!;
  const etag = created.headers.get("etag")!;
  assert.equal((await fetch(`${url}?w=1`, { method: "DELETE", headers: { "x-shoal-context": context, "if-match": etag } })).status, 204);
  assert.deepEqual(api.items.calls.at(-1)?.write, { quorum: { w: 1 }, condition: { ifMatch: [etag.slice(1, -1)] }, context });
  const junk = await put(`${url}?dw=lots`, "v");
  assert.equal(junk.status, 400);
  assert.equal(await errorCode(junk), "InvalidArgument");
});

test("a strong read on an eventual table is the coordinator's 400; an eventual read of a strong table carries X-Shoal-Stale-Max-Ms", async () => {
  await put(itemUrl(api.url, "opts", "s"), "v");
  const refused = await fetch(`${itemUrl(api.url, "opts", "s")}?consistency=strong`);
  assert.equal(refused.status, 400);
  assert.equal(await errorCode(refused), "BadRequest");
  const url = itemUrl(api.url, "strongopts", "s");
  await put(url, "v");
  api.items.staleMaxMs = 1500;
  const stale = await fetch(`${url}?consistency=eventual`);
  assert.equal(stale.status, 200);
  assert.equal(stale.headers.get("x-shoal-stale-max-ms"), "1500");
  const linearizable = await fetch(url);
  assert.equal(linearizable.headers.get("x-shoal-stale-max-ms"), null);
  api.items.staleMaxMs = undefined;
});
