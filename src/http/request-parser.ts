/**
 * An incremental HTTP/1.1 request parser (RFC 9112) with no I/O: the connection pushes the
 * socket's chunks in, the parser calls its sink with each request's head, its body bytes (as
 * slices of the chunks, no copy), its end, or one error, after which it stops for good. Heads
 * and chunk-size lines split across chunks are carried over (and scanned once: no quadratic
 * rescan under a byte-at-a-time sender); body bytes never are.
 *
 * Bounds (httpParserLimits): request line, whole head, header count, chunk-size line and
 * trailers. Bodies are not bounded here: the handler that reads one applies its own limit.
 * Refused: obs-fold, bare LF line ends, control characters, a Content-Length that is not
 * digits or repeats with another value, Transfer-Encoding other than chunked, both framings.
 *
 * Example:
 *   const parser = new RequestParser({ onHead, onBody, onEnd, onError });
 *   socket.on("data", (chunk) => parser.push(chunk));
 */
export interface RequestHead {
  method: string;
  url: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  versionMinor: number;
  /** Names as sent and values, alternating (node's rawHeaders). */
  rawHeaders: string[];
  /** The lower-cased names, one per header, in order. */
  names: string[];
  /** Whether the connection stays open after this request (version and Connection header). */
  keepAlive: boolean;
  /** Expect: 100-continue. */
  expectContinue: boolean;
  /** Declared body length; 0 when the request has no body; -1 for a chunked body. */
  contentLength: number;
}

export interface RequestParserSink {
  onHead(head: RequestHead): void;
  onBody(chunk: Buffer): void;
  onEnd(): void;
  onError(error: HttpParseError): void;
}

export const httpParserLimits = Object.freeze({
  requestLineBytesMax: 8 * 1024,
  headBytesMax: 16 * 1024,
  headersMax: 100,
  chunkLineBytesMax: 4 * 1024,
  trailerBytesMax: 16 * 1024,
});

/** Malformed or oversized input: answered with `status` and the connection closed. */
export class HttpParseError {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly message: string,
  ) {}
}

const enum State {
  Head,
  Body,
  ChunkLine,
  ChunkData,
  ChunkDataEnd,
  Trailers,
  Failed,
}

const crlf = Buffer.from("\r\n");
const crlfcrlf = Buffer.from("\r\n\r\n");
const tokenPattern = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Control characters are exactly what these patterns look for (RFC 9110 field values, targets).
// eslint-disable-next-line no-control-regex
const badValuePattern = /[\x00-\x08\x0a-\x1f\x7f]/;
// eslint-disable-next-line no-control-regex
const badTargetPattern = /[\x00-\x20\x7f]/;
const digitsPattern = /^[0-9]{1,15}$/;
// eslint-disable-next-line no-control-regex
const chunkLinePattern = /^([0-9A-Fa-f]{1,12})[ \t]*(;[^\x00-\x08\x0a-\x1f\x7f]*)?$/;

export class RequestParser {
  private state = State.Head;
  /** Unconsumed bytes carried over from earlier chunks (a split head or chunk line, or held heads). */
  private pending: Buffer | undefined;
  /** Where the search for the end of the head or line resumes in `pending`. */
  private scanFrom = 0;
  private remaining = 0;
  private trailerBytes = 0;
  private trailerCount = 0;
  /** Set by the connection: stop before the next request's head (bounded pipelining). */
  holdHeads = false;
  private driving = false;

  constructor(private readonly sink: RequestParserSink) {}

  /** True between requests with no byte of the next one received. */
  get idle(): boolean {
    return this.state === State.Head && (this.pending === undefined || this.pending.length === 0);
  }

  /** True when a head has started arriving but is not complete. */
  get inHead(): boolean {
    return this.state === State.Head && this.pending !== undefined && this.pending.length > 0;
  }

  get failed(): boolean {
    return this.state === State.Failed;
  }

  push(chunk: Buffer): void {
    if (this.state === State.Failed) return;
    if (this.pending === undefined || this.pending.length === 0) this.pending = chunk;
    else this.pending = Buffer.concat([this.pending, chunk]);
    this.drive();
  }

