import { EventEmitter } from "node:events";
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { performance } from "node:perf_hooks";
import { HttpConnection, type ConnectionHost } from "./http-connection.js";
import type { LeanRequest } from "./lean-request.js";
import type { LeanResponse } from "./lean-response.js";

/**
 * Shoal's own HTTP/1.1 server on node:net for the client port (architecture.md, "HTTP front
 * end"): the request parser (request-parser.ts), light request and response objects
 * (lean-request.ts, lean-response.ts) and one HttpConnection per socket, without node:http's
 * streams. It has the surface ShoalNode uses of node:http's Server (listen, address, close,
 * closeIdleConnections, closeAllConnections, the "error" event) and node:http's timeouts:
 * keepAliveTimeoutMs between requests, headersTimeoutMs for a head (and for the first request
 * on a new connection), requestTimeoutMs for a whole request. One sweep every checkIntervalMs
 * enforces them on a coarse clock, so no request reads the time or arms a timer for them.
 *
 * Example:
 *   const server = new ShoalHttpServer((req, res) => res.writeHead(200, { "content-type": "text/plain" }).end("ok"));
 *   server.listen(8000, "127.0.0.1", () => console.log(server.address()));
 */
export interface HttpServerOptions {
  /** Idle time allowed between requests on a kept-alive connection (node:http's default 5000). */
  keepAliveTimeoutMs?: number;
  /** Time allowed for a request's head to arrive (node:http's default 60000). */
  headersTimeoutMs?: number;
  /** Time allowed for a whole request, head and body (node:http's default 300000). */
  requestTimeoutMs?: number;
  /** How often the timeouts are checked (default 1000, at most a fifth of the shortest timeout). */
  checkIntervalMs?: number;
  /** Unanswered requests per connection before it stops reading (default 32). */
  pipelineMax?: number;
  /** A handler threw: the request was answered 500 (or its connection closed). Default: rethrown. */
  onHandlerError?: (error: unknown) => void;
  /** The clock for the Date header (default Date.now). */
  wallClockMs?: () => number;
  /** The monotonic clock for the timeouts (default performance.now). */
  monotonicMs?: () => number;
}

export const httpServerDefaults = Object.freeze({
  keepAliveTimeoutMs: 5000,
  headersTimeoutMs: 60_000,
  requestTimeoutMs: 300_000,
  checkIntervalMs: 1000,
  pipelineMax: 32,
});

export type LeanHandler = (req: LeanRequest, res: LeanResponse) => void;

export class ShoalHttpServer extends EventEmitter implements ConnectionHost {
  readonly pipelineMax: number;
  readonly keepAliveLine: string;
  coarseNowMs: number;
  private readonly net: Server;
  private readonly connections = new Set<HttpConnection>();
  private readonly settings: Required<Pick<HttpServerOptions, "keepAliveTimeoutMs" | "headersTimeoutMs" | "requestTimeoutMs" | "checkIntervalMs">>;
  private readonly wallClockMs: () => number;
  private readonly monotonicMs: () => number;
  private sweep: NodeJS.Timeout | undefined;
  private dateSecond = -1;
  private date = "";
  closing = false;

