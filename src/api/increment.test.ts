import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { fetch } from "undici";
import { startFakeApi, type FakeApi } from "./fake-api-server.js";
import { incrementChange, parseBy } from "./increment-handler.js";
import { createTable, errorCode, itemUrl, json, put } from "./test-requests.js";
import type { ItemVersion } from "../coordinator/item-operations.js";

let api: FakeApi;
before(async () => {
  api = await startFakeApi();
  await createTable(api.url, "counters", { consistency: "strong" });
  await createTable(api.url, "loose");
});
after(() => api.close());

const increment = (table: string, key: string, query = "", headers: Record<string, string> = {}) =>
  fetch(`${itemUrl(api.url, table, key)}/increment${query}`, { method: "POST", headers });

test("an absent item becomes N, a present one grows by N, with the ETag of the new version", async () => {
  const first = await increment("counters", "visits", "?by=5");
  assert.equal(first.status, 200);
  assert.deepEqual(await json(first), { value: 5 });
  const second = await increment("counters", "visits");
  assert.deepEqual(await json(second), { value: 6 });
  const third = await increment("counters", "visits", "?by=-10");
  assert.deepEqual(await json(third), { value: -4 });
  const got = await fetch(itemUrl(api.url, "counters", "visits"));
  assert.equal(await got.text(), "-4");
  assert.equal(got.headers.get("etag"), third.headers.get("etag"));
  assert.match(got.headers.get("content-type") ?? "", /^text\/plain/);
});

test("a stored value keeps its content type and metadata through an increment", async () => {
  await put(itemUrl(api.url, "counters", "typed"), "41", { "content-type": "application/json", "x-shoal-meta-owner": "ana" });
  assert.deepEqual(await json(await increment("counters", "typed")), { value: 42 });
  const got = await fetch(itemUrl(api.url, "counters", "typed"));
  assert.equal(got.headers.get("content-type"), "application/json");
  assert.equal(got.headers.get("x-shoal-meta-owner"), "ana");
});

test("a value that is not a decimal integer is 409 NotAnInteger and stays as it was", async () => {
  for (const value of ["abc", "1.5", " 1", "1e3", "", "99999999999999999"]) {
    const url = itemUrl(api.url, "counters", "text");
    await put(url, value);
    const res = await increment("counters", "text");
    assert.equal(res.status, 409, JSON.stringify(value));
    assert.equal(await errorCode(res), "NotAnInteger");
    assert.equal(await (await fetch(url)).text(), value);
  }
});

test("a sum beyond the safe integers is 409 IncrementOverflow", async () => {
  await put(itemUrl(api.url, "counters", "big"), String(Number.MAX_SAFE_INTEGER));
  const res = await increment("counters", "big");
  assert.equal(res.status, 409);
  assert.equal(await errorCode(res), "IncrementOverflow");
});

test("a by that is not a safe integer is 400 InvalidArgument, before the coordinator is asked", async () => {
  const calls = api.items.calls.length;
  for (const by of ["x", "1.5", "9007199254740993", "", "1&by=2"]) {
    const res = await increment("counters", "visits", `?by=${by}`);
    assert.equal(res.status, 400, by);
    assert.equal(await errorCode(res), "InvalidArgument");
  }
  assert.equal(api.items.calls.length, calls);
});

test("on an eventual table the coordinator's refusal is 400 BadRequest", async () => {
  const res = await increment("loose", "n");
  assert.equal(res.status, 400);
  assert.equal(await errorCode(res), "BadRequest");
  assert.equal((await fetch(itemUrl(api.url, "loose", "n"))).status, 404, "nothing was written");
});

test("If-Match and If-None-Match are checked inside the change", async () => {
  const created = await increment("counters", "cond", "", { "if-none-match": "*" });
  assert.equal(created.status, 200);
  const etag = created.headers.get("etag")!;
  const again = await increment("counters", "cond", "", { "if-none-match": "*" });
  assert.equal(again.status, 412);
  assert.equal((await increment("counters", "cond", "", { "if-match": etag })).status, 200);
  const stale = await increment("counters", "cond", "", { "if-match": etag });
  assert.equal(stale.status, 412);
  assert.equal(await errorCode(stale), "PreconditionFailed");
});

test("increment takes POST only and names it in Allow", async () => {
  const res = await fetch(`${itemUrl(api.url, "counters", "visits")}/increment`);
  assert.equal(res.status, 405);
  assert.equal(res.headers.get("allow"), "POST");
  assert.equal(await errorCode(res), "MethodNotAllowed");
});

test("the change is a pure function of the current version: it can run again after a lost race", () => {
  const version = (value: string): ItemVersion => ({ value: Buffer.from(value), contentType: "text/plain", metadata: {}, version: "v", timestamp: 0, expiresAtMs: null });
  const change = incrementChange(2, {});
  assert.equal(change.run(version("x")).type, "abort");
  assert.equal(change.refusal, "NotAnInteger");
  const decision = change.run(version("7"));
  assert.equal(change.refusal, undefined, "a later run that succeeds clears the refusal");
  assert.ok(decision.type === "put");
  assert.equal(Buffer.from(decision.write.value).toString(), "9");
  assert.equal(parseBy(""), 1);
  assert.equal(parseBy("by=-3"), -3);
});
