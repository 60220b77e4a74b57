import type { ShoalError } from "../errors.js";
import type { HttpReply } from "./shoal-response.js";

/**
 * Writing responses. Errors always have the shape `{"error": {"code", "message"}}` with the
 * ShoalError's status (issue 2, item 5).
 */
export function sendJson(res: HttpReply, status: number, body: unknown, headers?: Record<string, string>): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    "content-type": "application/json; charset=utf-8",
    "content-length": String(Buffer.byteLength(text)),
  });
  res.end(text);
}

export function sendError(res: HttpReply, error: ShoalError, headers?: Record<string, string>): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, error.status, error.toJSON(), headers);
}

export function sendEmpty(res: HttpReply, status: number, headers?: Record<string, string>): void {
  res.writeHead(status, headers);
  res.end();
}
