import type { Socket } from "node:net";
import { ShoalError, badRequest } from "../errors.js";
import { LeanRequest, type BodySource } from "./lean-request.js";
import { LeanResponse, type ResponseSink } from "./lean-response.js";
import { RequestParser, type HttpParseError, type RequestHead, type RequestParserSink } from "./request-parser.js";

/**
 * One client connection of Shoal's HTTP server: feeds the socket's bytes to the parser, hands
 * each request to the handler as soon as its head arrived (pipelined requests too, at most
 * `pipelineMax` unanswered), and writes the responses in request order. It stops reading the
 * socket while heads are held (pipelineMax reached), while a body nobody asked for yet is over
 * bodyHeldBytesMax, or while the socket's write buffer is over writeBufferedBytesMax.
 *
 * A response that closes the connection (Connection: close, HTTP/1.0, the handler's
 * shouldKeepAlive = false) ends the socket once written. Bad input is
 * answered (after the responses before it) with its status and a JSON error, then the socket
 * ends. When the client goes away, a body being read fails with RequestAborted and every
 * unanswered response is closed (its observer told).
 */
export interface ConnectionHost {
  readonly handler: (req: LeanRequest, res: LeanResponse) => void;
  readonly pipelineMax: number;
  readonly keepAliveLine: string;
  /** The coarse clock the timeouts use (ms, updated by the server's sweep). */
  readonly coarseNowMs: number;
  dateLine(): string;
  connectionClosed(connection: HttpConnection): void;
  handlerFailed(error: unknown): void;
}

/** Output buffered in the socket past which the connection stops reading requests. */
export const writeBufferedBytesMax = 1024 * 1024;

const continueLine = "HTTP/1.1 100 Continue\r\n\r\n";

export class HttpConnection implements RequestParserSink, BodySource, ResponseSink {
  private readonly parser = new RequestParser(this);
  /** Responses not yet written, in request order. */
  private readonly queue: LeanResponse[] = [];
  /** The request whose body is still arriving. */
  private current: LeanRequest | undefined = undefined;
  /** No more requests are read (a closing response or bad input was queued, or the client ended). */
  private noMoreRequests = false;
  private readPaused = false;
  private flushing = false;
  private destroyed = false;
  /** When the head being received (or the wait for the first one) started, on the coarse clock. */
  headStartMs: number;
  /** When the connection last became idle, on the coarse clock. */
  idleSinceMs: number;
  /** Whether a response was written (the keep-alive timeout applies between requests, not before the first). */
  served = false;

  constructor(
    readonly socket: Socket,
    private readonly host: ConnectionHost,
  ) {
    this.headStartMs = host.coarseNowMs;
    this.idleSinceMs = host.coarseNowMs;
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("end", () => this.onClientEnd());
    socket.on("drain", () => this.updateReading());
    socket.on("error", () => this.destroy());
    socket.on("close", () => this.onClose());
  }

  get keepAliveLine(): string {
    return this.host.keepAliveLine;
  }

  dateLine(): string {
    return this.host.dateLine();
  }

  /** Between requests: nothing unanswered and no byte of a next request. */
  get idle(): boolean {
    return this.queue.length === 0 && this.parser.idle;
  }

  /** A head is partly received. */
  get inHead(): boolean {
    return this.parser.inHead;
  }

  /** A body is still arriving. */
  get inBody(): boolean {
    return this.current !== undefined;
  }

  private onData(chunk: Buffer): void {
    if (this.noMoreRequests && this.current === undefined) return;
    if (this.parser.idle) this.headStartMs = this.host.coarseNowMs;
    this.parser.push(chunk);
    this.updateReading();
  }

  onHead(head: RequestHead): void {
    const req = new LeanRequest(head, this);
    const res = new LeanResponse(req, this, head.keepAlive);
    this.queue.push(res);
    if (head.contentLength !== 0) this.current = req;
    if (!head.keepAlive) this.stopReadingRequests();
    else if (this.queue.length >= this.host.pipelineMax) this.parser.holdHeads = true;
    try {
      this.host.handler(req, res);
    } catch (error) {
      this.host.handlerFailed(error);
      if (!res.headersSent) {
        res.shouldKeepAlive = false;
        writeError(res, new ShoalError("InternalError", 500, "the node failed to answer this request; see its log"));
      } else this.destroy();
    }
  }

  onBody(chunk: Buffer): void {
    this.current?.pushBody(chunk);
  }

  onEnd(): void {
    const req = this.current;
    this.current = undefined;
    req?.endBody();
    if (this.parser.idle) this.headStartMs = this.host.coarseNowMs;
  }

  onError(error: HttpParseError): void {
    this.stopReadingRequests();
    const shoalError = new ShoalError(error.code, error.status, error.message);
    // The framing of this request's body was bad: its handler answers with the error.
    if (this.failCurrent(shoalError)) return;
    const res = new LeanResponse(new LeanRequest(errorHead, this), this, false);
    this.queue.push(res);
    writeError(res, shoalError);
  }

  bodyHeld(): void {
    this.updateReading();
  }

  respond(res: LeanResponse): void {
    if (this.destroyed) {
      res.close();
      return;
    }
    if (this.queue[0] === res) this.flush();
  }

