import { performance } from "node:perf_hooks";
import { ShoalError } from "../errors.js";
import { defaultLimits } from "../limits.js";
import { parseSeedAddress } from "../node/seed-address.js";
import type { NodeId } from "../runtime/network.js";
import type { Clock } from "../runtime/runtime.js";
import { NodeTimers } from "../runtime/node-runtime.js";
import { connectToNode } from "../transport/client-connection.js";
import {
  clientMessageTypes,
  type ClientAnswers,
  type ClientReply,
  type ClientRequest,
  type ClientRingAnswer,
  type WireItemKey,
  type WireItemVersion,
} from "../client-protocol/client-messages.js";
import { clientFailureError } from "../client-protocol/client-failure-error.js";
import { ClientRingView } from "../client-protocol/client-ring-view.js";
import { NodeConnections } from "../client-protocol/node-connections.js";
import { hlcPhysicalMs } from "../versioning/hybrid-logical-clock.js";

/**
 * The partition-aware Shoal client (issue 3, item 6; the Dynamo paper's client-driven
 * coordination, section 6.4): it fetches the ring from any seed, hashes each key to its
 * partition itself, and sends the request straight to the first reachable node of the key's
 * preference list over the binary protocol (one connection per node, opened on first use), so
 * no request takes an extra hop through a load balancer or a forwarding node.
 *
 * - Writes go to the key's first live primary, every time, for every table. On a strong table
 *   that makes one node the proposer of each key, and its piggybacked promises (paxos/README.md,
 *   "One round trip for a proposer's next change") let a key's next write skip the prepare:
 *   spreading a key's writes over nodes would cost a prepare round almost every time.
 * - Ring changes: every answer carries the node's ring version; a newer one makes the client
 *   refetch the ring (member states are refreshed the same way every `ringRefreshIntervalMs`).
 * - Reads (get, list) are idempotent: on a transport failure, a timeout, or an Unavailable or
 *   Overloaded answer they move on to the next replica, at most `readAttemptsMax` nodes.
 * - Writes (put, delete) are not retried once sent: a write is only sent on an open
 *   connection, so it moves on to the next replica only when the node never got it (it could
 *   not be reached, or refused it as overloaded). A write that was sent and then timed out or
 *   lost its connection fails with `WriteOutcomeUnknown`: it may or may not have happened; read
 *   the key to find out.
 * - Failures are ShoalErrors with the node's codes (TableNotFound, Unavailable,
 *   PreconditionFailed, TooManySiblings, ...).
 *
 * Example:
 *   import { ShoalClient } from "shoal/client";
 *   const client = await ShoalClient.connect({ seeds: ["127.0.0.1:9000"] });
 *   await client.put("cart", "user/42", "one apple", { contentType: "text/plain" });
 *   const item = await client.get("cart", "user/42");        // undefined when not found
 *   if (item !== undefined) {
 *     // Concurrent writes show up as several siblings; a write with the context replaces them.
 *     const merged = item.siblings.map((s) => new TextDecoder().decode(s.value)).join(", ");
 *     await client.put("cart", "user/42", merged, { context: item.context, w: 3 });
 *   }
 *   for await (const listed of client.list("cart", { prefix: "user/" })) console.log(listed.partitionKey);
 *   await client.close();
 */
export type ShoalBytes = Uint8Array | string;

/** A key: the partition key alone, or with a sort key (tables with a sort key). */
export type ShoalKey = ShoalBytes | { partitionKey: ShoalBytes; sortKey?: ShoalBytes };

export interface ShoalClientOptions {
  /** Peer addresses ("host:peerPort") of any nodes; the ring is fetched from the first that answers. */
  seeds: readonly string[];
  /** Per request, from send to answer; default 5000. */
  requestTimeoutMs?: number;
  /** Dialing a node, its handshake and a first ping; default 2000. */
  connectTimeoutMs?: number;
  /** Nodes a read tries before it fails; default 3. Writes try as many, but only before sending. */
  readAttemptsMax?: number;
  /** How long a node that failed is tried only after the others; default 1000. */
  nodeDownMs?: number;
  /** How often member states are refreshed when requests flow; default 5000. */
  ringRefreshIntervalMs?: number;
  /** Requests in flight per node connection; default limits.peerInFlightMax. */
  inFlightMax?: number;
}

export interface ShoalSibling {
  value: Uint8Array;
  contentType: string;
  metadata: Record<string, string>;
  /** Names this version (the REST ETag); use it in ifMatch. */
  version: string;
  lastModified: Date;
  expiresAt: Date | null;
}

export interface ShoalItem {
  /** One or more (concurrent writes are kept as siblings). */
  siblings: ShoalSibling[];
  /** The causal context: pass it with the next write to replace exactly these siblings. */
  context: string;
}

