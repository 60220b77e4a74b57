import { randomBytes } from "node:crypto";
import { connect, createServer, type Server, type Socket } from "node:net";
import type { Network, NodeId, RequestHandler, RequestResult } from "../runtime/network.js";
import type { Clock, Random, Timers } from "../runtime/runtime.js";
import type { Limits } from "../limits.js";
import { assert } from "../assert.js";
import { ShoalError } from "../errors.js";
import { NodeTimers } from "../runtime/node-runtime.js";
import { SeededRandom } from "../runtime/seeded-random.js";
import { PeerLink, type PeerAddress } from "./peer-link.js";
import { remoteFailure } from "./remote-failure.js";
import { RpcConnection, type RpcConnectionOptions, type RpcResult } from "./rpc-connection.js";

export interface TcpNetworkOptions {
  nodeId: NodeId;
  limits: Pick<Limits, "frameBytesMax" | "peerInFlightMax">;
  /** The runtime's timers and random; real ones when absent. */
  timers?: Timers;
  random?: Random;
  /** Measures request deadlines; a monotonic clock (performance.now) when absent. */
  clock?: Clock;
  /** Dialing plus the version handshake; default 5 s. */
  handshakeTimeoutMs?: number;
  /** Reconnect backoff after failed dials; defaults 50 ms doubling to 5 s. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** One-way sends held per peer while its connection shakes hands; default 1024. */
  sendsQueuedMax?: number;
  /** Bytes queued per connection towards the kernel; default twice frameBytesMax. */
  writeBufferBytesMax?: number;
  /** Address book entries; default 1024. */
  peersMax?: number;
  /** Connections accepted at once (peers and clients); default 1024. */
  acceptedConnectionsMax?: number;
  /** Transport problems worth a log line: refused handshakes, oversized frames, lost peers. */
  onError?: (error: ShoalError) => void;
}

/** The node id found at an address, or why not (a message for the log). */
export type IdentifyResult = { ok: true; nodeId: NodeId } | { ok: false; error: string };

const defaults = {
  handshakeTimeoutMs: 5000,
  backoffBaseMs: 50,
  backoffMaxMs: 5000,
  sendsQueuedMax: 1024,
  peersMax: 1024,
  acceptedConnectionsMax: 1024,
};

/**
 * The node-to-node Network over TCP (DESIGN.md, "Node-to-node transport"). One node owns one
 * TcpNetwork: it listens for peers and clients, keeps an address book that membership can
 * update (`setPeer`), and holds at most one outgoing connection per peer, dialed on demand
 * (peer-link.ts). Each node sends its requests over the connection it dialed and answers the
 * requests that arrive on connections it accepted.
 *
 * Results (runtime/network.ts): `unreachable` for a node not in the address book, a failed
 * dial, a refused handshake, a dial in backoff, or a connection that broke with the request in
 * flight; `timeout` after the request's deadline; `overloaded` at once when the peer already has
 * limits.peerInFlightMax requests in flight from us (or our write buffer is full, or the peer
 * said so); `closed` after close(). A handler that throws or rejects reaches the caller as
 * `{ ok: true, reply: RemoteFailure }`: test it with `isRemoteFailure` (remote-failure.ts).
 * The one exception to "failures are values": a message whose frame would pass
 * limits.frameBytesMax rejects with ShoalError FrameTooLarge, since the limits size frames for
 * the largest item and such a message is a bug in its builder.
 *
 * `send` is fire and forget: it is dropped for an unknown peer, a dial in backoff, or a full
 * buffer, and lost with a connection that breaks. A node is not special-cased as its own peer:
 * coordinators call their local replica directly (DESIGN.md, "How a request flows").
 *
 * Example:
 *   const network = new TcpNetwork({ nodeId: "a", limits: defaultLimits });
 *   const port = await network.listen("127.0.0.1", 0);
 *   network.serve((from, message) => ({ pong: message }));
 *   network.setPeer("b", "127.0.0.1", 9001);
 *   const result = await network.request("b", { ping: 1 }, { timeoutMs: 500 });
 */
