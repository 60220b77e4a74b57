import { Packr } from "msgpackr";
import { assert } from "../assert.js";
import { ShoalError } from "../errors.js";
import { defaultLimits } from "../limits.js";
import type { NodeId, RequestResult } from "../runtime/network.js";
import type { Random } from "../runtime/runtime.js";
import { describeThrown, remoteFailure } from "../transport/remote-failure.js";
import { LinkFaults } from "./link-faults.js";
import type { Scheduler } from "./scheduler.js";
import { SimEndpoint, type SimEndpointFabric } from "./sim-endpoint.js";

/**
 * The simulated network: every simulated node's `Network` (a SimEndpoint) on one scheduler.
 * Each message is packed with msgpackr when sent and unpacked at delivery, so nodes never
 * share objects and sizes are real; it arrives after a delay drawn from the seeded Random.
 * Faults (TESTING.md, "The simulator"): loss, duplication, reordering (delay jitter), cut
 * links (symmetric and one-way partitions, the bridge), clogged links that hold messages
 * until released, and crashed nodes whose messages are dropped. Cuts and crashes are checked
 * again at delivery: a message in flight when a link is cut is lost, as on a real wire.
 *
 * Results match the TCP transport: `unreachable` for a node that never attached, `timeout`
 * for everything lost on the way (a cut, a crashed peer, loss), `overloaded` beyond
 * peerInFlightMax, `closed` after close(); a handler that throws or rejects reaches the caller
 * as `{ ok: true, reply: RemoteFailure }` (transport/remote-failure.ts).
 */
export interface NetworkFaults {
  /** One-way latency is uniform in [delayMinMs, delayMaxMs]. */
  delayMinMs: number;
  delayMaxMs: number;
  /** Extra uniform delay in [0, jitterMs): reorders messages on one link. */
  jitterMs: number;
  lossProbability: number;
  duplicateProbability: number;
}

export const calmNetworkFaults: Readonly<NetworkFaults> = Object.freeze({
  delayMinMs: 1,
  delayMaxMs: 3,
  jitterMs: 0,
  lossProbability: 0,
  duplicateProbability: 0,
});

export interface SimNetworkOptions {
  /** The network's own random stream (fork it from the run seed). */
  random: Random;
  faults?: Partial<NetworkFaults>;
  /** Messages in flight at once; more are dropped (counted as overflow). */
  inFlightMax?: number;
  /** Messages held on clogged links; more are dropped (counted as overflow). */
  heldMax?: number;
  /** Requests one endpoint may wait on per peer (limits.peerInFlightMax). */
  peerInFlightMax?: number;
  /** Encoded message bytes (limits.frameBytesMax); larger ones throw FrameTooLarge. */
  messageBytesMax?: number;
}

export const simNetworkDefaults = { inFlightMax: 200_000, heldMax: 20_000 } as const;

export interface SimNetworkStats {
  sent: number;
  delivered: number;
  duplicated: number;
  held: number;
  timeouts: number;
  bytes: number;
  dropped: { loss: number; cut: number; down: number; overflow: number; noHandler: number };
}

type Kind = "request" | "reply" | "oneway";

interface Envelope {
  kind: Kind;
  id: number;
  from: NodeId;
  to: NodeId;
  bytes: Uint8Array;
  /** The requesting incarnation (request and reply only). */
  requester: SimEndpoint | undefined;
}


export class SimNetwork implements SimEndpointFabric {
  readonly links = new LinkFaults();
  readonly stats: SimNetworkStats = {
    sent: 0, delivered: 0, duplicated: 0, held: 0, timeouts: 0, bytes: 0,
    dropped: { loss: 0, cut: 0, down: 0, overflow: 0, noHandler: 0 },
  };
  private faultsValue: NetworkFaults;
  private readonly endpoints = new Map<NodeId, SimEndpoint>();
  private readonly heldMessages: Envelope[] = [];
  private readonly packr = new Packr({ useRecords: false });
  private requestIds = 0;
  private inFlight = 0;
  private readonly random: Random;
  private readonly limits: { inFlightMax: number; heldMax: number; peerInFlightMax: number; messageBytesMax: number };

  constructor(
    readonly scheduler: Scheduler,
    options: SimNetworkOptions,
  ) {
    this.random = options.random;
    this.faultsValue = { ...calmNetworkFaults };
    this.setFaults(options.faults ?? {});
    this.limits = {
      inFlightMax: options.inFlightMax ?? simNetworkDefaults.inFlightMax,
      heldMax: options.heldMax ?? simNetworkDefaults.heldMax,
      peerInFlightMax: options.peerInFlightMax ?? defaultLimits.peerInFlightMax,
      messageBytesMax: options.messageBytesMax ?? defaultLimits.frameBytesMax,
    };
  }

