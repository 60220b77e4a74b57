import { ServerResponse, type IncomingMessage } from "node:http";
import type { LeanRequest } from "../http/lean-request.js";

/**
 * What the handlers are given: a request and a response from either HTTP server of the client
 * port, Shoal's own (src/http/: LeanRequest, LeanResponse) or node:http (IncomingMessage,
 * NodeShoalResponse below), selected by SHOAL_HTTP_SERVER. The handlers use only this surface.
 */
export type ShoalRequest = IncomingMessage | LeanRequest;

/** The part of a response the handlers write through (node's ServerResponse has it too). */
export interface HttpReply {
  statusCode: number;
  readonly headersSent: boolean;
  shouldKeepAlive: boolean;
  writeHead(status: number, headers?: Record<string, string>): unknown;
  end(chunk?: string | Uint8Array, encoding?: BufferEncoding): unknown;
  /** Sends `100 Continue` (the body is wanted). */
  writeContinue(): void;
  /** Closes the connection (the response cannot be completed). */
  destroy(): void;
}

/** A response with the facts metrics need (the route pattern and the start time) kept on the object itself. */
export interface ShoalResponse extends HttpReply {
  /** The matched route pattern (a bounded label), e.g. `/v1/tables/{table}/items/{key}`. */
  route: string;
  /** `performance.now()` when the request arrived. */
  startMs: number;
  /** Set once the in-flight count included this request. */
  counted: boolean;
  /** Told when the response closes (metrics, in-flight count); set by the RestApi. */
  observer: ResponseObserver | undefined;
  readonly req: ShoalRequest;
}

/**
 * node:http's response with ShoalResponse's fields, and the observer told when the response
 * closes (whether it finished or the client went away).
 */
export class NodeShoalResponse<Request extends IncomingMessage = IncomingMessage> extends ServerResponse<Request> implements ShoalResponse {
  route = "unmatched";
  startMs = 0;
  counted = false;
  observer: ResponseObserver | undefined = undefined;

  // Observing "close" here instead of with res.once() saves adding and removing a listener
  // (and a wrapper closure) per request on the hot path.
  override emit(event: string | symbol, ...args: any[]): boolean {
    if (event === "close" && this.observer !== undefined) this.observer.responseClosed(this);
    return super.emit(event, ...args);
  }
}

export interface ResponseObserver {
  responseClosed(res: ShoalResponse): void;
}