export class TcpNetwork implements Network {
  readonly nodeId: NodeId;
  private handler: RequestHandler | undefined;
  private server: Server | null = null;
  private readonly peers = new Map<NodeId, PeerLink>();
  private readonly accepted = new Set<RpcConnection>();
  private readonly timers: Timers;
  private readonly ownTimers: NodeTimers | null;
  private readonly random: Random;
  private readonly clock: Clock;
  private readonly settings: Required<Omit<TcpNetworkOptions, "timers" | "random" | "clock" | "onError" | "nodeId" | "limits">>;
  private clientSerial = 0;
  private closed = false;

  constructor(private readonly options: TcpNetworkOptions) {
    assert(options.nodeId.length > 0, "a node needs a node id");
    this.nodeId = options.nodeId;
    this.ownTimers = options.timers === undefined ? new NodeTimers() : null;
    this.timers = options.timers ?? this.ownTimers!;
    this.random = options.random ?? new SeededRandom(randomBytes(6).readUIntBE(0, 6));
    this.clock = options.clock ?? monotonicClock;
    this.settings = {
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? defaults.handshakeTimeoutMs,
      backoffBaseMs: options.backoffBaseMs ?? defaults.backoffBaseMs,
      backoffMaxMs: options.backoffMaxMs ?? defaults.backoffMaxMs,
      sendsQueuedMax: options.sendsQueuedMax ?? defaults.sendsQueuedMax,
      writeBufferBytesMax: options.writeBufferBytesMax ?? 2 * options.limits.frameBytesMax,
      peersMax: options.peersMax ?? defaults.peersMax,
      acceptedConnectionsMax: options.acceptedConnectionsMax ?? defaults.acceptedConnectionsMax,
    };
    assert(this.settings.writeBufferBytesMax >= options.limits.frameBytesMax, "writeBufferBytesMax must admit one largest frame");
  }