  constructor(
    readonly handler: LeanHandler,
    private readonly options: HttpServerOptions = {},
  ) {
    super();
    const keepAliveTimeoutMs = options.keepAliveTimeoutMs ?? httpServerDefaults.keepAliveTimeoutMs;
    const headersTimeoutMs = options.headersTimeoutMs ?? httpServerDefaults.headersTimeoutMs;
    const requestTimeoutMs = options.requestTimeoutMs ?? httpServerDefaults.requestTimeoutMs;
    const shortest = Math.min(keepAliveTimeoutMs, headersTimeoutMs, requestTimeoutMs);
    const checkIntervalMs = options.checkIntervalMs ?? Math.max(1, Math.min(httpServerDefaults.checkIntervalMs, Math.floor(shortest / 5)));
    if (!(keepAliveTimeoutMs > 0 && headersTimeoutMs > 0 && requestTimeoutMs >= headersTimeoutMs && checkIntervalMs > 0)) {
      throw new RangeError("HTTP server timeouts must be positive and requestTimeoutMs at least headersTimeoutMs");
    }
    this.settings = { keepAliveTimeoutMs, headersTimeoutMs, requestTimeoutMs, checkIntervalMs };
    this.pipelineMax = options.pipelineMax ?? httpServerDefaults.pipelineMax;
    this.keepAliveLine = `keep-alive: timeout=${Math.max(1, Math.floor(keepAliveTimeoutMs / 1000))}\r\n`;
    this.wallClockMs = options.wallClockMs ?? Date.now;
    this.monotonicMs = options.monotonicMs ?? (() => performance.now());
    this.coarseNowMs = this.monotonicMs();
    this.net = createServer({ allowHalfOpen: true, noDelay: true, keepAlive: true }, (socket) => this.accept(socket));
    this.net.on("error", (error) => this.emit("error", error));
  }

  listen(port: number, host: string, listening?: () => void): this {
    this.net.listen(port, host, () => {
      this.startSweep();
      listening?.();
    });
    return this;
  }

  address(): AddressInfo | string | null {
    return this.net.address();
  }

  /**
   * Stops accepting connections; `callback` runs once every connection closed. Idle ones close
   * now; the others stay open (as with node:http) until a response closes them (the RestApi
   * answers 503 with Connection: close while stopping) or closeAllConnections.
   */
  close(callback?: (error?: Error) => void): this {
    this.closing = true;
    this.net.close((error) => {
      this.stopSweep();
      callback?.(error);
    });
    this.closeIdleConnections();
    return this;
  }

  closeIdleConnections(): void {
    for (const connection of [...this.connections]) if (connection.idle) connection.destroy();
  }

  closeAllConnections(): void {
    for (const connection of [...this.connections]) connection.destroy();
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  dateLine(): string {
    const now = this.wallClockMs();
    const second = Math.floor(now / 1000);
    if (second !== this.dateSecond) {
      this.dateSecond = second;
      this.date = `date: ${new Date(second * 1000).toUTCString()}\r\n`;
    }
    return this.date;
  }

  connectionClosed(connection: HttpConnection): void {
    this.connections.delete(connection);
  }

  handlerFailed(error: unknown): void {
    if (this.options.onHandlerError !== undefined) this.options.onHandlerError(error);
    else
      process.nextTick(() => {
        throw error;
      });
  }

  private accept(socket: Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    this.connections.add(new HttpConnection(socket, this));
  }

  private startSweep(): void {
    if (this.sweep !== undefined) return;
    this.sweep = setInterval(() => this.checkTimeouts(), this.settings.checkIntervalMs);
    this.sweep.unref();
  }

  private stopSweep(): void {
    clearInterval(this.sweep);
    this.sweep = undefined;
  }

  /** One pass over the connections: slow heads and bodies get 408, idle keep-alive connections close. */
  checkTimeouts(): void {
    const now = (this.coarseNowMs = this.monotonicMs());
    const { keepAliveTimeoutMs, headersTimeoutMs, requestTimeoutMs } = this.settings;
    for (const connection of [...this.connections]) {
      if (connection.inHead) {
        if (now - connection.headStartMs > headersTimeoutMs) connection.timeOut("headers", headersTimeoutMs);
      } else if (connection.inBody) {
        if (now - connection.headStartMs > requestTimeoutMs) connection.timeOut("request", requestTimeoutMs);
      } else if (connection.idle) {
        const limit = connection.served ? keepAliveTimeoutMs : headersTimeoutMs;
        if (now - Math.max(connection.idleSinceMs, connection.headStartMs) > limit) connection.destroy();
      }
    }
  }
}
