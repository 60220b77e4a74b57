import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { startDynamoTestServer, type DynamoTestServer } from "../testing/dynamo-test-server.js";
import { rejectsWith } from "../testing/sdk-assertions.js";
import { parseAuthorization } from "./sigv4-verifier.js";

let server: DynamoTestServer;
const credentials = { accessKeyId: "AKIDSHOALTEST", secretAccessKey: "s3cr3t/with+chars" };
before(async () => {
  server = await startDynamoTestServer({ auth: { mode: "sigv4", credentials: [credentials, { accessKeyId: "AKIDOTHER", secretAccessKey: "other" }] } });
});
after(() => server.close());

test("a request signed with the configured secret passes", async () => {
  const answer = await server.client(credentials).send(new ListTablesCommand({}));
  assert.deepEqual(answer.TableNames, []);
  const other = await server.client({ accessKeyId: "AKIDOTHER", secretAccessKey: "other" }).send(new ListTablesCommand({}));
  assert.deepEqual(other.TableNames, []);
});

test("a wrong secret is InvalidSignatureException", async () => {
  await rejectsWith(server.client({ ...credentials, secretAccessKey: "wrong" }).send(new ListTablesCommand({})), "InvalidSignatureException", /The request signature we calculated does not match/);
});

test("an unknown access key id is UnrecognizedClientException", async () => {
  await rejectsWith(server.client({ accessKeyId: "AKIDNOBODY", secretAccessKey: "x" }).send(new ListTablesCommand({})), "UnrecognizedClientException", "The security token included in the request is invalid.");
});

test("a signature more than 15 minutes from the server's clock is refused, either way", async () => {
  await rejectsWith(server.client({ ...credentials, systemClockOffset: -16 * 60_000 }).send(new ListTablesCommand({})), "InvalidSignatureException", /^Signature expired: \d{8}T\d{6}Z is now earlier than/);
  await rejectsWith(server.client({ ...credentials, systemClockOffset: 16 * 60_000 }).send(new ListTablesCommand({})), "InvalidSignatureException", /^Signature not yet current/);
  const withinSkew = await server.client({ ...credentials, systemClockOffset: -14 * 60_000 }).send(new ListTablesCommand({}));
  assert.deepEqual(withinSkew.TableNames, []);
});

test("an unsigned request is MissingAuthenticationTokenException", async () => {
  const response = await fetch(server.url, { method: "POST", headers: { "content-type": "application/x-amz-json-1.0", "x-amz-target": "DynamoDB_20120810.ListTables" }, body: "{}" });
  assert.equal(response.status, 400);
  const body = (await response.json()) as Record<string, unknown>;
  assert.equal(body.__type, "com.amazonaws.dynamodb.v20120810#MissingAuthenticationTokenException");
});

test("a body changed after signing fails verification", async () => {
  const headers: Record<string, string> = {};
  const client = server.client(credentials);
  client.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { headers: Record<string, string>; body: string };
      Object.assign(headers, request.headers);
      request.body = JSON.stringify({ Limit: 1 });
      request.headers["content-length"] = String(Buffer.byteLength(request.body));
      return next(args);
    },
    { step: "finalizeRequest", priority: "low", name: "tamper" },
  );
  await rejectsWith(client.send(new ListTablesCommand({ Limit: 2 })), "InvalidSignatureException");
  assert.match(headers.authorization ?? "", /^AWS4-HMAC-SHA256 /);
});

test("local mode accepts any credentials", async () => {
  const local = await startDynamoTestServer();
  try {
    const answer = await local.client({ accessKeyId: "anything", secretAccessKey: "whatever" }).send(new ListTablesCommand({}));
    assert.deepEqual(answer.TableNames, []);
  } finally {
    await local.close();
  }
});

test("parseAuthorization reads the credential scope, signed headers and signature", () => {
  const parsed = parseAuthorization("AWS4-HMAC-SHA256 Credential=AKID/20261122/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc");
  assert.ok(typeof parsed !== "string");
  assert.equal(parsed.accessKeyId, "AKID");
  assert.equal(parsed.scope, "20261122/us-east-1/dynamodb/aws4_request");
  assert.deepEqual(parsed.signedHeaders, ["host", "x-amz-date"]);
  assert.equal(parsed.signature, "abc");
  assert.equal(typeof parseAuthorization("AWS4-HMAC-SHA256 Credential=AKID/x, SignedHeaders=host, Signature=abc"), "string");
  assert.equal(typeof parseAuthorization("Basic abc"), "string");
});