  /** Parses what is held (after holdHeads was cleared); a call from inside a sink callback is a no-op. */
  drive(): void {
    if (this.driving) return;
    this.driving = true;
    try {
      this.run();
    } finally {
      this.driving = false;
    }
  }

  /** Stops for good without telling the sink (the connection closed). */
  stop(): void {
    this.state = State.Failed;
    this.pending = undefined;
  }

  private run(): void {
    const buf = this.pending;
    if (buf === undefined) return;
    let pos = 0;
    while (pos < buf.length) {
      const state = this.state;
      let next: number;
      if (state === State.Head) {
        if (this.holdHeads) break;
        if (buf[pos] === 13 && buf[pos + 1] === 10) {
          // Empty lines before a request line are skipped (RFC 9112 section 2.2).
          pos += 2;
          continue;
        }
        next = this.head(buf, pos);
      } else if (state === State.Body || state === State.ChunkData) {
        const take = Math.min(this.remaining, buf.length - pos);
        const slice = buf.subarray(pos, pos + take);
        next = pos + take;
        this.remaining -= take;
        const done = this.remaining === 0;
        if (done) this.state = state === State.Body ? State.Head : State.ChunkDataEnd;
        this.sink.onBody(slice);
        if (state === State.Body && done && this.state === State.Head) this.sink.onEnd();
      } else if (state === State.ChunkLine) {
        next = this.chunkLine(buf, pos);
      } else if (state === State.ChunkDataEnd) {
        if (buf.length - pos < 2) break;
        if (buf[pos] !== 13 || buf[pos + 1] !== 10) return this.fail(400, "BadChunk", "a chunk's data must end with CRLF");
        next = pos + 2;
        this.state = State.ChunkLine;
      } else if (state === State.Trailers) {
        next = this.trailerLine(buf, pos);
      } else {
        return;
      }
      if (this.state === State.Failed) return;
      if (next < 0) break;
      pos = next;
    }
    // Keep what is left; scanFrom is an offset into `buf` and becomes one into the rest.
    this.pending = pos >= buf.length ? undefined : pos === 0 ? buf : buf.subarray(pos);
    this.scanFrom = Math.max(0, this.scanFrom - pos);
  }

  private fail(status: number, code: string, message: string): void {
    this.state = State.Failed;
    this.pending = undefined;
    this.sink.onError(new HttpParseError(status, code, message));
  }

  /** Parses one head starting at `pos`; returns where it ended, or -1 (incomplete, or failed). */
  private head(buf: Buffer, pos: number): number {
    const limit = httpParserLimits.headBytesMax;
    const searchEnd = Math.min(buf.length, pos + limit);
    const from = Math.max(pos, this.scanFrom);
    const end = buf.subarray(0, searchEnd).indexOf(crlfcrlf, from);
    if (end < 0) {
      if (searchEnd - pos >= limit) {
        this.fail(431, "HeadersTooLarge", `the request head is more than ${limit} bytes; the limit is ${limit}`);
        return -1;
      }
      const lineEnd = buf.subarray(0, searchEnd).indexOf(crlf, pos);
      if ((lineEnd < 0 ? searchEnd : lineEnd) - pos > httpParserLimits.requestLineBytesMax) {
        this.fail(431, "RequestLineTooLong", `the request line is more than ${httpParserLimits.requestLineBytesMax} bytes; the limit is ${httpParserLimits.requestLineBytesMax}`);
        return -1;
      }
      this.scanFrom = Math.max(pos, buf.length - 3);
      return -1;
    }
    this.scanFrom = 0;
    const head = this.parseHead(buf.toString("latin1", pos, end));
    if (head === undefined) return -1;
    const next = end + 4;
    if (head.contentLength > 0) {
      this.state = State.Body;
      this.remaining = head.contentLength;
    } else if (head.contentLength < 0) {
      this.state = State.ChunkLine;
      this.trailerBytes = 0;
      this.trailerCount = 0;
    }
    this.sink.onHead(head);
    if (head.contentLength === 0 && this.state === State.Head) this.sink.onEnd();
    return next;
  }

