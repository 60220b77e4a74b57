import type { Limits } from "../limits.js";
import type { NodeId } from "../runtime/network.js";
import type { Clock, Timers } from "../runtime/runtime.js";
import { connectToNode } from "../transport/client-connection.js";
import type { RpcConnection } from "../transport/rpc-connection.js";
import { clientMessageTypes, type ClientReply } from "./client-messages.js";

/**
 * The Shoal client's connections: at most one per cluster member, dialed on first use, plus
 * a short local memory of members that just failed (so requests go to the next replica instead
 * of waiting on a dead one again). Bounded by the member count, which the ring bounds.
 *
 * A connection is handed out only once it is open: `open` dials, and the first request on a new
 * connection is a `client.ping`. That matters for writes: a write is sent only on an open
 * connection, so a failure before that point means the node never saw it and another replica
 * may take it, while a failure after it leaves the outcome unknown (shoal-client.ts).
 */
export interface NodeAddress {
  readonly host: string;
  readonly peerPort: number;
}

export interface NodeConnectionsOptions {
  timers: Timers;
  /** Monotonic ms (performance.now) for deadlines and down marks. */
  clock: Clock;
  limits: Pick<Limits, "frameBytesMax" | "peerInFlightMax">;
  /** Dial, handshake and the first ping together. */
  connectTimeoutMs: number;
  /** How long a member that failed is tried only after the others. */
  nodeDownMs: number;
}

export type OpenResult = { ok: true; connection: RpcConnection; ringVersion: number } | { ok: false; message: string };

export class NodeConnections {
  private addresses = new Map<NodeId, NodeAddress>();
  private readonly connections = new Map<NodeId, RpcConnection>();
  private readonly opening = new Map<NodeId, Promise<OpenResult>>();
  private readonly downUntilMs = new Map<NodeId, number>();
  private closed = false;

  constructor(private readonly options: NodeConnectionsOptions) {}

  /** The members' peer addresses; connections of members that left or moved are closed. */
  setAddresses(addresses: ReadonlyMap<NodeId, NodeAddress>): void {
    for (const [id, connection] of this.connections) {
      const next = addresses.get(id);
      const previous = this.addresses.get(id);
      if (next === undefined || previous === undefined || next.host !== previous.host || next.peerPort !== previous.peerPort) {
        connection.close("unreachable");
        this.connections.delete(id);
      }
    }
    for (const id of this.downUntilMs.keys()) if (!addresses.has(id)) this.downUntilMs.delete(id);
    this.addresses = new Map(addresses);
  }

  /** Keeps an open connection made before the addresses were known (the seed's). */
  adopt(id: NodeId, connection: RpcConnection): void {
    if (this.closed || !connection.isOpen || this.connections.has(id) || !this.addresses.has(id)) {
      connection.close();
      return;
    }
    this.connections.set(id, connection);
  }

  knows(id: NodeId): boolean {
    return this.addresses.has(id);
  }

  /** True while a recent failure of `id` has not yet expired. */
  isDown(id: NodeId): boolean {
    const until = this.downUntilMs.get(id);
    if (until === undefined) return false;
    if (this.options.clock.nowMs() < until) return true;
    this.downUntilMs.delete(id);
    return false;
  }

  markDown(id: NodeId): void {
    if (this.addresses.has(id)) this.downUntilMs.set(id, this.options.clock.nowMs() + this.options.nodeDownMs);
  }

  /** An open connection to `id`, dialing (once, however many callers wait) when there is none. */
  open(id: NodeId): Promise<OpenResult> {
    const existing = this.connections.get(id);
    if (existing !== undefined && existing.isOpen) return Promise.resolve({ ok: true, connection: existing, ringVersion: -1 });
    const pending = this.opening.get(id);
    if (pending !== undefined) return pending;
    const opened = this.dial(id).finally(() => this.opening.delete(id));
    this.opening.set(id, opened);
    return opened;
  }

  /** Closes every connection; requests in flight fail `closed`. */
  close(): void {
    this.closed = true;
    for (const connection of this.connections.values()) connection.close();
    this.connections.clear();
  }

  private async dial(id: NodeId): Promise<OpenResult> {
    const address = this.addresses.get(id);
    if (this.closed) return { ok: false, message: "the client is closed" };
    if (address === undefined) return { ok: false, message: `node ${id} is not a member of the ring this client knows` };
    this.connections.get(id)?.close();
    this.connections.delete(id);
    const connection = connectToNode({
      host: address.host,
      port: address.peerPort,
      expectedNodeId: id,
      limits: this.options.limits,
      timers: this.options.timers,
      clock: this.options.clock,
      handshakeTimeoutMs: this.options.connectTimeoutMs,
    });
    const result = await connection.request<ClientReply>({ type: clientMessageTypes.ping }, this.options.connectTimeoutMs);
    if (result.ok && connection.isOpen && !this.closed && this.addresses.get(id) === address) {
      this.connections.set(id, connection);
      const ringVersion = typeof result.reply?.ringVersion === "number" ? result.reply.ringVersion : -1;
      return { ok: true, connection, ringVersion };
    }
    connection.close();
    this.markDown(id);
    const why = result.ok ? "the connection closed" : result.error === "remote" ? result.message : result.error;
    return { ok: false, message: `cannot reach node ${id} at ${address.host}:${address.peerPort}: ${why}` };
  }
}