  writeContinue(res: LeanResponse): void {
    if (this.destroyed) return;
    if (this.queue[0] === res) this.socket.write(continueLine, "latin1");
    else res.continuePending = true;
  }

  /** Answers a request whose head or body is too slow (408) and closes; a fresh idle connection just closes. */
  timeOut(what: "headers" | "request", limitMs: number): void {
    const error = new ShoalError("RequestTimeout", 408, `the request's ${what === "headers" ? "head" : "body"} did not arrive within ${limitMs} ms`);
    if (this.current !== undefined) {
      this.stopReadingRequests();
      this.failCurrent(error);
      return;
    }
    if (!this.parser.inHead && this.queue.length === 0) {
      this.destroy();
      return;
    }
    this.onError({ status: 408, code: error.code, message: error.message });
  }

  /** Closes the socket now; unanswered responses are closed and a body being read fails. */
  destroy(): void {
    if (this.destroyed) return;
    this.socket.destroy();
    this.onClose();
  }

  /**
   * Fails the request whose body is still arriving with `error` (its handler answers with it),
   * closes the connection after its response, and ends it if that was answered already. False
   * when no body is arriving.
   */
  private failCurrent(error: ShoalError): boolean {
    const req = this.current;
    if (req === undefined) return false;
    this.current = undefined;
    req.fail(error);
    const res = this.queue.find((r) => r.req === req);
    if (res !== undefined) res.shouldKeepAlive = false;
    this.endIfAnswered();
    return true;
  }

  /** Reading stopped and everything read was answered: end the connection. */
  private endIfAnswered(): void {
    if (!this.destroyed && !this.flushing && this.noMoreRequests && this.current === undefined && this.queue.length === 0) this.finishLast();
  }

  private stopReadingRequests(): void {
    this.noMoreRequests = true;
    this.parser.holdHeads = true;
  }

  private flush(): void {
    if (this.flushing) return;
    this.flushing = true;
    try {
      for (;;) {
        while (this.queue.length > 0 && !this.destroyed) {
          const res = this.queue[0]!;
          if (res.continuePending) {
            res.continuePending = false;
            this.socket.write(continueLine, "latin1");
          }
          if (res.payload === undefined) break;
          this.queue.shift();
          this.write(res);
          if (res.last) {
            this.finishLast();
            return;
          }
        }
        if (this.destroyed) return;
        if (this.queue.length === 0) {
          this.idleSinceMs = this.host.coarseNowMs;
          this.served = true;
          if (this.noMoreRequests && this.current === undefined) {
            this.finishLast();
            return;
          }
        }
        if (!this.parser.holdHeads || this.noMoreRequests || this.queue.length >= this.host.pipelineMax) break;
        this.parser.holdHeads = false;
        this.parser.drive();
      }
    } finally {
      this.flushing = false;
      this.updateReading();
    }
  }

  private write(res: LeanResponse): void {
    const { socket } = this;
    const payload = res.payload!;
    if (res.body === undefined) {
      if (typeof payload === "string") socket.write(payload, "latin1");
      else socket.write(payload);
    } else {
      socket.cork();
      socket.write(payload as string, "latin1");
      socket.write(res.body);
      socket.uncork();
    }
    // The request's body is dropped if it is still arriving: nobody will read it now.
    if (!res.req.complete) res.req.drop();
    res.close();
  }

  /** The last response was written: end the socket once flushed, then close it. */
  private finishLast(): void {
    this.stopReadingRequests();
    this.socket.end(() => this.socket.destroy());
    this.onClose();
  }

  private updateReading(): void {
    if (this.destroyed) return;
    const current = this.current;
    const pause =
      (this.parser.holdHeads && current === undefined) || (current !== undefined && current.heldTooMuch) || this.socket.writableLength > writeBufferedBytesMax;
    if (pause === this.readPaused) return;
    this.readPaused = pause;
    if (pause) this.socket.pause();
    else this.socket.resume();
  }

  private onClientEnd(): void {
    // The client sends no more: a body still arriving never completes; answered requests are written, then the socket ends.
    this.stopReadingRequests();
    this.parser.stop();
    this.current?.fail(badRequest("RequestAborted", "the client closed the connection before sending the whole body"));
    this.current = undefined;
    if (this.queue.length === 0) this.finishLast();
  }

  private onClose(): void {
    this.destroyed = true;
    this.parser.stop();
    this.current?.fail(badRequest("RequestAborted", "the client closed the connection before sending the whole body"));
    this.current = undefined;
    for (const res of this.queue.splice(0)) res.close();
    this.host.connectionClosed(this);
  }
}

const errorHead: RequestHead = { method: "", url: "", versionMinor: 1, rawHeaders: [], names: [], keepAlive: false, expectContinue: false, contentLength: 0 };

function writeError(res: LeanResponse, error: ShoalError): void {
  const text = JSON.stringify(error.toJSON());
  res.shouldKeepAlive = false;
  res.writeHead(error.status, { "content-type": "application/json; charset=utf-8", "content-length": String(Buffer.byteLength(text)) });
  res.end(text);
}
