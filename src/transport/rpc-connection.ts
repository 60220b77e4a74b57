import type { Socket } from "node:net";
import type { RequestHandler, RequestResult } from "../runtime/network.js";
import type { Clock, TimerHandle, Timers } from "../runtime/runtime.js";
import { assert } from "../assert.js";
import { ShoalError } from "../errors.js";
import { FrameDecoder, FrameEncoder, PayloadDecoder, frameTooLargeError } from "./frame-codec.js";
import { FrameWriter } from "./frame-writer.js";
import { PendingRequests } from "./pending-requests.js";
import { describeThrown } from "./remote-failure.js";
import { checkHello, checkWelcome, parseWireMessage, protocolVersion, wire, type PeerRole, type WireMessage } from "./wire-protocol.js";

/**
 * A connection's request result: a Network's failures plus `remote`, the serving handler's
 * thrown error (TcpNetwork turns it into a RemoteFailure reply; see remote-failure.ts).
 */
export type RpcResult<T = unknown> = RequestResult<T> | { ok: false; error: "remote"; message: string };

export interface RpcConnectionOptions {
  socket: Socket;
  /** `dial`: we opened the socket and say hello first. `accept`: we wait for the hello. */
  side: "dial" | "accept";
  /** Our role and id; a `client` has no node id and serves nothing. */
  self: { role: PeerRole; nodeId: string | null };
  /** Dial side: the node we mean to reach (null: any, e.g. a client asking for the ring). */
  expectedPeerNodeId: string | null;
  /** Accept side: the `from` handed to the handler for a peer that is a client, not a node. */
  clientLabel?: string;
  /** For error messages: who is at the other end, e.g. `node b at 127.0.0.1:9001`. */
  peerDescription: string;
  frameBytesMax: number;
  /** Our requests awaiting replies on this connection; beyond it, `overloaded`. */
  inFlightMax: number;
  /** The peer's requests our handler is running; beyond it, they get `overloaded`. */
  servedInFlightMax: number;
  /** One-way sends held while the handshake runs; beyond it, sends are dropped. */
  sendsQueuedMax: number;
  /** Bytes queued towards the kernel; beyond it, sends are dropped and requests `overloaded`. */
  writeBufferBytesMax: number;
  /** Dialing plus the handshake must finish within this. */
  handshakeTimeoutMs: number;
  timers: Timers;
  /** Measures request deadlines; should be monotonic. */
  clock: Clock;
  /** Looked up per message, so serve() may be called after connections exist. */
  handler: () => RequestHandler | undefined;
  onOpen?: (peerNodeId: string | null) => void;
  /** `error` is null when we closed it ourselves; `opened` says whether the handshake finished. */
  onClose?: (error: ShoalError | null, opened: boolean) => void;
  /** Problems that do not close the connection, e.g. a handler failing on a one-way send. */
  onError?: (error: ShoalError) => void;
}

/** Frames before the handshake are tiny; a stranger cannot make us allocate frameBytesMax. */
const handshakeFrameBytesMax = 4096;
const requestIdModulus = 2 ** 31;

type State = "connecting" | "handshaking" | "open" | "closed";

export function transportError(code: string, message: string): ShoalError {
  return new ShoalError(code, 502, message);
}

/**
 * One TCP connection speaking Shoal's protocol (wire-protocol.ts): the handshake, then
 * requests multiplexed by id with a deadline each, replies, one-way sends, and serving the
 * peer's requests with `handler`. The same class serves both ends and the Shoal client (a
 * `client` role dialing with no node id). It never queues without bound: in-flight requests,
 * served requests, sends held during the handshake and write-buffer bytes are all capped.
 */
export class RpcConnection {
  private state: State;
  private readonly pending: PendingRequests<RpcResult>;
  private nextRequestId = 1;
  private served = 0;
  private sendsQueued = 0;
  private opened = false;
  private closeFailure: "closed" | "unreachable" = "unreachable";
  private peerNodeId: string | null = null;
  private readonly handshakeTimer: TimerHandle;
  private readonly decoder = new FrameDecoder(handshakeFrameBytesMax);
  private readonly payloads = new PayloadDecoder();
  private readonly encoder: FrameEncoder;
  private readonly writer: FrameWriter;
  private readonly onPayload = (payload: Uint8Array) => this.receive(payload);

  constructor(private readonly options: RpcConnectionOptions) {
    assert(options.side === "dial" || options.self.nodeId !== null, "the accepting side of a connection must be a node");
    assert(options.inFlightMax > 0 && options.servedInFlightMax > 0 && options.sendsQueuedMax >= 0, "connection bounds must be positive");
    const socket = options.socket;
    this.pending = new PendingRequests<RpcResult>(options.timers, options.clock, { ok: false, error: "timeout" });
    this.encoder = new FrameEncoder(options.frameBytesMax);
    this.writer = new FrameWriter(socket);
    this.state = socket.connecting ? "connecting" : "handshaking";
    this.handshakeTimer = options.timers.setTimeout(() => this.handshakeTimedOut(), options.handshakeTimeoutMs);
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", (error: Error) => this.fail(transportError("PeerUnreachable", `connection to ${options.peerDescription} failed: ${error.message}`)));
    socket.on("close", () => this.fail(transportError("ConnectionLost", `connection to ${options.peerDescription} closed`)));
    if (options.side === "dial") {
      if (socket.connecting) socket.once("connect", () => this.sayHello());
      else this.sayHello();
    }
  }