  private parseHead(text: string): RequestHead | undefined {
    const lineEnd = text.indexOf("\r\n");
    const requestLine = lineEnd < 0 ? text : text.slice(0, lineEnd);
    if (requestLine.length > httpParserLimits.requestLineBytesMax) {
      this.fail(431, "RequestLineTooLong", `the request line is ${requestLine.length} bytes; the limit is ${httpParserLimits.requestLineBytesMax}`);
      return undefined;
    }
    const firstSpace = requestLine.indexOf(" ");
    const lastSpace = requestLine.lastIndexOf(" ");
    if (firstSpace <= 0 || lastSpace === firstSpace) return this.malformed("the request line must be METHOD SP target SP HTTP-version");
    const method = requestLine.slice(0, firstSpace);
    const url = requestLine.slice(firstSpace + 1, lastSpace);
    const version = requestLine.slice(lastSpace + 1);
    if (!tokenPattern.test(method)) return this.malformed("the request method is not a token");
    if (url.length === 0 || badTargetPattern.test(url)) return this.malformed("the request target is empty or holds spaces or control characters");
    let versionMinor: number;
    if (version === "HTTP/1.1") versionMinor = 1;
    else if (version === "HTTP/1.0") versionMinor = 0;
    else if (/^HTTP\/[0-9]\.[0-9]$/.test(version)) {
      this.fail(505, "HttpVersionNotSupported", `${version} is not supported; this server speaks HTTP/1.1 and HTTP/1.0`);
      return undefined;
    } else return this.malformed("the request line must end with HTTP/1.1 or HTTP/1.0");
    const rawHeaders: string[] = [];
    const names: string[] = [];
    let contentLength: string | undefined;
    let transferEncoding: string | undefined;
    let connection: string | undefined;
    let expect: string | undefined;
    let start = lineEnd < 0 ? text.length : lineEnd + 2;
    while (start < text.length) {
      let end = text.indexOf("\r\n", start);
      if (end < 0) end = text.length;
      if (names.length >= httpParserLimits.headersMax) {
        this.fail(431, "TooManyHeaders", `the request has more than ${httpParserLimits.headersMax} headers; the limit is ${httpParserLimits.headersMax}`);
        return undefined;
      }
      const line = text.slice(start, end);
      start = end + 2;
      const colon = line.indexOf(":");
      if (colon <= 0) return this.malformed("a header line has no name and colon (obs-fold is not accepted)");
      const name = line.slice(0, colon);
      if (!tokenPattern.test(name)) return this.malformed(`header name ${JSON.stringify(name.slice(0, 64))} is not a token`);
      const value = trimWhitespace(line, colon + 1);
      if (badValuePattern.test(value)) return this.malformed(`header ${name.slice(0, 64)} holds a control character`);
      const lower = name.toLowerCase();
      rawHeaders.push(name, value);
      names.push(lower);
      if (lower.length === 14 && lower === "content-length") {
        if (contentLength !== undefined && contentLength !== value) return this.malformed("the request has two different Content-Length headers");
        contentLength = value;
      } else if (lower === "transfer-encoding") transferEncoding = transferEncoding === undefined ? value : `${transferEncoding}, ${value}`;
      else if (lower === "connection") connection = connection === undefined ? value : `${connection}, ${value}`;
      else if (lower === "expect") expect = value;
    }
    let length = 0;
    if (transferEncoding !== undefined) {
      if (contentLength !== undefined) return this.malformed("the request has both Content-Length and Transfer-Encoding");
      if (versionMinor === 0) return this.malformed("HTTP/1.0 requests cannot use Transfer-Encoding");
      if (transferEncoding.trim().toLowerCase() !== "chunked") return this.malformed(`Transfer-Encoding ${JSON.stringify(transferEncoding.slice(0, 64))} is not supported; only chunked is`);
      length = -1;
    } else if (contentLength !== undefined) {
      if (!digitsPattern.test(contentLength)) return this.malformed(`Content-Length ${JSON.stringify(contentLength.slice(0, 32))} is not a number of bytes`);
      length = Number(contentLength);
    }
    let keepAlive = versionMinor === 1;
    if (connection !== undefined) {
      const tokens = connection.toLowerCase();
      if (tokens === "keep-alive") keepAlive = true;
      else if (hasToken(tokens, "close")) keepAlive = false;
      else if (versionMinor === 0 && hasToken(tokens, "keep-alive")) keepAlive = true;
    }
    let expectContinue = false;
    if (expect !== undefined) {
      if (expect.toLowerCase() !== "100-continue") {
        this.fail(417, "ExpectationFailed", `Expect ${JSON.stringify(expect.slice(0, 64))} is not supported; only 100-continue is`);
        return undefined;
      }
      expectContinue = versionMinor === 1;
    }
    return { method, url, versionMinor, rawHeaders, names, keepAlive, expectContinue, contentLength: length };
  }

