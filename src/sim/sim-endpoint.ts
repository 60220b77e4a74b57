import { assert } from "../assert.js";
import type { Network, NodeId, RequestHandler, RequestResult } from "../runtime/network.js";
import type { EventHandle, Scheduler } from "./scheduler.js";

/**
 * One incarnation of a simulated node's network interface: the `Network` its Runtime holds.
 * It keeps the requests this incarnation is waiting on and their deadlines in virtual time;
 * the simulated network (sim-network.ts) carries the bytes.
 *
 * Two ways to stop: `close()` is an orderly shutdown (waiting requests resolve "closed");
 * `kill()` is a crash: the process is gone, so its waiting requests never resolve, their
 * deadlines are cancelled, and anything the dead incarnation still tries to send vanishes.
 */
export interface SimEndpointFabric {
  readonly scheduler: Scheduler;
  isKnown(nodeId: NodeId): boolean;
  nextRequestId(): number;
  /** Encodes and transmits; throws FrameTooLarge on an oversized message. */
  transmitRequest(from: SimEndpoint, to: NodeId, id: number, message: unknown): void;
  transmitOneWay(from: SimEndpoint, to: NodeId, message: unknown): void;
  onTimeout(from: NodeId, to: NodeId): void;
}

export interface SimEndpointOptions {
  /** Requests waiting on one peer; beyond it a request fails "overloaded" at once. */
  peerInFlightMax: number;
}

interface Waiting {
  to: NodeId;
  resolve: (result: RequestResult<unknown>) => void;
  deadline: EventHandle;
}

export class SimEndpoint implements Network {
  private handlerValue: RequestHandler | undefined;
  private readonly waiting = new Map<number, Waiting>();
  private readonly inFlightByPeer = new Map<NodeId, number>();
  private state: "open" | "closed" | "killed" = "open";

  constructor(
    readonly nodeId: NodeId,
    private readonly fabric: SimEndpointFabric,
    private readonly options: SimEndpointOptions,
  ) {}

  get handler(): RequestHandler | undefined {
    return this.handlerValue;
  }

  get isOpen(): boolean {
    return this.state === "open";
  }

  /** Requests this incarnation is still waiting on. */
  get waitingCount(): number {
    return this.waiting.size;
  }

  serve(handler: RequestHandler): void {
    this.handlerValue = handler;
  }

  request<T = unknown>(to: NodeId, message: unknown, options: { timeoutMs: number }): Promise<RequestResult<T>> {
    if (!(options.timeoutMs >= 0)) assert(false, `request timeout must not be negative, got ${options.timeoutMs} ms`);
    if (this.state === "killed") return new Promise<never>(() => undefined);
    if (this.state === "closed") return Promise.resolve({ ok: false, error: "closed" });
    if (!this.fabric.isKnown(to)) return Promise.resolve({ ok: false, error: "unreachable" });
    const inFlight = this.inFlightByPeer.get(to) ?? 0;
    if (inFlight >= this.options.peerInFlightMax) return Promise.resolve({ ok: false, error: "overloaded" });
    const id = this.fabric.nextRequestId();
    return new Promise<RequestResult<T>>((resolve) => {
      const deadline = this.fabric.scheduler.after(options.timeoutMs, () => {
        this.fabric.onTimeout(this.nodeId, to);
        this.settle(id, { ok: false, error: "timeout" });
      }, `deadline ${this.nodeId}>${to} #${id}`);
      this.waiting.set(id, { to, resolve: resolve as Waiting["resolve"], deadline });
      this.inFlightByPeer.set(to, inFlight + 1);
      try {
        this.fabric.transmitRequest(this, to, id, message);
      } catch (error) {
        const waiting = this.forget(id);
        if (waiting !== undefined) this.fabric.scheduler.cancel(waiting.deadline);
        throw error;
      }
    });
  }

  send(to: NodeId, message: unknown): void {
    if (this.state !== "open") return;
    this.fabric.transmitOneWay(this, to, message);
  }

  /** A reply arrived for request `id` (ignored when it is no longer waited on). */
  settle(id: number, result: RequestResult<unknown>): void {
    const waiting = this.forget(id);
    if (waiting === undefined) return;
    this.fabric.scheduler.cancel(waiting.deadline);
    waiting.resolve(result);
  }

  /** Orderly shutdown: waiting requests resolve "closed", new ones fail "closed". */
  close(): void {
    if (this.state !== "open") return;
    this.state = "closed";
    for (const id of [...this.waiting.keys()]) this.settle(id, { ok: false, error: "closed" });
  }

  /** Crash: waiting requests never resolve; nothing more goes out or comes in. */
  kill(): void {
    this.state = "killed";
    for (const waiting of this.waiting.values()) this.fabric.scheduler.cancel(waiting.deadline);
    this.waiting.clear();
    this.inFlightByPeer.clear();
  }

  private forget(id: number): Waiting | undefined {
    const waiting = this.waiting.get(id);
    if (waiting === undefined) return undefined;
    this.waiting.delete(id);
    const left = (this.inFlightByPeer.get(waiting.to) ?? 1) - 1;
    if (left === 0) this.inFlightByPeer.delete(waiting.to);
    else this.inFlightByPeer.set(waiting.to, left);
    return waiting;
  }
}
