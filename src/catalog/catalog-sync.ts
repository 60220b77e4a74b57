import { assert } from "../assert.js";
import type { Network, NodeId } from "../runtime/network.js";
import type { Runtime, TimerHandle } from "../runtime/runtime.js";
import { isRemoteFailure } from "../transport/remote-failure.js";
import type { CatalogPublisher, PublishOutcome } from "./catalog-publisher.js";
import type { NameRecord } from "./catalog-record.js";
import {
  parseCatalogMessage,
  parseMergedReply,
  parseRecordsReply,
  type CatalogMergedReply,
  type CatalogMessageBounds,
  type CatalogRecordsReply,
} from "./catalog-messages.js";
import type { TableCatalog } from "./table-catalog.js";

/**
 * The catalog's node-to-node half: it pushes every local change to the up members before the
 * change answers (CatalogPublisher), serves the "catalog." messages (catalog-messages.ts), and
 * runs anti-entropy in the background (Dynamo, section 4.7): every `syncIntervalMs` (jittered by
 * a quarter either way, so nodes do not fall into step) it picks one up member at random,
 * compares digests and exchanges the records of the buckets that differ. A node that was down
 * during a change, or joined after it, converges within a few rounds; so does a change whose
 * push timed out.
 *
 * Example (node wiring):
 *   const sync = new CatalogSync({ runtime: { ...runtime, network }, catalog, peers: () => upPeers() });
 *   dispatcher.route("catalog.", (from, message) => sync.handle(from, message));
 *   sync.start();   // attaches to the catalog, starts the rounds
 *   await sync.stop();
 */
export interface CatalogSyncOptions {
  /** Needs `network`, `timers` and `random`. */
  runtime: Runtime;
  catalog: TableCatalog;
  /** Members believed up, this node excluded: who a change must reach, who a round may pick. */
  peers: () => readonly NodeId[];
  /** Mean pause between two sync rounds. */
  syncIntervalMs?: number;
  /** Deadline of every catalog request. */
  requestTimeoutMs?: number;
  /** About how many bytes of records one message carries (at least one record). */
  messageBytesMax?: number;
  /** Records one message may carry (a receiver refuses more). */
  recordsPerMessageMax?: number;
  /** A round failed in an unexpected way (a bug, or storage): log it; rounds go on. */
  onError?: (error: unknown) => void;
}

export const catalogSyncDefaults = {
  syncIntervalMs: 1500,
  requestTimeoutMs: 1000,
  messageBytesMax: 1024 * 1024,
  recordsPerMessageMax: 8192,
} as const;

export class CatalogSync implements CatalogPublisher {
  private readonly network: Network;
  private readonly settings: Required<Omit<CatalogSyncOptions, "runtime" | "catalog" | "peers" | "onError">>;
  private readonly bounds: CatalogMessageBounds;
  private timer: TimerHandle | undefined;
  private running = false;
  private stopped = false;
  private round: Promise<void> | undefined;

  constructor(private readonly options: CatalogSyncOptions) {
    assert(options.runtime.network !== undefined, "catalog sync needs the runtime's network");
    this.network = options.runtime.network;
    this.settings = {
      syncIntervalMs: options.syncIntervalMs ?? catalogSyncDefaults.syncIntervalMs,
      requestTimeoutMs: options.requestTimeoutMs ?? catalogSyncDefaults.requestTimeoutMs,
      messageBytesMax: options.messageBytesMax ?? catalogSyncDefaults.messageBytesMax,
      recordsPerMessageMax: options.recordsPerMessageMax ?? catalogSyncDefaults.recordsPerMessageMax,
    };
    assert(this.settings.syncIntervalMs > 0 && this.settings.requestTimeoutMs > 0, "catalog sync intervals must be positive");
    this.bounds = { ...options.catalog.bounds, recordsPerMessageMax: this.settings.recordsPerMessageMax };
  }

  /** Attaches to the catalog (local changes are pushed from now on) and starts the rounds. */
  start(): void {
    if (this.running || this.stopped) return;
    this.running = true;
    this.options.catalog.attach(this);
    this.schedule();
  }

