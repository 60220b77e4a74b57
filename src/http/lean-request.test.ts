import { test } from "node:test";
import assert from "node:assert/strict";
import { LeanRequest, requestHeader } from "./lean-request.js";
import type { RequestHead } from "./request-parser.js";

function requestWith(pairs: readonly [string, string][]): LeanRequest {
  const head: RequestHead = {
    method: "POST",
    url: "/",
    versionMinor: 1,
    rawHeaders: pairs.flat(),
    names: pairs.map(([name]) => name.toLowerCase()),
    keepAlive: true,
    expectContinue: false,
    contentLength: 0,
  };
  return new LeanRequest(head, { bodyHeld: () => undefined });
}

test("header(name) answers what headers[name] holds, repeats included, without building the object", () => {
  const pairs: [string, string][] = [
    ["Host", "h"],
    ["Content-Type", "application/x-amz-json-1.0"],
    ["content-type", "text/plain"],
    ["X-Amz-Target", "DynamoDB_20120810.GetItem"],
    ["x-amz-target", "DynamoDB_20120810.PutItem"],
    ["Cookie", "a=1"],
    ["cookie", "b=2"],
    ["Content-Length", "12"],
  ];
  const names = ["host", "content-type", "x-amz-target", "cookie", "content-length", "expect", "authorization"];
  const scanned = requestWith(pairs);
  const answers = names.map((name) => scanned.header(name));
  // Read through the object on a second request with the same head, then through both paths on it.
  const built = requestWith(pairs);
  assert.deepEqual(answers, names.map((name) => built.headers[name]));
  assert.deepEqual(names.map((name) => built.header(name)), answers);
  assert.equal(scanned.header("content-type"), "application/x-amz-json-1.0");
  assert.equal(scanned.header("x-amz-target"), "DynamoDB_20120810.GetItem, DynamoDB_20120810.PutItem");
  assert.equal(scanned.header("cookie"), "a=1; b=2");
  assert.equal(scanned.header("expect"), undefined);
  assert.equal(requestHeader(scanned, "host"), "h");
  assert.equal(requestHeader({ headers: { "set-cookie": ["x", "y"], host: "h2" } }, "host"), "h2");
});
