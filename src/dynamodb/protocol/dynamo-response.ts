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
 * instead of building objects for JSON.stringify); sent as it is. `parts` are JSON text in
 * order: strings, and UTF-8 bytes (stored item JSON, spliced without decoding it to a string).
 */
export class JsonText {
  readonly parts: readonly (string | Uint8Array)[];
  /** What is sent, with its length and CRC32 as the headers carry them (wire()). */
  private sent: Wire | undefined;
  constructor(parts: string | readonly (string | Uint8Array)[]) {
    this.parts = typeof parts === "string" ? [parts] : parts;
  }

  /**
   * The answer as sent (one ASCII string stays a string: it then joins the response head as
   * one string, as a JSON.stringify answer does; anything else is its UTF-8 bytes), its length
   * and CRC32 (decimal strings), worked out on the first call and kept: a constant answer
   * (`emptyAnswer`) costs its encoding and CRC once per process. The parts are not to change
   * after that (they are readonly; stored bytes are not written).
   */
  wire(): Wire {
    if (this.sent !== undefined) return this.sent;
    const only = this.parts.length === 1 ? this.parts[0] : undefined;
    if (typeof only === "string" && Buffer.byteLength(only, "utf8") === only.length) {
      this.sent = { body: only, length: String(only.length), crc32: String(crc32(only)) };
    } else {
      const bytes = this.bytes();
      this.sent = { body: bytes, length: String(bytes.length), crc32: String(crc32(bytes)) };
    }
    return this.sent;
  }

  /** The answer as one string (tests; the response is written from `bytes()`). */
  get text(): string {
    return this.parts.map((part) => (typeof part === "string" ? part : Buffer.from(part.buffer, part.byteOffset, part.byteLength).toString("utf8"))).join("");
  }

  /** The answer's UTF-8 bytes in one buffer: each part written or copied once, no decoding. */
  bytes(): Buffer {
    const { parts } = this;
    let length = 0;
    for (const part of parts) length += typeof part === "string" ? Buffer.byteLength(part, "utf8") : part.byteLength;
    const out = Buffer.allocUnsafe(length);
    let at = 0;
    for (const part of parts) {
      if (typeof part === "string") at += out.write(part, at, "utf8");
      else {
        out.set(part, at);
        at += part.byteLength;
      }
    }
    return out;
  }
}

interface Wire {
  body: string | Buffer;
  length: string;
  crc32: string;
}

/**
 * `{}`: what a PutItem, DeleteItem or UpdateItem answers when it returns no attributes and no
 * consumed capacity (the common write), sent without JSON.stringify or a CRC32 per request.
 */
export const emptyAnswer = new JsonText("{}");

/**
 * A JSON.stringify answer goes out as a string: both servers then write the head and the body
 * as one string in one write, and so does a JsonText of one ASCII string (`emptyAnswer`, the
 * not-found GetItem). A spliced answer (JsonText) goes out as its bytes: the stored item
 * JSON is copied once into them, never decoded to a string and encoded again (for the CRC32,
 * the length and the socket write: three passes over the item). Shoal's own server copies a
 * body up to 16 KB into the head's buffer (one write); node:http writes it as a second chunk.
 * The CRC32 and the length are of the UTF-8 bytes sent.
 */
export function sendDynamoJson(res: HttpReply, status: number, body: unknown, headers: DynamoResponseHeaders): void {
  if (body instanceof JsonText) {
    const wire = body.wire();
    res.writeHead(status, {
      "content-type": headers.contentType,
      "content-length": wire.length,
      "x-amzn-requestid": headers.requestId,
      "x-amz-crc32": wire.crc32,
    });
    if (typeof wire.body === "string") res.end(wire.body, "utf8");
    else res.end(wire.body);
    return;
  }
  const text = JSON.stringify(body);
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
