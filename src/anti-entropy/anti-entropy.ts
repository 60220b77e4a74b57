import type { NodeId } from "../runtime/network.js";
import type { Runtime } from "../runtime/runtime.js";
import type { StorageEngine } from "../storage/storage-engine.js";
import { antiEntropyMessagePrefix, exchangeBoundsDefault, type ExchangeBounds } from "./anti-entropy-messages.js";
import { compareRoots, runExchange, youngDeferralDefaults, type ExchangeResult, type RootsResult, type YoungDeferral } from "./exchange.js";
import { ExchangeResponder } from "./exchange-responder.js";
import { exchangeScheduleDefaults, ExchangeScheduler, type AntiEntropyStats, type ExchangeScheduleOptions } from "./exchange-scheduler.js";
import { HashTrees } from "./hash-trees.js";
import { IndexedStorage } from "./indexed-storage.js";
import { IndexVerify, indexVerifyDefaults, type IndexVerifyOptions } from "./index-verify.js";
import type { ReplicaAccess } from "./replica-access.js";
import { treeName, type TreeId } from "./segment-index.js";
import { TreeRebuild, treeRebuildDefaults, type TreeRebuildOptions } from "./tree-rebuild.js";

/**
 * Active anti-entropy on one node (Dynamo paper, section 4.7; Riak's AAE): Merkle trees per
 * (partition, n) over each key's version hash, kept current by every write (IndexedStorage),
 * rebuilt from their index in the background at start, and exchanged with the other
 * replicas of each tree on a throttled schedule; differing keys are repaired through the
 * replica's normal versioned merge.
 *
 * Wiring (the node; `tableOf(tableId)` is the catalog's definition by id):
 *   let items: NodeItems;
 *   const ae = new AntiEntropy({
 *     runtime,
 *     ...treePlacement({ ring: () => membership.ring(), nOf: (id) => (tableOf(id)?.consistency === "eventual" ? tableOf(id)!.replication.n : undefined) }),
 *     replica: {
 *       fetch: (key) => items.replicas.fetch(key),
 *       merge: (key, set) => items.replicas.merge(key, set, { lww: tableOf(decodeItemKey(key).tableId)?.conflicts === "lww" }),
 *     },
 *     isUp: (id) => membership.isUp(id), requestTimeoutMs, treesMax: partitionCount * 8,
 *   });
 *   items = NodeItems.open(runtime, { ..., replicaStorage: ae.storage }); // every item write goes through it
 *   dispatcher.route(antiEntropyMessagePrefix, (from, message) => ae.handle(from, message));
 *   ae.start() once the node serves; ae.stop() before its storage closes.
 */
export interface AntiEntropyOptions {
  runtime: Pick<Runtime, "nodeId" | "clock" | "timers" | "random" | "storage" | "network">;
  placeOf: (itemKey: Uint8Array) => TreeId | undefined;
  replicasOf: (tree: TreeId) => readonly NodeId[];
  replica: ReplicaAccess;
  requestTimeoutMs: number;
  /** Trees kept in memory: partitions times distinct n values is enough. */
  treesMax: number;
  isUp?: (node: NodeId) => boolean;
  bounds?: Partial<ExchangeBounds>;
  rebuild?: Partial<TreeRebuildOptions>;
  verify?: Partial<IndexVerifyOptions>;
  schedule?: Partial<ExchangeScheduleOptions>;
  /** Differing segments written here within youngMs wait for a later exchange (exchange.ts); youngMs 0 turns it off. */
  young?: Partial<YoungDeferral>;
}

export { antiEntropyMessagePrefix };

/** One tree as GET /v1/internal/anti-entropy shows it (api/anti-entropy-handler.ts). */
export interface TreeReport {
  partition: number;
  n: number;
  /** 16 hex digits; all zeros for a tree with no keys. */
  root: string;
  replicas: NodeId[];
  /** Milliseconds since the last complete exchange of this tree started here, or null. */
  lastCompleteAgeMs: number | null;
}