  private malformed(message: string): undefined {
    this.fail(400, "BadRequest", message);
    return undefined;
  }

  /** A chunk-size line (hex size, optional extensions, ignored); -1 when incomplete or failed. */
  private chunkLine(buf: Buffer, pos: number): number {
    const limit = httpParserLimits.chunkLineBytesMax;
    const searchEnd = Math.min(buf.length, pos + limit + 2);
    const end = buf.subarray(0, searchEnd).indexOf(crlf, Math.max(pos, this.scanFrom));
    if (end < 0) {
      if (searchEnd - pos > limit) {
        this.fail(400, "BadChunk", `a chunk-size line is more than ${limit} bytes; the limit is ${limit}`);
        return -1;
      }
      this.scanFrom = Math.max(pos, buf.length - 1);
      return -1;
    }
    this.scanFrom = 0;
    const match = chunkLinePattern.exec(buf.toString("latin1", pos, end));
    if (match === null) {
      this.fail(400, "BadChunk", "a chunk-size line must be hex digits and optional extensions");
      return -1;
    }
    const size = parseInt(match[1]!, 16);
    if (size === 0) this.state = State.Trailers;
    else {
      this.state = State.ChunkData;
      this.remaining = size;
    }
    return end + 2;
  }

  /** One trailer line (ignored) or the empty line that ends the body; -1 when incomplete or failed. */
  private trailerLine(buf: Buffer, pos: number): number {
    const room = httpParserLimits.trailerBytesMax - this.trailerBytes;
    const searchEnd = Math.min(buf.length, pos + room + 2);
    const end = buf.subarray(0, searchEnd).indexOf(crlf, Math.max(pos, this.scanFrom));
    if (end < 0) {
      if (searchEnd - pos > room) {
        this.fail(431, "TrailersTooLarge", `the trailers are more than ${httpParserLimits.trailerBytesMax} bytes; the limit is ${httpParserLimits.trailerBytesMax}`);
        return -1;
      }
      this.scanFrom = Math.max(pos, buf.length - 1);
      return -1;
    }
    this.scanFrom = 0;
    if (end === pos) {
      this.state = State.Head;
      this.sink.onEnd();
      return end + 2;
    }
    this.trailerBytes += end - pos + 2;
    if (++this.trailerCount > httpParserLimits.headersMax) {
      this.fail(431, "TooManyHeaders", `the request has more than ${httpParserLimits.headersMax} trailers; the limit is ${httpParserLimits.headersMax}`);
      return -1;
    }
    const line = buf.toString("latin1", pos, end);
    const colon = line.indexOf(":");
    if (colon <= 0 || !tokenPattern.test(line.slice(0, colon)) || badValuePattern.test(line.slice(colon + 1))) {
      this.fail(400, "BadRequest", "a trailer line is not a header field");
      return -1;
    }
    return end + 2;
  }
}

function trimWhitespace(line: string, from: number): string {
  let start = from;
  let end = line.length;
  while (start < end && (line.charCodeAt(start) === 32 || line.charCodeAt(start) === 9)) start++;
  while (end > start && (line.charCodeAt(end - 1) === 32 || line.charCodeAt(end - 1) === 9)) end--;
  return start === 0 && end === line.length ? line : line.slice(start, end);
}

/** Whether a comma-separated, lower-cased list holds `token`. */
function hasToken(list: string, token: string): boolean {
  if (list === token) return true;
  for (const part of list.split(",")) if (part.trim() === token) return true;
  return false;
}