export interface ShoalReadOptions {
  r?: number;
  pr?: number;
  /** Strong tables read through the protocol by default; "eventual" reads one replica. */
  consistency?: "eventual" | "strong";
}

export interface ShoalWriteOptions {
  /** The context of the read this write follows; without it the write becomes a sibling. */
  context?: string;
  w?: number;
  dw?: number;
  pw?: number;
  /** Write only over one of these versions ("*": any live version). */
  ifMatch?: "*" | string[];
  /** "*": create only. */
  ifNoneMatch?: "*" | string[];
}

export interface ShoalPutOptions extends ShoalWriteOptions {
  contentType?: string;
  metadata?: Record<string, string>;
  expiresAt?: Date | null;
}

export interface ShoalPutResult {
  version: string;
  lastModified: Date;
  /** No live version existed before, as far as the coordinator saw. */
  created: boolean;
  context: string;
}

export interface ShoalListOptions {
  prefix?: ShoalBytes;
  /** Items fetched per round trip; default the node's page size. */
  pageSize?: number;
}

export interface ShoalListedItem {
  partitionKey: Uint8Array;
  sortKey?: Uint8Array;
  siblings: ShoalSibling[];
}

const defaults = { requestTimeoutMs: 5000, connectTimeoutMs: 2000, readAttemptsMax: 3, nodeDownMs: 1000, ringRefreshIntervalMs: 5000 };
const monotonic: Clock = { nowMs: () => performance.now() };
const encoder = new TextEncoder();

type Settings = typeof defaults & { inFlightMax: number };

export class ShoalClient {
  private readonly view = new ClientRingView();
  private refreshing: Promise<void> | undefined;
  private refreshedAtMs = 0;

  private constructor(
    private readonly settings: Settings,
    private readonly nodes: NodeConnections,
    private readonly timers: NodeTimers,
  ) {}

  /** Fetches the ring from the first seed that answers; fails when none does. */
  static async connect(options: ShoalClientOptions): Promise<ShoalClient> {
    const settings: Settings = { ...defaults, inFlightMax: defaultLimits.peerInFlightMax, ...definedOnly(options) };
    const timers = new NodeTimers();
    const limits = { frameBytesMax: defaultLimits.frameBytesMax, peerInFlightMax: settings.inFlightMax };
    const nodes = new NodeConnections({ timers, clock: monotonic, limits, connectTimeoutMs: settings.connectTimeoutMs, nodeDownMs: settings.nodeDownMs });
    const client = new ShoalClient(settings, nodes, timers);
    const problems: string[] = [];
    for (const seed of options.seeds) {
      const problem = await client.fetchRingFromSeed(seed, limits);
      if (problem === undefined) return client;
      problems.push(`${seed}: ${problem}`);
    }
    client.close();
    throw new ShoalError("NoSeedReachable", 503, `cannot fetch the ring from ${options.seeds.length} seed(s): ${problems.join("; ") || "no seeds given"}`);
  }

  /** The ring version the client places keys with. */
  get ringVersion(): number {
    return this.view.version;
  }

  /** The item's siblings and causal context, or undefined when it does not exist. */
  async get(table: string, key: ShoalKey, options: ShoalReadOptions = {}): Promise<ShoalItem | undefined> {
    const wireKey = keyOf(key);
    const quorum = definedOnly({ r: options.r, pr: options.pr });
    const message: ClientRequest = { type: clientMessageTypes.get, table, key: wireKey, quorum, ...definedOnly({ consistency: options.consistency }) };
    const answer = await this.read(message, this.view.placement(wireKey.partitionKey), `read ${describe(table, wireKey)}`);
    if (answer.siblings.length === 0) return undefined;
    return { siblings: answer.siblings.map(siblingOf), context: answer.context };
  }

  async put(table: string, key: ShoalKey, value: ShoalBytes, options: ShoalPutOptions = {}): Promise<ShoalPutResult> {
    const wireKey = keyOf(key);
    const message: ClientRequest = {
      type: clientMessageTypes.put,
      table,
      key: wireKey,
      value: bytesOf(value),
      ...definedOnly({ contentType: options.contentType, metadata: options.metadata }),
      ...(options.expiresAt !== undefined ? { expiresAtMs: options.expiresAt === null ? null : options.expiresAt.getTime() } : {}),
      ...writeFieldsOf(options),
    };
    const answer = await this.write(message, this.view.placement(wireKey.partitionKey), `write ${describe(table, wireKey)}`);
    const sibling = siblingOf(answer.item);
    return { version: sibling.version, lastModified: sibling.lastModified, created: answer.created, context: answer.context };
  }

