import { STATUS_CODES } from "node:http";
import type { ResponseObserver } from "../api/shoal-response.js";
import type { LeanRequest } from "./lean-request.js";

/**
 * One response on Shoal's own HTTP server: what the handlers use of node's ServerResponse
 * (writeHead, end, statusCode, headersSent, shouldKeepAlive, writeContinue, destroy) plus the
 * facts metrics need (route, startMs, counted, observer). `end` builds the status line, the
 * headers (Date from the connection's per-second cache, Content-Length when the handler gave
 * none, Connection) and the body into one string or Buffer, written in one socket write once
 * every earlier response on the connection was (pipelining answers in order). A body past
 * oneWriteBodyBytesMax leaves as a second chunk of the same corked write.
 */
export interface ResponseSink {
  /** `res.payload` is ready: written now or once the earlier responses are. */
  respond(res: LeanResponse): void;
  /** Sends `100 Continue` for `res` (now, or when its turn comes). */
  writeContinue(res: LeanResponse): void;
  /** Closes the connection now (the response cannot be completed). */
  destroy(): void;
  /** `date: <IMF-fixdate>\r\n`, cached per second. */
  dateLine(): string;
  /** `keep-alive: timeout=<s>\r\n`. */
  readonly keepAliveLine: string;
}

/** Bodies up to this many bytes are copied into the head's buffer: one write, not a writev. */
export const oneWriteBodyBytesMax = 16 * 1024;

const tokenPattern = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const badValuePattern = /[^\t\x20-\x7e\x80-\xff]/;

export class LeanResponse {
  statusCode = 200;
  headersSent = false;
  shouldKeepAlive: boolean;
  /** The matched route pattern (a bounded label) for metrics. */
  route = "unmatched";
  /** `performance.now()` when the request arrived. */
  startMs = 0;
  /** Set once the in-flight count included this request. */
  counted = false;
  observer: ResponseObserver | undefined = undefined;
  /** Head (and body, when small) ready to write; set by end(). */
  payload: string | Buffer | undefined = undefined;
  /** A large body written after `payload`. */
  body: Uint8Array | undefined = undefined;
  /** The connection closes once this response is written. */
  last = false;
  /** 100 Continue was asked for and not yet written. */
  continuePending = false;
  private headers: Record<string, string | number | undefined> | undefined = undefined;
  private closed = false;

  constructor(
    readonly req: LeanRequest,
    private readonly sink: ResponseSink,
    keepAlive: boolean,
  ) {
    this.shouldKeepAlive = keepAlive;
  }

  writeHead(status: number, headers?: Record<string, string | number | undefined>): this {
    if (this.headersSent) throw new Error(`cannot write a response head twice (status ${status} after ${this.statusCode})`);
    this.statusCode = status;
    this.headers = headers;
    this.headersSent = true;
    return this;
  }

  end(chunk?: string | Uint8Array, encoding?: BufferEncoding): this {
    if (this.payload !== undefined || this.closed) return this;
    this.headersSent = true;
    this.serialize(chunk, encoding);
    this.sink.respond(this);
    return this;
  }

  writeContinue(): void {
    if (!this.headersSent && !this.closed) this.sink.writeContinue(this);
  }

  destroy(): void {
    this.sink.destroy();
  }

  /** Tells the observer, once: the response was written, or the connection closed first. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.observer?.responseClosed(this);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private serialize(chunk: string | Uint8Array | undefined, encoding: BufferEncoding | undefined): void {
    const status = this.statusCode;
    let line = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Unknown"}\r\n`;
    let hasLength = false;
    let close = !this.shouldKeepAlive;
    const headers = this.headers;
    if (headers !== undefined) {
      for (const name in headers) {
        const raw = headers[name];
        if (raw === undefined) continue;
        const value = typeof raw === "string" ? raw : String(raw);
        if (!tokenPattern.test(name) || badValuePattern.test(value)) throw new TypeError(`invalid response header ${JSON.stringify(name.slice(0, 64))}: a name must be a token and a value must not hold control characters`);
        line += `${name}: ${value}\r\n`;
        if (name.length === 14 && name.toLowerCase() === "content-length") hasLength = true;
        else if (name.length === 10 && name.toLowerCase() === "connection" && value.toLowerCase() === "close") close = true;
      }
    }
    // 1xx, 204 and 304 have no body; HEAD declares the length a GET would have but sends none.
    const statusHasBody = status >= 200 && status !== 204 && status !== 304;
    let text: string | undefined;
    let bytes: Uint8Array | undefined;
    let length = 0;
    if (chunk !== undefined && statusHasBody) {
      if (typeof chunk !== "string") {
        bytes = chunk;
        length = chunk.byteLength;
      } else if (encoding === "latin1" || encoding === "binary") {
        text = chunk;
        length = chunk.length;
      } else {
        length = Buffer.byteLength(chunk, encoding ?? "utf8");
        // ASCII text is the same bytes in latin1: it joins the head as one string.
        if (length === chunk.length && (encoding === undefined || encoding === "utf8" || encoding === "utf-8")) text = chunk;
        else bytes = Buffer.from(chunk, encoding ?? "utf8");
      }
    }
    const head = this.req.method === "HEAD";
    if (statusHasBody && !hasLength && (!head || chunk !== undefined)) line += `content-length: ${length}\r\n`;
    if (head) {
      text = undefined;
      bytes = undefined;
    }
    line += this.sink.dateLine();
    if (close) line += "connection: close\r\n";
    else {
      if (this.req.httpVersion === "1.0") line += "connection: keep-alive\r\n";
      line += this.sink.keepAliveLine;
    }
    line += "\r\n";
    this.last = close;
    if (bytes === undefined) this.payload = text === undefined ? line : line + text;
    else if (length <= oneWriteBodyBytesMax) {
      const buffer = Buffer.allocUnsafe(line.length + length);
      buffer.write(line, 0, "latin1");
      buffer.set(bytes, line.length);
      this.payload = buffer;
    } else {
      this.payload = line;
      this.body = bytes;
    }
  }
}