  get isOpen(): boolean {
    return this.state === "open";
  }

  get isClosed(): boolean {
    return this.state === "closed";
  }

  /** Our requests awaiting a reply (including those waiting for the handshake). */
  get inFlight(): number {
    return this.pending.size;
  }

  /** The node at the other end, once the handshake told us (null for a client peer). */
  get remoteNodeId(): string | null {
    return this.peerNodeId;
  }

  /** Sends `body` and resolves with its reply, a failure, or `timeout` after `timeoutMs`. */
  request<T = unknown>(body: unknown, timeoutMs: number): Promise<RpcResult<T>> {
    if (this.state === "closed") return Promise.resolve({ ok: false, error: this.closeFailure });
    if (this.pending.size >= this.options.inFlightMax) return Promise.resolve({ ok: false, error: "overloaded" });
    if (this.writer.pendingBytes > this.options.writeBufferBytesMax) return Promise.resolve({ ok: false, error: "overloaded" });
    const requestId = this.takeRequestId();
    let frame: Buffer;
    try {
      frame = this.encoder.encode(wire.request(requestId, body));
    } catch (error) {
      return Promise.reject(error as Error); // FrameTooLarge: the caller built a message the limits forbid
    }
    return new Promise<RpcResult<T>>((resolve) => {
      this.pending.add(requestId, resolve as (result: RpcResult) => void, timeoutMs);
      this.writer.enqueue(frame);
    });
  }

  /** Fire and forget; false when it was dropped (closed, or a bound was full). */
  send(body: unknown): boolean {
    if (this.state === "closed") return false;
    if (this.writer.pendingBytes > this.options.writeBufferBytesMax) return false;
    if (this.state !== "open") {
      if (this.sendsQueued >= this.options.sendsQueuedMax) return false;
      this.sendsQueued++;
    }
    this.writer.enqueue(this.encoder.encode(wire.send(body)));
    return true;
  }

  /**
   * Closes now. Pending requests resolve `failure`: `closed` when the owner shuts down,
   * `unreachable` when the peer's address changed under them.
   */
  close(failure: "closed" | "unreachable" = "closed"): void {
    this.closeFailure = failure;
    this.finish(null);
  }

  private takeRequestId(): number {
    const requestId = this.nextRequestId;
    this.nextRequestId = (this.nextRequestId + 1) % requestIdModulus;
    if (this.pending.has(requestId)) assert(false, `request id ${requestId} is still in flight`);
    return requestId;
  }

  private settle(requestId: number, result: RpcResult): void {
    // False when it timed out already: the late answer has no one to go to.
    this.pending.settle(requestId, result);
  }

  private sayHello(): void {
    if (this.state === "closed") return;
    this.state = "handshaking";
    const { role, nodeId } = this.options.self;
    this.options.socket.write(this.encoder.encode(wire.hello(role, nodeId, this.options.expectedPeerNodeId)));
  }

  private onData(chunk: Buffer): void {
    if (this.state === "closed") return;
    const result = this.decoder.push(chunk, this.onPayload);
    if (!result.ok) this.refuse(frameTooLargeError(`reading from ${this.options.peerDescription}`, result.frameBytes, result.frameBytesMax));
  }

  private receive(payload: Uint8Array): void {
    if (this.state === "closed") return;
    let message: WireMessage | undefined;
    try {
      message = parseWireMessage(this.payloads.decode(payload));
    } catch {
      message = undefined;
    }
    if (message === undefined) {
      this.refuse(transportError("ProtocolError", `${this.options.peerDescription} sent a frame that is not a Shoal protocol message`));
    } else if (this.state === "open") {
      this.receiveOpen(message);
    } else {
      this.receiveHandshake(message);
    }
  }

  private receiveHandshake(message: WireMessage): void {
    const side = this.options.side;
    if (side === "accept" && message.kind === "hello") return this.answerHello(message);
    if (side === "dial" && message.kind === "welcome") return this.acceptWelcome(message);
    if (side === "dial" && message.kind === "refuse") {
      return this.fail(transportError("HandshakeRefused", `${this.options.peerDescription} refused the connection: ${message.reason}`));
    }
    this.refuse(transportError("ProtocolError", `${this.options.peerDescription} sent ${message.kind} before the handshake finished`));
  }

  private answerHello(hello: Extract<WireMessage, { kind: "hello" }>): void {
    const nodeId = this.options.self.nodeId!;
    const check = checkHello(hello, { nodeId, version: protocolVersion });
    if (!check.ok) return this.refuse(transportError(check.code, `refused ${this.options.peerDescription}: ${check.reason}`), check.reason);
    this.options.socket.write(this.encoder.encode(wire.welcome(nodeId)));
    this.peerNodeId = hello.nodeId;
    this.open();
  }

