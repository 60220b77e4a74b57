import { test } from "node:test";
import assert from "node:assert/strict";
import { dynamoAuthFromEnvironment } from "./dynamo-auth-config.js";

test("no credentials in the environment is local mode", () => {
  assert.deepEqual(dynamoAuthFromEnvironment({}), { ok: true, auth: { mode: "local" } });
});

test("both variables turn on SigV4 with that pair", () => {
  const result = dynamoAuthFromEnvironment({ SHOAL_DYNAMODB_ACCESS_KEY_ID: "AKID", SHOAL_DYNAMODB_SECRET_ACCESS_KEY: "secret" });
  assert.deepEqual(result, { ok: true, auth: { mode: "sigv4", credentials: [{ accessKeyId: "AKID", secretAccessKey: "secret" }] } });
});

test("only one of the two variables is a configuration error, not silently local", () => {
  const result = dynamoAuthFromEnvironment({ SHOAL_DYNAMODB_ACCESS_KEY_ID: "AKID" });
  assert.equal(result.ok, false);
  assert.match(result.ok ? "" : result.message, /set both SHOAL_DYNAMODB_ACCESS_KEY_ID and SHOAL_DYNAMODB_SECRET_ACCESS_KEY/);
});
