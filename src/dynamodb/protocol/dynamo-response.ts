import type { HttpReply } from "../../api/shoal-response.js";
import { crc32 } from "node:zlib";
import type { DynamoException } from "./dynamo-exception.js";

/**
 * Writing DynamoDB responses as DynamoDB does: JSON in the request's content type
 * (application/x-amz-json-1.0 or 1.1), `x-amzn-RequestId`, and `x-amz-crc32`, the CRC32 of the
 * body bytes as an unsigned decimal (some SDKs verify it and retry on a mismatch).
 */
export interface DynamoResponseHeaders {
  requestId: string;
  contentType: string;
}

/**
 * An answer already serialised (an operation that spliced stored item JSON into its answer
 * instead of building objects for JSON.stringify); sent as it is.
 */
export class JsonText {
  constructor(readonly text: string) {}
}

/**
 * The body goes out as a string: node:http then writes the head and the body as one string in
 * one write, where a Buffer body takes a second chunk and the writev path. The CRC32 and the
 * length are of the string's UTF-8 bytes, as sent.
 */
export function sendDynamoJson(res: HttpReply, status: number, body: unknown, headers: DynamoResponseHeaders): void {
  const text = body instanceof JsonText ? body.text : JSON.stringify(body);
  res.writeHead(status, {
    "content-type": headers.contentType,
    "content-length": String(Buffer.byteLength(text, "utf8")),
    "x-amzn-requestid": headers.requestId,
    "x-amz-crc32": String(crc32(text)),
  });
  res.end(text, "utf8");
}

export function sendDynamoError(res: HttpReply, error: DynamoException, headers: DynamoResponseHeaders): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendDynamoJson(res, error.status, error.toBody(), headers);
}