  private acceptWelcome(welcome: Extract<WireMessage, { kind: "welcome" }>): void {
    const check = checkWelcome(welcome, { nodeId: this.options.expectedPeerNodeId, version: protocolVersion });
    if (!check.ok) return this.fail(transportError(check.code, `connection to ${this.options.peerDescription} refused: ${check.reason}`));
    this.peerNodeId = welcome.nodeId;
    this.open();
  }

  private open(): void {
    this.state = "open";
    this.opened = true;
    this.sendsQueued = 0;
    this.options.timers.clearTimeout(this.handshakeTimer);
    this.decoder.setFrameBytesMax(this.options.frameBytesMax);
    this.writer.start();
    this.options.onOpen?.(this.peerNodeId);
  }

  private receiveOpen(message: WireMessage): void {
    switch (message.kind) {
      case "reply":
        return this.settle(message.requestId, { ok: true, reply: message.body });
      case "failure":
        return this.settle(
          message.requestId,
          message.code === "overloaded" ? { ok: false, error: "overloaded" } : { ok: false, error: "remote", message: message.message },
        );
      case "request":
        return this.serveRequest(message.requestId, message.body);
      case "send":
        return this.serveSend(message.body);
      case "refuse":
        return this.fail(transportError("ConnectionRefused", `${this.options.peerDescription} closed the connection: ${message.reason}`));
      default:
        this.refuse(transportError("ProtocolError", `${this.options.peerDescription} sent ${message.kind} after the handshake`));
    }
  }

  private get from(): string {
    return this.peerNodeId ?? this.options.clientLabel ?? "client";
  }

  private serveRequest(requestId: number, body: unknown): void {
    const handler = this.options.handler();
    if (handler === undefined) {
      return this.writer.enqueue(this.encoder.encode(wire.failure(requestId, "remote", `node ${this.options.self.nodeId ?? "(client)"} serves no requests`)));
    }
    if (this.served >= this.options.servedInFlightMax) {
      return this.writer.enqueue(this.encoder.encode(wire.failure(requestId, "overloaded", `${this.served} requests already running`)));
    }
    this.served++;
    let result: unknown;
    try {
      result = handler(this.from, body);
    } catch (error) {
      return this.answer(requestId, false, error);
    }
    if (isPromiseLike(result)) {
      result.then(
        (reply) => this.answer(requestId, true, reply),
        (error: unknown) => this.answer(requestId, false, error),
      );
    } else {
      this.answer(requestId, true, result);
    }
  }

  private answer(requestId: number, ok: boolean, value: unknown): void {
    this.served--;
    if (this.state !== "open") return;
    if (this.writer.pendingBytes > this.options.writeBufferBytesMax) {
      // The peer asks but does not read its answers; buffering them would grow without bound.
      return this.fail(transportError("SlowPeer", `${this.options.peerDescription} left ${this.writer.pendingBytes} bytes of replies unread; the limit is ${this.options.writeBufferBytesMax}`));
    }
    let frame: Buffer;
    try {
      frame = ok ? this.encoder.encode(wire.reply(requestId, value)) : this.encoder.encode(wire.failure(requestId, "remote", describeThrown(value)));
    } catch (error) {
      frame = this.encoder.encode(wire.failure(requestId, "remote", `cannot send the reply: ${describeThrown(error)}`));
    }
    this.writer.enqueue(frame);
  }

  private serveSend(body: unknown): void {
    const handler = this.options.handler();
    if (handler === undefined) return;
    const reportFailure = (error: unknown) =>
      this.options.onError?.(transportError("HandlerFailed", `handling a message from ${this.options.peerDescription} failed: ${describeThrown(error)}`));
    try {
      const result = handler(this.from, body);
      if (isPromiseLike(result)) result.then(undefined, reportFailure);
    } catch (error) {
      reportFailure(error);
    }
  }

  private handshakeTimedOut(): void {
    if (this.state === "open" || this.state === "closed") return;
    this.fail(transportError("HandshakeTimeout", `no handshake with ${this.options.peerDescription} within ${this.options.handshakeTimeoutMs} ms`));
  }

  /**
   * The peer broke the protocol or was refused: tell it why in a `refuse` frame (so its side
   * can log a reason instead of a bare reset), then close. Pending requests resolve `unreachable`.
   */
  private refuse(error: ShoalError, reason = error.message): void {
    if (this.state === "closed") return;
    const socket = this.options.socket;
    this.finish(error);
    socket.end(this.encoder.encode(wire.refuse(reason)), () => socket.destroy());
  }

  /** The connection broke: pending requests resolve `unreachable`. */
  private fail(error: ShoalError): void {
    if (this.state === "closed") return;
    this.finish(error);
    this.options.socket.destroy();
  }

  private finish(error: ShoalError | null): void {
    if (this.state === "closed") return;
    this.state = "closed";
    this.options.timers.clearTimeout(this.handshakeTimer);
    this.writer.discard();
    this.pending.settleAll({ ok: false, error: this.closeFailure });
    if (error === null) this.options.socket.destroy();
    this.options.onClose?.(error, this.opened);
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === "object" || typeof value === "function") && typeof (value as { then?: unknown }).then === "function";
}
