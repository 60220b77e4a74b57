import { connect, type Socket } from "node:net";

/**
 * A minimal HTTP/1.1 client for load generation, the Node stand-in for wrk: one keep-alive TCP
 * connection, one request in flight, the request written as one prepared string, the answer
 * parsed only as far as its status and Content-Length. It costs the load process a fraction of
 * what undici does per request (no header objects, no handler machinery), so a one-core load
 * process can drive a server past undici's ceiling of about 18k requests/s here.
 *
 * It understands what the servers it benchmarks send: a status line, headers, and a body of
 * Content-Length bytes. A chunked or length-less answer is an error, as is a second answer
 * without a request; a connection that closes or errors fails its request and is reopened on the
 * next one.
 */
export interface RawAnswer {
  status: number;
  bodyBytes: number;
  /** The start of the body (up to `errorBodyMax` bytes) when the status is not 200. */
  errorText: string;
}

/** Headers larger than this are not an answer this client understands. */
const headerBytesMax = 16 * 1024;
const errorBodyMax = 500;
const crlfcrlf = Buffer.from("\r\n\r\n");

interface Pending {
  resolve(answer: RawAnswer): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

export class RawHttpConnection {
  private socket: Socket | undefined;
  private pending: Pending | undefined;
  private buffer: Buffer = Buffer.alloc(0);
  /** Parsed from the current answer's headers; -1 while they are incomplete. */
  private bodyStart = -1;
  private status = 0;
  private contentLength = 0;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly timeoutMs: number,
  ) {}

  static forUrl(url: string, timeoutMs: number): RawHttpConnection {
    const parsed = new URL(url);
    if (parsed.protocol !== "http:") throw new Error(`raw HTTP needs an http:// url; got ${url}`);
    return new RawHttpConnection(parsed.hostname, Number(parsed.port || 80), timeoutMs);
  }

  /** The Host header value requests to this connection carry. */
  get hostHeader(): string {
    return `${this.host}:${this.port}`;
  }

  /** Sends a complete request (request line, headers, body; ASCII/latin1) and resolves with its answer. */
  request(wire: string): Promise<RawAnswer> {
    if (this.pending !== undefined) return Promise.reject(new Error("raw HTTP: one request at a time per connection"));
    const socket = this.open();
    return new Promise<RawAnswer>((resolve, reject) => {
      const timer = setTimeout(() => this.fail(new Error(`raw HTTP: no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
      this.pending = { resolve, reject, timer };
      socket.write(wire, "latin1");
    });
  }

  close(): void {
    this.fail(new Error("raw HTTP: connection closed by the client"));
  }

  private open(): Socket {
    if (this.socket !== undefined && !this.socket.destroyed) return this.socket;
    const socket = connect({ host: this.host, port: this.port, noDelay: true });
    this.socket = socket;
    this.buffer = Buffer.alloc(0);
    this.bodyStart = -1;
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", (error) => this.fail(error));
    socket.on("close", () => {
      if (this.socket === socket) this.fail(new Error("raw HTTP: the server closed the connection"));
    });
    return socket;
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    if (this.bodyStart < 0) {
      const end = this.buffer.indexOf(crlfcrlf);
      if (end < 0) {
        if (this.buffer.length > headerBytesMax) this.fail(new Error(`raw HTTP: answer headers longer than ${headerBytesMax} bytes`));
        return;
      }
      const parsed = parseHead(this.buffer.toString("latin1", 0, end));
      if (typeof parsed === "string") {
        this.fail(new Error(`raw HTTP: ${parsed}`));
        return;
      }
      this.status = parsed.status;
      this.contentLength = parsed.contentLength;
      this.bodyStart = end + crlfcrlf.length;
    }
    const available = this.buffer.length - this.bodyStart;
    if (available < this.contentLength) return;
    if (available > this.contentLength) {
      this.fail(new Error(`raw HTTP: ${available - this.contentLength} bytes after the answer's body (no request was pending for them)`));
      return;
    }
    const pending = this.pending;
    const answer: RawAnswer = {
      status: this.status,
      bodyBytes: this.contentLength,
      errorText: this.status === 200 ? "" : this.buffer.toString("utf8", this.bodyStart, this.bodyStart + Math.min(this.contentLength, errorBodyMax)),
    };
    this.buffer = Buffer.alloc(0);
    this.bodyStart = -1;
    this.pending = undefined;
    if (pending === undefined) {
      this.fail(new Error("raw HTTP: an answer arrived with no request pending"));
      return;
    }
    clearTimeout(pending.timer);
    pending.resolve(answer);
  }

  /** Fails the pending request (if any) and drops the connection; the next request reopens it. */
  private fail(error: Error): void {
    const pending = this.pending;
    this.pending = undefined;
    const socket = this.socket;
    this.socket = undefined;
    socket?.destroy();
    if (pending !== undefined) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
  }
}

/** Status and Content-Length from an answer's head, or why it cannot be read. */
export function parseHead(head: string): { status: number; contentLength: number } | string {
  const lines = head.split("\r\n");
  const statusLine = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? "");
  if (statusLine === null) return `not an HTTP/1.x status line: ${JSON.stringify((lines[0] ?? "").slice(0, 80))}`;
  let contentLength: number | undefined;
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === "transfer-encoding") return `Transfer-Encoding ${value} is not supported (only Content-Length bodies)`;
    if (name === "content-length") {
      const parsed = Number(value);
      if (!Number.isSafeInteger(parsed) || parsed < 0) return `bad Content-Length ${JSON.stringify(value)}`;
      contentLength = parsed;
    }
  }
  if (contentLength === undefined) return "an answer without Content-Length";
  return { status: Number(statusLine[1]), contentLength };
}

/** The head of a POST / request up to (not including) its Content-Length, built once per host and operation. */
export function postHead(host: string, headers: Record<string, string>): string {
  let head = `POST / HTTP/1.1\r\nHost: ${host}\r\n`;
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
  return head;
}

/** A complete request from a prepared head and an ASCII body (its length is its byte count). */
export function withBody(head: string, body: string): string {
  return `${head}Content-Length: ${body.length}\r\n\r\n${body}`;
}