  /** Writes a tombstone; `existed` says whether a live version was there, as far as the coordinator saw. */
  async delete(table: string, key: ShoalKey, options: ShoalWriteOptions = {}): Promise<{ existed: boolean }> {
    const wireKey = keyOf(key);
    const message: ClientRequest = { type: clientMessageTypes.delete, table, key: wireKey, ...writeFieldsOf(options) };
    return this.write(message, this.view.placement(wireKey.partitionKey), `delete ${describe(table, wireKey)}`);
  }

  /** Every item of the table in key order, fetched a page at a time as the loop asks for more. */
  async *list(table: string, options: ShoalListOptions = {}): AsyncGenerator<ShoalListedItem, void, undefined> {
    let after: WireItemKey | undefined;
    for (;;) {
      const message: ClientRequest = {
        type: clientMessageTypes.list,
        table,
        ...(options.prefix !== undefined ? { prefix: bytesOf(options.prefix) } : {}),
        ...(after !== undefined ? { after } : {}),
        ...definedOnly({ limit: options.pageSize }),
      };
      const page = await this.read(message, this.view.anyNodes(), `list table ${JSON.stringify(table)}`);
      for (const item of page.items) {
        yield { partitionKey: item.key.partitionKey, ...(item.key.sortKey !== undefined ? { sortKey: item.key.sortKey } : {}), siblings: item.siblings.map(siblingOf) };
      }
      if (page.resumeAfter === null) return;
      after = page.resumeAfter;
    }
  }

  /** Closes every connection; requests in flight fail. */
  close(): void {
    this.nodes.close();
    this.timers.clearAll();
  }

  private async read<K extends "client.get" | "client.list">(message: ClientRequest & { type: K }, nodes: readonly NodeId[], action: string): Promise<ClientAnswers[K]> {
    const failures: string[] = [];
    for (const id of this.view.candidates(nodes, this.settings.readAttemptsMax, (node) => this.nodes.isDown(node))) {
      const opened = await this.nodes.open(id);
      if (!opened.ok) {
        failures.push(opened.message);
        continue;
      }
      this.follow(opened.ringVersion, id);
      const result = await opened.connection.request<ClientReply<ClientAnswers[K]>>(message, this.settings.requestTimeoutMs);
      if (!result.ok) {
        // A slow, busy or failing node is still there; only a lost connection marks it down.
        if (result.error === "unreachable" || result.error === "closed") this.nodes.markDown(id);
        failures.push(`node ${id}: ${result.error === "remote" ? result.message : result.error}`);
        continue;
      }
      const reply = this.checkedReply<ClientAnswers[K]>(result.reply, id, action);
      if (reply.ok) return reply.value;
      if (reply.error.code !== "Unavailable" && reply.error.code !== "Overloaded") throw clientFailureError(reply.error, action);
      failures.push(`node ${id}: ${reply.error.code}: ${reply.error.message}`);
    }
    throw new ShoalError("Unavailable", 503, `cannot ${action}: ${failures.length} node(s) tried, none answered: ${failures.join("; ")}`);
  }

  private async write<K extends "client.put" | "client.delete">(message: ClientRequest & { type: K }, nodes: readonly NodeId[], action: string): Promise<ClientAnswers[K]> {
    const failures: string[] = [];
    for (const id of this.view.candidates(nodes, this.settings.readAttemptsMax, (node) => this.nodes.isDown(node))) {
      const opened = await this.nodes.open(id);
      if (!opened.ok) {
        failures.push(opened.message);
        continue;
      }
      this.follow(opened.ringVersion, id);
      const result = await opened.connection.request<ClientReply<ClientAnswers[K]>>(message, this.settings.requestTimeoutMs);
      if (!result.ok && result.error === "overloaded") {
        // Refused before the node ran it (our queue or its own was full): not written.
        failures.push(`node ${id}: overloaded`);
        continue;
      }
      if (!result.ok) {
        if (result.error === "unreachable" || result.error === "closed") this.nodes.markDown(id);
        const why = result.error === "remote" ? `failed there: ${result.message}` : result.error === "timeout" ? `did not answer within ${this.settings.requestTimeoutMs} ms` : "lost the connection";
        throw new ShoalError("WriteOutcomeUnknown", 504, `cannot tell whether the ${action} happened: node ${id} got it and ${why}; read the key to find out`);
      }
      const reply = this.checkedReply<ClientAnswers[K]>(result.reply, id, action);
      if (reply.ok) return reply.value;
      throw clientFailureError(reply.error, action);
    }
    throw new ShoalError("Unavailable", 503, `cannot ${action}: no node of its preference list could be reached (nothing was written): ${failures.join("; ")}`);
  }

  /** Checks the answer's envelope and follows the ring version it carries. */
  private checkedReply<T>(reply: unknown, id: NodeId, action: string): ClientReply<T> {
    const r = reply as Partial<ClientReply<T>> | null;
    if (r === null || typeof r !== "object" || typeof r.ok !== "boolean" || typeof r.ringVersion !== "number") {
      throw new ShoalError("ProtocolError", 502, `cannot ${action}: node ${id} answered with something that is not a client protocol reply`);
    }
    this.follow(r.ringVersion, id);
    return r as ClientReply<T>;
  }

