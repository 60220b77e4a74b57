import type { ServerResponse } from "node:http";
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

export function sendDynamoJson(res: ServerResponse, status: number, body: unknown, headers: DynamoResponseHeaders): void {
  const bytes = Buffer.from(JSON.stringify(body), "utf8");
  res.writeHead(status, {
    "content-type": headers.contentType,
    "content-length": String(bytes.length),
    "x-amzn-requestid": headers.requestId,
    "x-amz-crc32": String(crc32(bytes)),
  });
  res.end(bytes);
}

export function sendDynamoError(res: ServerResponse, error: DynamoException, headers: DynamoResponseHeaders): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendDynamoJson(res, error.status, error.toBody(), headers);
}
