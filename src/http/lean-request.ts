import type { IncomingHttpHeaders } from "node:http";
import type { RequestHead } from "./request-parser.js";

/**
 * One request on Shoal's own HTTP server: what the handlers read of node's IncomingMessage
 * (method, url, headers, rawHeaders) without its stream. The body is collected here as the
 * parser hands it over and given whole to `readBody` (api/read-body.ts), which applies the
 * handler's limit; until a reader asks, at most bodyHeldBytesMax bytes are held before the
 * connection stops reading the socket.
 */
export interface BodySource {
  /** Whether the held body is too much to hold (heldTooMuch) may have changed. */
  bodyHeld(request: LeanRequest): void;
}

export const bodyHeldBytesMax = 64 * 1024;

/**
 * A request header as node's `headers[name]` has it, from either server's request, without
 * building LeanRequest's headers object. `name` lower-cased, not set-cookie.
 */
export function requestHeader(req: { readonly headers: Record<string, string | string[] | undefined> } | LeanRequest, name: string): string | undefined {
  if (req instanceof LeanRequest) return req.header(name);
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Headers node keeps the first of when repeated (node:http's IncomingMessage rules). */
const firstWins = new Set([
  "age", "authorization", "content-length", "content-type", "etag", "expires", "from", "host", "if-modified-since",
  "if-unmodified-since", "last-modified", "location", "max-forwards", "proxy-authorization", "referer", "retry-after",
  "server", "user-agent",
]);

interface BodyReader {
  maxBytes: number;
  tooLarge: (bytes: number) => unknown;
  resolve: (body: Buffer) => void;
  reject: (error: unknown) => void;
}

export class LeanRequest {
  readonly method: string;
  readonly url: string;
  readonly rawHeaders: string[];
  readonly httpVersion: string;
  private readonly names: string[];
  private headerObject: IncomingHttpHeaders | undefined;
  private chunks: Buffer[] = [];
  private bytes = 0;
  /** The whole body arrived. */
  complete: boolean;
  /** The body will never complete (the client went away, or its framing was bad). */
  private failure: unknown;
  private reader: BodyReader | undefined;
  /** Body bytes from now on are dropped (nobody will read them). */
  private dropping = false;

  constructor(
    head: RequestHead,
    private readonly source: BodySource,
  ) {
    this.method = head.method;
    this.url = head.url;
    this.rawHeaders = head.rawHeaders;
    this.names = head.names;
    this.httpVersion = head.versionMinor === 1 ? "1.1" : "1.0";
    this.complete = head.contentLength === 0;
  }

  /** Lower-cased names to values, repeats joined as node joins them; built on first use. */
  get headers(): IncomingHttpHeaders {
    if (this.headerObject !== undefined) return this.headerObject;
    const headers: Record<string, string | string[]> = {};
    const { names, rawHeaders } = this;
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      const value = rawHeaders[2 * i + 1]!;
      const before = headers[name];
      if (before === undefined) headers[name] = name === "set-cookie" ? [value] : value;
      else if (name === "set-cookie") (before as string[]).push(value);
      else if (firstWins.has(name)) continue;
      else headers[name] = `${before as string}${name === "cookie" ? "; " : ", "}${value}`;
    }
    this.headerObject = headers as IncomingHttpHeaders;
    return this.headerObject;
  }

  /**
   * One header's value as `headers[name]` gives it (`name` lower-cased; repeats joined or the
   * first kept by the same rules), without building the headers object: a handler that reads a
   * few headers (the DynamoDB front door reads four) scans the names instead, about a
   * microsecond less per request. Not for set-cookie (an array there).
   */
  header(name: string): string | undefined {
    if (this.headerObject !== undefined) return this.headerObject[name] as string | undefined;
    const { names, rawHeaders } = this;
    let found: string | undefined;
    for (let i = 0; i < names.length; i++) {
      if (names[i] !== name) continue;
      const value = rawHeaders[2 * i + 1]!;
      if (found === undefined) found = value;
      else if (firstWins.has(name)) break;
      else found = `${found}${name === "cookie" ? "; " : ", "}${value}`;
    }
    return found;
  }

  /**
   * The whole body, once it arrived; rejects with `tooLarge(bytes)` as soon as more than
   * `maxBytes` arrived (the rest is dropped: the caller answers and closes the connection).
   */
  readBody<T>(maxBytes: number, tooLarge: (bytes: number) => T): Promise<Buffer> {
    if (this.reader !== undefined || this.dropping) return Promise.reject(new Error("the request body was already read"));
    if (this.bytes > maxBytes) return Promise.reject(this.refuse(tooLarge));
    if (this.complete) return Promise.resolve(this.take());
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise<Buffer>((resolve, reject) => {
      this.reader = { maxBytes, tooLarge, resolve, reject };
      this.source.bodyHeld(this);
    });
  }

  /** Body bytes from the parser. */
  pushBody(chunk: Buffer): void {
    if (this.dropping) return;
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    const reader = this.reader;
    if (reader !== undefined) {
      if (this.bytes > reader.maxBytes) {
        this.reader = undefined;
        reader.reject(this.refuse(reader.tooLarge));
      }
    } else if (this.bytes > bodyHeldBytesMax) this.source.bodyHeld(this);
  }

  endBody(): void {
    this.complete = true;
    const reader = this.reader;
    if (reader === undefined) return;
    this.reader = undefined;
    reader.resolve(this.take());
  }

  /** The body will not complete: a waiting or later reader gets `error`. */
  fail(error: unknown): void {
    if (this.complete || this.failure !== undefined) return;
    this.failure = error;
    const reader = this.reader;
    this.reader = undefined;
    reader?.reject(error);
  }

  /** Nobody will read the body (the response was sent): drop what is held and what comes. */
  drop(): void {
    if (this.dropping) return;
    this.dropping = true;
    this.chunks = [];
    this.source.bodyHeld(this);
  }

  /** More than bodyHeldBytesMax held with nobody reading yet: the connection stops reading. */
  get heldTooMuch(): boolean {
    return this.reader === undefined && !this.dropping && this.bytes > bodyHeldBytesMax;
  }

  private refuse<T>(tooLarge: (bytes: number) => T): T {
    const bytes = this.bytes;
    this.drop();
    return tooLarge(bytes);
  }

  private take(): Buffer {
    const chunks = this.chunks;
    this.chunks = [];
    this.dropping = true;
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, this.bytes);
  }
}