  get faults(): Readonly<NetworkFaults> {
    return this.faultsValue;
  }

  setFaults(faults: Partial<NetworkFaults>): void {
    const next = { ...this.faultsValue, ...faults };
    assert(next.delayMinMs >= 0 && next.delayMinMs <= next.delayMaxMs, `network delay bounds are inverted: ${next.delayMinMs}..${next.delayMaxMs} ms`);
    assert(next.jitterMs >= 0, `network jitter must not be negative: ${next.jitterMs} ms`);
    for (const p of [next.lossProbability, next.duplicateProbability]) assert(p >= 0 && p <= 1, `a probability must be in [0, 1], got ${p}`);
    this.faultsValue = next;
  }

  /** A new incarnation of `nodeId` on the network (its first start or a restart). */
  attach(nodeId: NodeId): SimEndpoint {
    const previous = this.endpoints.get(nodeId);
    assert(previous === undefined || !previous.isOpen, `node ${nodeId} is already attached; kill or close it first`);
    const endpoint = new SimEndpoint(nodeId, this, { peerInFlightMax: this.limits.peerInFlightMax });
    this.endpoints.set(nodeId, endpoint);
    return endpoint;
  }

  /** The current incarnation of `nodeId`, if it ever attached. */
  endpoint(nodeId: NodeId): SimEndpoint | undefined {
    return this.endpoints.get(nodeId);
  }

  /** Every node that ever attached, in attach order. */
  nodeIds(): NodeId[] {
    return [...this.endpoints.keys()];
  }

  /** Crashes the current incarnation: it is down until a new one attaches. */
  kill(nodeId: NodeId): void {
    this.endpoints.get(nodeId)?.kill();
  }

  isDown(nodeId: NodeId): boolean {
    return !(this.endpoints.get(nodeId)?.isOpen ?? false);
  }

  /** Symmetric partition between two groups. */
  partition(a: readonly NodeId[], b: readonly NodeId[]): void {
    this.links.partition(a, b);
  }

  /** `from` can no longer reach `to`; the other direction still works. */
  partitionOneWay(from: readonly NodeId[], to: readonly NodeId[]): void {
    this.links.cutOneWay(from, to);
  }

  bridge(left: readonly NodeId[], right: readonly NodeId[], bridgeNode: NodeId): void {
    this.links.bridge(left, right, bridgeNode);
  }

  isolate(nodeId: NodeId): void {
    this.links.isolate(nodeId, this.nodeIds());
  }

  /** Clogs every link into and out of `nodeId`. */
  clogNode(nodeId: NodeId): void {
    for (const other of this.nodeIds()) {
      this.links.clog(nodeId, other);
      this.links.clog(other, nodeId);
    }
  }

  clogLink(from: NodeId, to: NodeId): void {
    this.links.clog(from, to);
  }

  /** Unclogs one directed link and sends on what it held, in the order it arrived. */
  unclogLink(from: NodeId, to: NodeId): void {
    this.links.unclog(from, to);
    this.releaseHeld();
  }

  unclogNode(nodeId: NodeId): void {
    for (const other of this.nodeIds()) {
      this.links.unclog(nodeId, other);
      this.links.unclog(other, nodeId);
    }
    this.releaseHeld();
  }

  /** Heals cuts and clogs (releasing held messages) and turns loss, duplication and jitter off. */
  heal(): void {
    this.links.healCuts();
    for (const [from, to] of this.links.cloggedLinks()) this.links.unclog(from, to);
    this.releaseHeld();
    this.setFaults({ lossProbability: 0, duplicateProbability: 0, jitterMs: 0 });
  }

  isKnown(nodeId: NodeId): boolean {
    return this.endpoints.has(nodeId);
  }

  nextRequestId(): number {
    return ++this.requestIds;
  }

  onTimeout(): void {
    this.stats.timeouts++;
  }

  transmitRequest(from: SimEndpoint, to: NodeId, id: number, message: unknown): void {
    this.transmit({ kind: "request", id, from: from.nodeId, to, bytes: this.encode(message), requester: from });
  }

  transmitOneWay(from: SimEndpoint, to: NodeId, message: unknown): void {
    this.transmit({ kind: "oneway", id: 0, from: from.nodeId, to, bytes: this.encode(message), requester: undefined });
  }