  /** Starts accepting connections; resolves with the bound port (useful with port 0). */
  async listen(host: string, port: number): Promise<number> {
    assert(this.server === null && !this.closed, "listen is called once, before close");
    const server = createServer((socket) => this.accept(socket));
    server.maxConnections = this.settings.acceptedConnectionsMax;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => reject(new ShoalError("PeerListenFailed", 500, `cannot listen for peers on ${host}:${port}: ${error.message}`));
      server.once("error", onError);
      server.listen(port, host, () => {
        server.off("error", onError);
        resolve();
      });
    });
    const address = server.address();
    assert(address !== null && typeof address === "object", "a TCP server has an address");
    return address.port;
  }

  /** Adds or moves a peer. A moved peer's connection closes; its requests fail `unreachable`. */
  setPeer(nodeId: NodeId, host: string, port: number): void {
    assert(nodeId.length > 0 && host.length > 0 && Number.isInteger(port) && port > 0 && port < 65536, `bad peer address for ${nodeId}: ${host}:${port}`);
    const existing = this.peers.get(nodeId);
    if (existing !== undefined && existing.address.host === host && existing.address.port === port) return;
    if (existing === undefined && this.peers.size >= this.settings.peersMax) {
      throw new ShoalError("TooManyPeers", 500, `cannot add peer ${nodeId}: the address book holds ${this.peers.size} peers; the limit is ${this.settings.peersMax}`);
    }
    existing?.close("unreachable");
    this.peers.set(nodeId, this.link(nodeId, { host, port }));
  }

  /**
   * Learns the node id listening at `host:port` with one handshake (dialing as this node,
   * expecting any id), then hangs up. This is how a node that knows only a seed's address
   * (`--join host:peerport`) finds the id to register it under with `setPeer`.
   */
  identify(host: string, port: number, options: { timeoutMs: number }): Promise<IdentifyResult> {
    if (this.closed) return Promise.resolve({ ok: false, error: "closed" });
    assert(host.length > 0 && Number.isInteger(port) && port > 0 && port < 65536, `bad seed address ${host}:${port}`);
    return new Promise((resolve) => {
      let settled = false;
      const connection: RpcConnection = new RpcConnection({
        ...this.connectionBounds(),
        handshakeTimeoutMs: Math.min(options.timeoutMs, this.settings.handshakeTimeoutMs),
        socket: connect({ host, port }),
        side: "dial",
        self: { role: "node", nodeId: this.nodeId },
        expectedPeerNodeId: null,
        peerDescription: `seed at ${host}:${port}`,
        handler: () => undefined,
        onOpen: (peerNodeId) => {
          settled = true;
          resolve(peerNodeId === null ? { ok: false, error: `${host}:${port} answered without a node id` } : { ok: true, nodeId: peerNodeId });
          connection.close();
        },
        onClose: (error) => {
          if (!settled) resolve({ ok: false, error: error?.message ?? `connection to ${host}:${port} closed during the handshake` });
          settled = true;
        },
      });
    });
  }

  /** Forgets a peer; its pending requests fail `unreachable`. */
  removePeer(nodeId: NodeId): void {
    this.peers.get(nodeId)?.close("unreachable");
    this.peers.delete(nodeId);
  }

  request<T = unknown>(to: NodeId, message: unknown, options: { timeoutMs: number }): Promise<RequestResult<T>> {
    if (this.closed) return Promise.resolve({ ok: false, error: "closed" });
    const connection = this.peers.get(to)?.connection();
    if (connection === undefined) return Promise.resolve({ ok: false, error: "unreachable" });
    return connection.request<T>(message, options.timeoutMs).then(asRequestResult);
  }

  send(to: NodeId, message: unknown): void {
    if (this.closed) return;
    this.peers.get(to)?.connection()?.send(message);
  }

  serve(handler: RequestHandler): void {
    this.handler = handler;
  }

  /** Ends every connection, fails pending requests with `closed`, stops listening. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const link of this.peers.values()) link.close("closed");
    for (const connection of this.accepted) connection.close();
    this.accepted.clear();
    this.ownTimers?.clearAll();
    const server = this.server;
    if (server !== null) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private link(peerNodeId: NodeId, address: PeerAddress): PeerLink {
    return new PeerLink({
      address,
      timers: this.timers,
      random: this.random,
      backoffBaseMs: this.settings.backoffBaseMs,
      backoffMaxMs: this.settings.backoffMaxMs,
      dial: (to, events) =>
        new RpcConnection({
          ...this.connectionBounds(),
          socket: connect({ host: to.host, port: to.port }),
          side: "dial",
          self: { role: "node", nodeId: this.nodeId },
          expectedPeerNodeId: peerNodeId,
          peerDescription: `node ${peerNodeId} at ${to.host}:${to.port}`,
          onOpen: events.onOpen,
          onClose: (error, opened) => {
            if (error !== null) this.options.onError?.(error);
            events.onClose(error, opened);
          },
        }),
    });
  }

  private accept(socket: Socket): void {
    if (this.closed) return void socket.destroy();
    const connection: RpcConnection = new RpcConnection({
      ...this.connectionBounds(),
      socket,
      side: "accept",
      self: { role: "node", nodeId: this.nodeId },
      expectedPeerNodeId: null,
      clientLabel: `client:${++this.clientSerial}`,
      peerDescription: `${socket.remoteAddress}:${socket.remotePort}`,
      onClose: (error) => {
        this.accepted.delete(connection);
        if (error !== null) this.options.onError?.(error);
      },
    });
    this.accepted.add(connection);
  }

  private connectionBounds(): Omit<RpcConnectionOptions, "socket" | "side" | "self" | "expectedPeerNodeId" | "peerDescription"> {
    return {
      frameBytesMax: this.options.limits.frameBytesMax,
      inFlightMax: this.options.limits.peerInFlightMax,
      servedInFlightMax: this.options.limits.peerInFlightMax,
      sendsQueuedMax: this.settings.sendsQueuedMax,
      writeBufferBytesMax: this.settings.writeBufferBytesMax,
      handshakeTimeoutMs: this.settings.handshakeTimeoutMs,
      timers: this.timers,
      clock: this.clock,
      handler: () => this.handler,
      onError: this.options.onError,
    };
  }
}

/** Deadlines need elapsed time, not the wall clock (which may jump). */
const monotonicClock: Clock = { nowMs: () => performance.now() };

/** The Network's result shape: a remote handler's error becomes a RemoteFailure reply. */
function asRequestResult<T>(result: RpcResult<T>): RequestResult<T> {
  if (result.ok || result.error !== "remote") return result as RequestResult<T>;
  return { ok: true, reply: remoteFailure(result.message) as T };
}