export interface AntiEntropyReport {
  loaded: boolean;
  schedule: ExchangeScheduleOptions;
  exchanges: number;
  exchangesAgreed: number;
  exchangesFailed: number;
  segmentsDeferred: number;
  keysDiffering: number;
  keysRepaired: number;
  bytes: number;
  /** Rounds run, anti-entropy messages sent (requests and replies) and leaf segments rehashed since start: what the rounds cost. */
  rounds: number;
  messages: number;
  segmentsRehashed: number;
  trees: TreeReport[];
}

export class AntiEntropy {
  /** The storage every replica write must go through (give it to ReplicaService). */
  readonly storage: StorageEngine;
  readonly trees: HashTrees;
  private readonly rebuild: TreeRebuild;
  private readonly verify: IndexVerify;
  private readonly responder: ExchangeResponder;
  private readonly scheduler: ExchangeScheduler;
  private readonly bounds: ExchangeBounds;
  private readonly young: YoungDeferral;
  /** The exchange schedule in force (defaults merged with the node's settings). */
  readonly schedule: Readonly<ExchangeScheduleOptions>;

  constructor(private readonly options: AntiEntropyOptions) {
    const { runtime } = options;
    this.bounds = { ...exchangeBoundsDefault, ...options.bounds };
    this.young = { ...youngDeferralDefaults, ...options.young };
    this.trees = new HashTrees({ storage: runtime.storage, placeOf: options.placeOf, treesMax: options.treesMax, nowMs: () => runtime.clock.nowMs() });
    this.storage = new IndexedStorage(runtime.storage, this.trees);
    this.rebuild = new TreeRebuild(runtime.storage, this.trees, runtime.timers, { ...treeRebuildDefaults, ...options.rebuild });
    this.verify = new IndexVerify(runtime.storage, this.trees, runtime.timers, { ...indexVerifyDefaults, ...options.verify });
    this.responder = new ExchangeResponder({ trees: this.trees, isLoaded: () => this.loaded, replica: options.replica, bounds: this.bounds });
    this.schedule = Object.freeze({ ...exchangeScheduleDefaults, ...options.schedule });
    this.scheduler = new ExchangeScheduler(
      {
        self: runtime.nodeId,
        clock: runtime.clock,
        timers: runtime.timers,
        random: runtime.random,
        isLoaded: () => this.loaded,
        trees: () => this.trees.treeIds(),
        replicasOf: options.replicasOf,
        isUp: options.isUp ?? (() => true),
        exchange: (peer, tree, pace, rootDiffers) => this.exchange(peer, tree, pace, rootDiffers),
        compareRoots: (peer, trees, pace) => this.compareRoots(peer, trees, pace),
      },
      this.schedule,
    );
  }

  /** True once the trees were built from the index after start; until then no exchange runs. */
  get loaded(): boolean {
    return this.rebuild.loaded;
  }

  get stats(): AntiEntropyStats {
    return this.scheduler.stats;
  }

  /** Starts the background tree build, the index check and the exchange schedule. */
  start(): void {
    this.rebuild.start();
    this.verify.start();
    this.scheduler.start();
  }

  stop(): void {
    this.scheduler.stop();
    this.verify.stop();
    this.rebuild.stop();
  }

  /** Index entries the background check fixed since start (drift it healed). */
  get indexEntriesFixed(): number {
    return this.verify.fixed;
  }

  /** One bounded step of the index check, now (tests); true when it finished a pass. */
  verifyStep(): boolean {
    return this.verify.step();
  }

  /** Builds the trees now, without timers (tests, or a node that wants them before serving). */
  loadNow(): void {
    let done = false;
    while (!done) done = this.rebuild.step();
  }

  /** One exchange of `tree` with `peer`, now (`rootDiffers`: roots were compared already and differed). */
  exchange(peer: NodeId, tree: TreeId, pace?: (bytes: number) => Promise<void>, rootDiffers = false): Promise<ExchangeResult> {
    const network = this.options.runtime.network;
    if (network === undefined || !this.loaded) return Promise.resolve({ ok: false, error: network === undefined ? "no network" : "not-loaded", messages: 0, bytes: 0 });
    return runExchange({ network, trees: this.trees, replica: this.options.replica, requestTimeoutMs: this.options.requestTimeoutMs, bounds: this.bounds, young: this.young, ...(pace ? { pace } : {}) }, peer, tree, { rootDiffers });
  }