  private encode(message: unknown): Uint8Array {
    const bytes = this.packr.pack(message);
    if (bytes.length > this.limits.messageBytesMax) {
      throw new ShoalError("FrameTooLarge", 413, `cannot send message: frame is ${bytes.length} bytes; the limit is ${this.limits.messageBytesMax}`);
    }
    return bytes;
  }

  /** Applies loss, cuts and duplication at the sender, then schedules each copy. */
  private transmit(envelope: Envelope): void {
    this.stats.sent++;
    this.stats.bytes += envelope.bytes.length;
    const local = envelope.from === envelope.to;
    if (!local && this.links.isCut(envelope.from, envelope.to)) {
      this.stats.dropped.cut++;
      return;
    }
    const faults = this.faultsValue;
    if (!local && faults.lossProbability > 0 && this.random.next() < faults.lossProbability) {
      this.stats.dropped.loss++;
      return;
    }
    this.schedule(envelope);
    if (!local && faults.duplicateProbability > 0 && this.random.next() < faults.duplicateProbability) {
      this.stats.duplicated++;
      this.schedule(envelope);
    }
  }

  private schedule(envelope: Envelope): void {
    if (this.inFlight >= this.limits.inFlightMax) {
      this.stats.dropped.overflow++;
      return;
    }
    const f = this.faultsValue;
    let delayMs = f.delayMinMs + this.random.next() * (f.delayMaxMs - f.delayMinMs);
    if (f.jitterMs > 0) delayMs += this.random.next() * f.jitterMs;
    this.inFlight++;
    this.scheduler.after(delayMs, () => {
      this.inFlight--;
      this.deliver(envelope);
    }, `msg ${envelope.kind} ${envelope.from}>${envelope.to} #${envelope.id}`);
  }

  private deliver(envelope: Envelope): void {
    const { from, to } = envelope;
    if (from !== to && this.links.isCut(from, to)) {
      this.stats.dropped.cut++;
      return;
    }
    if (from !== to && this.links.isClogged(from, to)) {
      this.hold(envelope);
      return;
    }
    const target = envelope.kind === "reply" ? envelope.requester : this.endpoints.get(to);
    if (target === undefined || !target.isOpen) {
      this.stats.dropped.down++;
      return;
    }
    this.stats.delivered++;
    this.scheduler.trace.addBytes(envelope.bytes);
    const message = this.packr.unpack(envelope.bytes);
    if (envelope.kind === "reply") target.settle(envelope.id, message as RequestResult<unknown>);
    else this.dispatch(target, envelope, message);
  }

  /** Runs the target's handler; a request's outcome travels back as a reply message. */
  private dispatch(target: SimEndpoint, envelope: Envelope, message: unknown): void {
    const handler = target.handler;
    if (handler === undefined) {
      this.stats.dropped.noHandler++;
      return;
    }
    let outcome: Promise<unknown>;
    try {
      outcome = Promise.resolve(handler(envelope.from, message));
    } catch (error) {
      outcome = Promise.reject(error);
    }
    if (envelope.kind === "oneway") {
      outcome.catch(() => undefined);
      return;
    }
    outcome.then(
      (reply) => this.reply(target, envelope, { ok: true, reply }),
      (error: unknown) => this.reply(target, envelope, { ok: true, reply: remoteFailure(describeThrown(error)) }),
    );
  }

  private reply(server: SimEndpoint, request: Envelope, result: RequestResult<unknown>): void {
    if (!server.isOpen) return; // the server crashed while handling: no reply
    let bytes: Uint8Array;
    try {
      bytes = this.encode(result);
    } catch (error) {
      bytes = this.encode({ ok: true, reply: remoteFailure(describeThrown(error)) }); // a reply too large to send
    }
    this.transmit({ kind: "reply", id: request.id, from: request.to, to: request.from, bytes, requester: request.requester });
  }

  private hold(envelope: Envelope): void {
    if (this.heldMessages.length >= this.limits.heldMax) {
      this.stats.dropped.overflow++;
      return;
    }
    this.stats.held++;
    this.heldMessages.push(envelope);
  }

  /** Sends on every held message whose link is no longer clogged, with a fresh delay. */
  private releaseHeld(): void {
    let kept = 0;
    for (const envelope of this.heldMessages) {
      if (this.links.isClogged(envelope.from, envelope.to)) this.heldMessages[kept++] = envelope;
      else this.schedule(envelope);
    }
    this.heldMessages.length = kept;
  }
}