  /** Refetches the ring when a node knows a newer one, or the member states are old. */
  private follow(ringVersion: number, from: NodeId): void {
    const stale = monotonic.nowMs() - this.refreshedAtMs > this.settings.ringRefreshIntervalMs;
    if ((ringVersion <= this.view.version && !stale) || this.refreshing !== undefined) return;
    // Best effort in the background: a failed refresh leaves the current ring, and the next
    // stale answer tries again.
    this.refreshing = this.refreshRing(from)
      .catch(() => undefined)
      .finally(() => (this.refreshing = undefined));
  }

  private async refreshRing(from: NodeId): Promise<void> {
    this.refreshedAtMs = monotonic.nowMs();
    const opened = await this.nodes.open(from);
    if (!opened.ok) return;
    const result = await opened.connection.request<ClientReply<ClientRingAnswer>>({ type: clientMessageTypes.ring }, this.settings.requestTimeoutMs);
    if (result.ok && result.reply?.ok === true) this.adoptRing(result.reply.value);
  }

  private async fetchRingFromSeed(seed: string, limits: { frameBytesMax: number; peerInFlightMax: number }): Promise<string | undefined> {
    const address = parseSeedAddress(seed);
    if (address === undefined) return "not host:port";
    const connection = connectToNode({ host: address.host, port: address.port, expectedNodeId: null, limits, timers: this.timers, clock: monotonic, handshakeTimeoutMs: this.settings.connectTimeoutMs });
    const result = await connection.request<ClientReply<ClientRingAnswer>>({ type: clientMessageTypes.ring }, this.settings.connectTimeoutMs);
    const problem = !result.ok ? (result.error === "remote" ? result.message : result.error)
      : result.reply === undefined || result.reply === null ? "does not serve the client protocol (the node routes no \"client.\" messages)"
      : result.reply.ok !== true ? `answered ${result.reply.ok === false ? `${result.reply.error.code}: ${result.reply.error.message}` : "something that is not a client protocol reply"}`
      : !this.adoptRing(result.reply.value) ? "has no valid ring yet" : undefined;
    if (problem === undefined && connection.remoteNodeId !== null) this.nodes.adopt(connection.remoteNodeId, connection);
    else connection.close();
    this.refreshedAtMs = monotonic.nowMs();
    return problem;
  }

  /** Takes a fetched ring (see ClientRingView.adopt) and the members' addresses with it. */
  private adoptRing(answer: ClientRingAnswer): boolean {
    if (!this.view.adopt(answer)) return false;
    this.nodes.setAddresses(this.view.addresses());
    return true;
  }
}

function keyOf(key: ShoalKey): WireItemKey {
  if (typeof key === "string" || key instanceof Uint8Array) return { partitionKey: bytesOf(key) };
  return key.sortKey === undefined ? { partitionKey: bytesOf(key.partitionKey) } : { partitionKey: bytesOf(key.partitionKey), sortKey: bytesOf(key.sortKey) };
}

function bytesOf(value: ShoalBytes): Uint8Array {
  return typeof value === "string" ? encoder.encode(value) : value;
}

function writeFieldsOf(options: ShoalWriteOptions): Pick<Extract<ClientRequest, { type: "client.put" }>, "quorum" | "context" | "condition"> {
  const condition = definedOnly({ ifMatch: options.ifMatch, ifNoneMatch: options.ifNoneMatch });
  return {
    quorum: definedOnly({ w: options.w, dw: options.dw, pw: options.pw }),
    ...(options.context !== undefined && options.context !== "" ? { context: options.context } : {}),
    ...(Object.keys(condition).length > 0 ? { condition } : {}),
  };
}

function siblingOf(version: WireItemVersion): ShoalSibling {
  return {
    value: version.value,
    contentType: version.contentType,
    metadata: { ...version.metadata },
    version: version.version,
    lastModified: new Date(hlcPhysicalMs(version.timestamp)),
    expiresAt: version.expiresAtMs === null ? null : new Date(version.expiresAtMs),
  };
}

function describe(table: string, key: WireItemKey): string {
  const text = new TextDecoder().decode(key.partitionKey).slice(0, 64);
  return `${JSON.stringify(`${table}:${text}`)}${key.sortKey !== undefined ? " (with a sort key)" : ""}`;
}

/** The object without its undefined fields (the wire and the options never carry undefined). */
function definedOnly<T extends object>(fields: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(fields)) if (value !== undefined) out[name] = value;
  return out as { [K in keyof T]?: Exclude<T[K], undefined> };
}