  /** Stops the rounds and detaches; waits for a round in progress. Handling stops too. */
  async stop(): Promise<void> {
    this.running = false;
    this.stopped = true;
    this.options.catalog.attach(undefined);
    if (this.timer !== undefined) this.options.runtime.timers.clearTimeout(this.timer);
    this.timer = undefined;
    await this.round;
  }

  /** The "catalog." route. Throws on a message it cannot parse (the sender sees a RemoteFailure). */
  async handle(_from: NodeId, message: unknown): Promise<CatalogMergedReply | CatalogRecordsReply | undefined> {
    if (this.stopped) return undefined;
    const parsed = parseCatalogMessage(message, this.bounds);
    if (parsed === undefined) throw new Error("cannot handle a catalog message: it does not parse");
    const { catalog } = this.options;
    if (parsed.type === "catalog.merge") return { type: "catalog.merged", records: await catalog.merge(parsed.records) };
    const differing = catalog.differingBuckets(parsed.buckets);
    // Start at a random differing bucket: when the records of all differing buckets pass the
    // byte bound, successive rounds still cover every bucket instead of resending the first.
    const records = differing.length === 0 ? [] : catalog.recordsInBuckets(this.rotate(differing), this.settings.messageBytesMax);
    return { type: "catalog.records", differing, records: records.slice(0, this.settings.recordsPerMessageMax) };
  }

  /** Pushes records to every up member at once; see CatalogPublisher. */
  async publish(records: readonly NameRecord[]): Promise<PublishOutcome> {
    const peers = this.options.peers();
    const message = { type: "catalog.merge", records };
    const replies = await Promise.all(peers.map((peer) => this.request(peer, message, parseMergedReply)));
    const missing = peers.filter((_, i) => replies[i] === undefined);
    return { missing, replies: replies.flatMap((reply) => reply?.records ?? []) };
  }

  /**
   * One anti-entropy round with `peer` (a random up member by default): digest, pull the
   * records of differing buckets, push ours of the same buckets. True if the peer answered.
   */
  async syncOnce(peer?: NodeId): Promise<boolean> {
    const target = peer ?? this.pickPeer();
    if (target === undefined) return false;
    const { catalog } = this.options;
    const answer = await this.request(target, { type: "catalog.digest", buckets: catalog.digestBuckets() }, parseRecordsReply);
    if (answer === undefined) return false;
    if (answer.records.length > 0) await catalog.merge(answer.records);
    if (answer.differing.length === 0) return true;
    const ours = catalog.recordsInBuckets(this.rotate(answer.differing), this.settings.messageBytesMax).slice(0, this.settings.recordsPerMessageMax);
    if (ours.length === 0) return true;
    const pushed = await this.request(target, { type: "catalog.merge", records: ours }, parseMergedReply);
    if (pushed !== undefined) await catalog.merge(pushed.records);
    return pushed !== undefined;
  }

  private rotate(buckets: readonly number[]): number[] {
    const start = this.options.runtime.random.int(buckets.length);
    return [...buckets.slice(start), ...buckets.slice(0, start)];
  }

  private pickPeer(): NodeId | undefined {
    const peers = this.options.peers();
    return peers.length === 0 ? undefined : peers[this.options.runtime.random.int(peers.length)];
  }

  private schedule(): void {
    if (!this.running) return;
    const { syncIntervalMs } = this.settings;
    const delayMs = Math.round(syncIntervalMs * (0.75 + this.options.runtime.random.next() * 0.5));
    this.timer = this.options.runtime.timers.setTimeout(() => {
      this.timer = undefined;
      this.round = this.runRound();
    }, delayMs);
  }

  private async runRound(): Promise<void> {
    try {
      await this.syncOnce();
    } catch (error) {
      this.options.onError?.(error);
    } finally {
      this.round = undefined;
      this.schedule();
    }
  }

  /** A request whose failures (transport, remote, unparsable reply) are all `undefined`. */
  private async request<T>(peer: NodeId, message: unknown, parse: (value: unknown, bounds: CatalogMessageBounds) => T | undefined): Promise<T | undefined> {
    const result = await this.network.request(peer, message, { timeoutMs: this.settings.requestTimeoutMs });
    if (!result.ok || isRemoteFailure(result.reply)) return undefined;
    return parse(result.reply, this.bounds);
  }
}