  /**
   * Compares the roots of `trees` with `peer`, `rootsPerRoundTrip` trees per round trip: each
   * side rehashes the dirty segments of every tree it is asked about in one turn, so a round
   * trip over all 256 trees under a write load would hold the event loop for thousands of
   * index scans at once; 32 keep each turn short and still cut the round trips 32-fold.
   */
  async compareRoots(peer: NodeId, trees: readonly TreeId[], pace?: (bytes: number) => Promise<void>): Promise<RootsResult> {
    const network = this.options.runtime.network;
    if (network === undefined || !this.loaded) return { ok: false, error: network === undefined ? "no network" : "not-loaded", unsupported: false, messages: 0, bytes: 0 };
    const context = { network, trees: this.trees, replica: this.options.replica, requestTimeoutMs: this.options.requestTimeoutMs, bounds: this.bounds, ...(pace ? { pace } : {}) };
    const differs: boolean[] = [];
    const traffic = { messages: 0, bytes: 0 };
    const chunk = Math.min(rootsPerRoundTrip, this.bounds.rootsPerRequestMax);
    for (let i = 0; i < trees.length; i += chunk) {
      const result = await compareRoots(context, peer, trees.slice(i, i + chunk));
      traffic.messages += result.messages;
      traffic.bytes += result.bytes;
      if (!result.ok) return { ...result, ...traffic };
      differs.push(...result.differs);
    }
    return { ok: true, differs, ...traffic };
  }

  /** One round of the schedule, now (tests; the schedule runs rounds itself once started). */
  round(): Promise<void> {
    return this.scheduler.round();
  }

  /** The root of a tree, 8 bytes (all zero for a tree with no keys): what a convergence check compares. */
  rootOf(tree: TreeId): Uint8Array {
    return this.trees.hashedTree(tree)?.root() ?? new Uint8Array(8);
  }

  /**
   * Every tree this node keeps (sorted by partition, then n) with its root, its replicas in the
   * current ring and the age of its last complete exchange, and the schedule's counters. Bounded
   * by treesMax; two replicas of a tree agree exactly when their roots are equal.
   */
  report(): AntiEntropyReport {
    const stats = this.scheduler.stats;
    const nowMs = this.options.runtime.clock.nowMs();
    const ids = this.trees.treeIds().sort((a, b) => a.partition - b.partition || a.n - b.n);
    const trees = ids.map((tree) => {
      const completeAt = stats.lastCompleteMs.get(treeName(tree));
      return {
        partition: tree.partition,
        n: tree.n,
        root: hexOf(this.rootOf(tree)),
        replicas: [...this.options.replicasOf(tree)],
        lastCompleteAgeMs: completeAt === undefined ? null : Math.max(0, nowMs - completeAt),
      };
    });
    const { exchanges, exchangesAgreed, exchangesFailed, segmentsDeferred, keysDiffering, keysRepaired, bytes, rounds, messages } = stats;
    const segmentsRehashed = this.trees.segmentsRehashed;
    return { loaded: this.loaded, schedule: { ...this.schedule }, exchanges, exchangesAgreed, exchangesFailed, segmentsDeferred, keysDiffering, keysRepaired, bytes, rounds, messages, segmentsRehashed, trees };
  }

  /** Serves "anti-entropy." messages. */
  handle(_from: NodeId, message: unknown): Promise<unknown> {
    return this.responder.handle(message);
  }
}

/** Trees per "roots" round trip the schedule sends (compareRoots). */
export const rootsPerRoundTrip = 32;

function hexOf(bytes: Uint8Array): string {
  let text = "";
  for (const byte of bytes) text += byte.toString(16).padStart(2, "0");
  return text;
}
