import { test } from "node:test";
import assert from "node:assert/strict";
import { crc32 } from "node:zlib";
import type { HttpReply } from "../../api/shoal-response.js";
import { encodeItem, itemJsonBytes } from "../model/item-codec.js";
import { emptyAnswer, JsonText, sendDynamoJson } from "./dynamo-response.js";

/** A stand-in response that keeps what was written. */
function recorder(): HttpReply & { status: number; headers: Record<string, string>; body: Buffer | undefined } {
  return {
    statusCode: 200,
    headersSent: false,
    shouldKeepAlive: true,
    status: 0,
    headers: {},
    body: undefined,
    writeHead(status: number, headers?: Record<string, string>) {
      this.status = status;
      this.headers = headers ?? {};
      return this;
    },
    end(chunk?: string | Uint8Array) {
      this.body = chunk === undefined ? undefined : typeof chunk === "string" ? Buffer.from(chunk, "utf8") : Buffer.from(chunk);
      return this;
    },
    writeContinue() {},
    destroy() {},
  };
}

test("a spliced answer is sent as its UTF-8 bytes: stored item JSON copied in, length and CRC32 of the bytes", () => {
  const item = { pk: { S: "clé" }, v: { S: "😀 \"quoted\" and a\\backslash" } };
  const stored = encodeItem(item);
  const json = itemJsonBytes(stored);
  assert.deepEqual(JSON.parse(Buffer.from(json).toString("utf8")), item);
  const answer = new JsonText(['{"Item":', json, ',"ConsumedCapacity":{"TableName":"tàble","CapacityUnits":0.5}}']);
  const res = recorder();
  sendDynamoJson(res, 200, answer, { requestId: "R", contentType: "application/x-amz-json-1.0" });
  const expected = Buffer.from(`{"Item":${JSON.stringify(item)},"ConsumedCapacity":{"TableName":"tàble","CapacityUnits":0.5}}`, "utf8");
  assert.deepEqual(res.body, expected);
  assert.equal(answer.text, expected.toString("utf8"));
  assert.equal(res.headers["content-length"], String(expected.length));
  assert.equal(res.headers["x-amz-crc32"], String(crc32(expected)));
});

test("an answer built as an object is sent as JSON text with its UTF-8 length and CRC32", () => {
  const res = recorder();
  sendDynamoJson(res, 400, { __type: "com.amazonaws.dynamodb.v20120810#ValidationException", message: "naïve" }, { requestId: "R", contentType: "application/x-amz-json-1.1" });
  const expected = Buffer.from('{"__type":"com.amazonaws.dynamodb.v20120810#ValidationException","message":"naïve"}', "utf8");
  assert.equal(res.status, 400);
  assert.deepEqual(res.body, expected);
  assert.equal(res.headers["content-length"], String(expected.length));
  assert.equal(res.headers["x-amz-crc32"], String(crc32(expected)));
  assert.equal(res.headers["content-type"], "application/x-amz-json-1.1");
});

test("the constant empty answer is {} with its length and CRC32, each response with its own request id", () => {
  for (const requestId of ["A", "B"]) {
    const res = recorder();
    sendDynamoJson(res, 200, emptyAnswer, { requestId, contentType: "application/x-amz-json-1.0" });
    assert.deepEqual(res.body, Buffer.from("{}"));
    assert.equal(res.headers["content-length"], "2");
    assert.equal(res.headers["x-amz-crc32"], String(crc32(Buffer.from("{}"))));
    assert.equal(res.headers["x-amzn-requestid"], requestId);
  }
  assert.equal(emptyAnswer.text, "{}");
});
