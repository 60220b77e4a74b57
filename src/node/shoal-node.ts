import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import { checkLimits } from "../limits.js";
import type { Runtime } from "../runtime/runtime.js";
import { NodeTimers, createNodeRuntime } from "../runtime/node-runtime.js";
import type { StorageEngine } from "../storage/storage-engine.js";
import { TableCatalog } from "../catalog/table-catalog.js";
import { ExpirySweeper } from "../replica/expiry-sweeper.js";
import { TablePurger } from "../replica/table-purger.js";
import { CatalogSync } from "../catalog/catalog-sync.js";
import { ClientProtocolHandler } from "../client-protocol/client-protocol-handler.js";
import type { ItemOperations } from "../coordinator/item-operations.js";
import { NodeMetrics } from "../observability/node-metrics.js";
import { RestApi } from "../api/rest-api.js";
import { clientServerKindOf, createClientServer, type ClientServer, type ClientServerKind } from "../http/client-server.js";
import { ShoalError } from "../errors.js";
import type { ApiContext } from "../api/api-context.js";
import type { NodeConfig } from "./node-config.js";
import { NodeCluster } from "./node-cluster.js";
import { NodeItems } from "./node-items.js";
import { AcceptorRelearn } from "./acceptor-relearn.js";
import { AntiEntropy } from "../anti-entropy/anti-entropy.js";
import { antiEntropyMessagePrefix } from "../anti-entropy/anti-entropy-messages.js";
import { treePlacement } from "../anti-entropy/tree-placement.js";
import { tombstoneReaperDefaults } from "../coordinator/tombstone-reaper.js";
import { decodeItemKey } from "../storage/item-key.js";
import type { TableDefinition } from "../catalog/table-definition.js";
import { OwnershipTransfer, nMaxOf, type OwnershipTable } from "../handoff/ownership-transfer.js";
import { ownershipMessagePrefix } from "../handoff/ownership-messages.js";
import { DynamoDbApi, dynamoAuthFromEnvironment, isDynamoDbRequest, type DynamoAuth } from "../dynamodb/index.js";
import { parseSeedAddress, splitSeedList, type SeedAddress } from "./seed-address.js";
import { learnRingFrom } from "./learn-ring.js";

/**
 * One running Shoal node: composes the runtime, the catalog (replicated: CatalogSync), the
 * HTTP front door, the cluster (peer port, membership, ring: node-cluster.ts) and the data path
 * (node-items.ts: ReplicaService, hinted handoff, the EventualCoordinator, tombstone GC and the
 * ClusterCoordinator the API calls), routing peer messages by prefix through the cluster's
 * dispatcher; and runs the background expiry sweep and table purge over the replica. A single
 * node after `npm start` is a ring of one: n, r and w are capped at 1. The caller (the CLI, or
 * a test) opens storage and closes it after `close()`.
 *
 * Example:
 *   const storage = await LmdbStorageEngine.open({ path: "./data/lmdb" });
 *   const node = await ShoalNode.start(config, { storage, logger: pino() });
 *   // ... node.url is http://127.0.0.1:8000
 *   await node.close();
 *   await storage.close();
 */
export interface ShoalNodeDeps {
  storage: StorageEngine;
  logger: Logger;
  /** Tests pass a runtime of their own (a manual clock); it must use `storage`. */
  runtime?: Runtime;
  /** Deadline of each node-to-node data request (default peerRequestTimeoutMsDefault). */
  peerRequestTimeoutMs?: number;
  /** Tombstone GC's grace: how old a tombstone must be before it is collected (default 90 s: tombstone-reaper.ts). */
  tombstoneGraceMs?: number;
  /** Tombstone GC's pause between passes over the tombstone index (default 10 s). */
  tombstoneIntervalMs?: number;
  /** Anti-entropy's round interval; overrides config.antiEntropyIntervalMs (tests). */
  antiEntropyIntervalMs?: number;
  /** The DynamoDB API's credentials; default from the environment (local mode when none are set). */
  dynamoAuth?: DynamoAuth;
  /** The client port's HTTP server; default from SHOAL_HTTP_SERVER (Shoal's own unless "node"). */
  httpServer?: ClientServerKind;
}

/** How often the purger looks for dropped tables when it was not kicked. */
const purgeIdleDelayMs = 60_000;
export const peerRequestTimeoutMsDefault = 2000;

export class ShoalNode {
  readonly url: string;
  readonly nodeId: string;
  /** The bound peer port (useful when config.peerPort is 0). */
  readonly peerPort: number;

  private constructor(
    private readonly parts: {
      config: NodeConfig;
      runtime: Runtime;
      server: ClientServer;
      api: RestApi;
      sweeper: ExpirySweeper;
      purger: TablePurger;
      items: NodeItems;
      catalogSync: CatalogSync;
      dynamo: DynamoDbApi;
      transfer: OwnershipTransfer;
      ae: AntiEntropy;
      catalog: TableCatalog;
      metrics: NodeMetrics;
      logger: Logger;
      url: string;
      cluster: NodeCluster;
    },
  ) {
    this.url = parts.url;
    this.nodeId = parts.config.nodeId;
    this.peerPort = parts.cluster.peerPort;
  }

  get cluster(): NodeCluster {
    return this.parts.cluster;
  }

  /**
   * Resolves once a committed plan removed this node and the ring settled without it (it
   * handed everything off and told its peers): the owner should close it (`shoal start` exits 0).
   */
  get left(): Promise<void> {
    return this.parts.cluster.left;
  }

  /** The data path (replica, coordinators, hints, tombstone GC); tests look inside. */
  get items(): NodeItems {
    return this.parts.items;
  }

  /** The ownership transfer (tests read its reported losses). */
  get transfer(): OwnershipTransfer {
    return this.parts.transfer;
  }

  /** The table catalog (tests look up table ids). */
  get catalog(): TableCatalog {
    return this.parts.catalog;
  }

  get metrics(): NodeMetrics {
    return this.parts.metrics;
  }

  static async start(config: NodeConfig, deps: ShoalNodeDeps): Promise<ShoalNode> {
    const limits = checkLimits({ ...config.limits });
    const { storage, logger } = deps;
    // Before the cluster persists a ring: a new data directory shuts the acceptor until it relearned (acceptor-relearn.ts).
    const acceptorDisk = AcceptorRelearn.diskState(storage);
    const runtime =
      deps.runtime ??
      createNodeRuntime({ nodeId: config.nodeId, storage, clockOffsetMs: config.clockOffsetMs, clockSkewMaxMs: limits.clockSkewMaxMs });
    const catalog = TableCatalog.open(runtime, { tablesMax: limits.tablesMax, durableWrites: config.durableWrites });
    const metrics = new NodeMetrics({ nodeId: config.nodeId, storage });
    // The cluster and the data path start once the client port is bound (members gossip it);
    // until then the API answers 503 Starting, so these are never called without them.
    let cluster: NodeCluster | undefined;
    const late: { items?: NodeItems; purger?: TablePurger; ae?: AntiEntropy } = {};
    const context: ApiContext = {
      tables: catalog,
      get items(): ItemOperations {
        return late.items!.coordinator;
      },
      limits,
      clock: runtime.clock,
      clusterSize: () => cluster?.size() ?? 1,
      cluster: () => cluster!.status(nMaxOf(ownershipTables(catalog))),
      antiEntropy: () => ({ enabled: config.antiEntropy === "on", ...late.ae!.report() }),
      tableDropped: () => late.purger?.kick(),
      clusterPlan: {
        view: () => cluster!.plan.view(nMaxOf(ownershipTables(catalog))),
        execute: (op) => cluster!.plan.execute(op),
      },
      clusterForget: (node) => late.items!.forgetDeparture(node),
    };
    const api = new RestApi({ context, metrics, logger, nodeId: config.nodeId, httpInFlightMax: limits.httpInFlightMax });
    metrics.setInFlightSource(() => api.inFlightCount);
    const onHandlerError = (error: unknown): void => logger.error({ err: error }, "request handler threw");
    const server = createClientServer(deps.httpServer ?? clientServerKindOf(process.env), api.handle, { onHandlerError });
    const { url, port } = await listen(server, config);
    try {
      cluster = await NodeCluster.start({
        runtime,
        listenHost: config.host,
        advertisedHost: advertisedHostOf(config),
        peerPort: config.peerPort,
        clientPort: port,
        seeds: seedsOf(config),
        joinTimeoutMs: config.joinTimeoutMs,
        limits,
        logger,
        ...(config.planMode !== undefined ? { planMode: config.planMode } : {}),
        planTables: () => catalog.list().map((t) => ({ name: t.name, n: t.replication.n, strong: t.consistency === "strong" })),
      });
    } catch (error) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (runtime.timers instanceof NodeTimers) runtime.timers.clearAll();
      throw error;
    }
    const wired = wireDataPath({ runtime: { ...runtime, network: cluster.network }, cluster, catalog, limits, config, deps, metrics, acceptorDisk });
    late.items = wired.items;
    late.purger = wired.purger;
    late.ae = wired.ae;
    api.mounted = { route: "/ (DynamoDB)", accepts: isDynamoDbRequest, handle: (req, res) => wired.dynamo.handle(req, res) };
    api.state = "ready";
    return new ShoalNode({ config, runtime, server, api, metrics, logger, url, cluster, catalog, ...wired });
  }

  /**
   * Stops accepting connections, answers new requests on open connections with 503, waits up
   * to shutdownGraceMs for in-flight requests, then closes every connection and stops the
   * background work. Storage stays open (the caller opened it).
   */
  async close(): Promise<void> {
    const { api, server, sweeper, purger, runtime, config, logger, cluster, items, catalogSync, dynamo, transfer, ae } = this.parts;
    if (api.state === "stopping") return;
    api.state = "stopping";
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const drained = await waitAtMost(api.whenIdle(), config.shutdownGraceMs);
    if (!drained) logger.warn({ inFlight: api.inFlightCount, graceMs: config.shutdownGraceMs }, "shutdown grace ended with requests in flight");
    server.closeAllConnections();
    await closed;
    transfer.stop();
    ae.stop();
    await Promise.all([sweeper.stop(), purger.stop(), items.stop(), catalogSync.stop(), dynamo.stop()]);
    await cluster.close();
    // A clean stop keeps the actor epoch: version vectors grow one entry per crash, not per restart.
    await items.stopCoordinating();
    if (runtime.timers instanceof NodeTimers) runtime.timers.clearAll();
  }
}

/**
 * The data path over the cluster's network: NodeItems, the replicated catalog, the Shoal client
 * protocol, their peer routes, and the background sweep and purge over the replica. Everything
 * starts here.
 */
function wireDataPath(parts: {
  runtime: Runtime;
  cluster: NodeCluster;
  catalog: TableCatalog;
  limits: ReturnType<typeof checkLimits>;
  config: NodeConfig;
  deps: ShoalNodeDeps;
  metrics: NodeMetrics;
  acceptorDisk: { fresh: boolean; unfinished: boolean };
}): { items: NodeItems; catalogSync: CatalogSync; sweeper: ExpirySweeper; purger: TablePurger; dynamo: DynamoDbApi; transfer: OwnershipTransfer; ae: AntiEntropy } {
  const { runtime, cluster, catalog, limits, config, deps, metrics, acceptorDisk } = parts;
  const onError = (error: unknown): void => deps.logger.error({ err: error }, "background step failed");
  // Merkle anti-entropy over the eventual tables: every replica write goes through its indexed
  // storage (the trees follow each write), and background exchanges repair what differs.
  const tableById = tableLookup(catalog);
  const eventualN = (id: number): number | undefined => {
    const table = tableById(id);
    return table?.consistency === "eventual" ? table.replication.n : undefined;
  };
  const tombstoneGraceMs = deps.tombstoneGraceMs ?? tombstoneReaperDefaults.graceMs;
  const ae = new AntiEntropy({
    runtime,
    ...treePlacement({
      ring: () => cluster.membership.ring(),
      nOf: eventualN,
    }),
    replica: {
      fetch: (key) => items.replicas.fetch(key),
      merge: (key, set) => items.replicas.merge(key, set, { lww: tableById(decodeItemKey(key).tableId)?.conflicts === "lww" }),
    },
    isUp: (id) => cluster.membership.isUp(id),
    requestTimeoutMs: deps.peerRequestTimeoutMs ?? peerRequestTimeoutMsDefault,
    treesMax: antiEntropyTreesMax,
    schedule: { intervalMs: deps.antiEntropyIntervalMs ?? config.antiEntropyIntervalMs, concurrency: config.antiEntropyConcurrency, bytesPerSecond: config.antiEntropyBytesPerSecond },
  });
  // --anti-entropy off: replica writes skip the index and the trees and no exchange runs; the
  // responder stays routed and answers "not-loaded", so peers' exchanges with this node fail fast.
  const antiEntropyOn = config.antiEntropy === "on";
  metrics.setAntiEntropySource(() => ae.stats, () => runtime.clock.nowMs());
  const items: NodeItems = NodeItems.open(runtime, {
    replicaStorage: antiEntropyOn ? ae.storage : runtime.storage,
    membership: cluster.membership,
    limits,
    requestTimeoutMs: deps.peerRequestTimeoutMs ?? peerRequestTimeoutMsDefault,
    tombstoneGraceMs,
    // No point in passes much rarer than the grace: a short grace (tests) gets passes as short.
    tombstoneIntervalMs: deps.tombstoneIntervalMs ?? Math.max(10, Math.min(tombstoneReaperDefaults.intervalMs, tombstoneGraceMs)),
    nOf: eventualN,
    acceptorDisk,
    onRelearned: (keysRead) => deps.logger.info({ keysRead }, "the acceptor relearned what it had lost and is open again"),
    strongN: (id) => {
      const table = tableById(id);
      if (table === undefined) return catalog.isDropped(id) ? "skip" : undefined;
      return table.consistency === "strong" ? table.replication.n : "skip";
    },
    isTableDropped: (tableId) => catalog.isDropped(tableId),
    // Replica merges to one peer leave at the end of this event-loop iteration: the puts of every socket read in it share one message (replica/merge-batch.ts).
    mergeBatchDefer: (flush) => void setImmediate(flush),
    // A replica refused a write for a newer ring: ask it for that ring before the retry (replica/ring-fence.ts).
    learnRing: learnRingFrom(cluster.network, cluster.membership, deps.peerRequestTimeoutMs ?? peerRequestTimeoutMsDefault),
    // Partitions this node serves no more are dropped once the ring settles (handoff/partition-release.ts).
    release: { onError, onReleased: (count, ringVersion) => deps.logger.info({ released: count, ringVersion }, "released keys of partitions this node no longer serves") },
  });
  metrics.setCollectionSource(() => ({ tombstonesWaiting: items.reaper.stats.waiting, tombstonesHeldBack: items.reaper.stats.blockedKeys, releasedKeys: items.release.stats.released, releasedPartitions: items.release.stats.partitionsReleased }));
  metrics.setRingSource(() => {
    const ring = cluster.membership.ring();
    return { ringConflicts: cluster.membership.ringConflicts, departureRecords: items.departures.counts().records, departuresPending: items.departures.pending(ring).length, oldestPendingDepartureAgeMs: items.departures.oldestPendingAgeMs(ring) };
  });
  metrics.setHintSource(() => ({ delivered: items.delivery.stats().delivered, pending: [...items.hints.countByTarget().values()].reduce((sum, count) => sum + count, 0), abandoned: items.delivery.stats().abandoned }));
  // A node that leaves (or was replaced while running) hands its hints on before it exits.
  cluster.setBeforeLeave(async () => {
    const held = [...items.hints.countByTarget().values()].reduce((sum, count) => sum + count, 0);
    if (held > 0) deps.logger.info({ hints: held }, "handing this node's hints on before leaving");
    const drained = await items.delivery.drain();
    if (!drained.drained) deps.logger.error({ abandoned: Object.fromEntries(drained.abandoned) }, "leaving with hints that could not be handed on: these hinted writes are lost unless another replica holds them");
    // Tombstone GC waits for a leaver until it reports that it handed everything on (coordinator/tombstone-reaper-departures.ts).
    const released = await items.releaseDone();
    if (drained.drained && released) deps.logger.info({ membersTold: await items.reportLeftClean() }, "reported a clean departure: tombstone GC no longer waits for this node");
    else deps.logger.error({ hintsDrained: drained.drained, released }, "leaving without a clean departure: tombstone GC waits for this node until it is started again and finishes its leave");
  });
  for (const [prefix, handler] of items.routes()) cluster.dispatcher.route(prefix, handler);
  cluster.dispatcher.route(antiEntropyMessagePrefix, (from, message) => ae.handle(from, message));
  const catalogSync = new CatalogSync({ runtime, catalog, peers: () => cluster.upPeers(), onError });
  cluster.dispatcher.route("catalog.", (from, message) => catalogSync.handle(from, message));
  // The partition-aware client speaks the peer protocol: the node it picked coordinates the key.
  const clients = new ClientProtocolHandler({
    tables: catalog,
    items: items.coordinator,
    limits,
    ring: () => cluster.membership.ring(),
    members: () => cluster.membership.members(),
  });
  cluster.dispatcher.route("client.", clients.handle);
  const sweeper = new ExpirySweeper({
    timers: runtime.timers,
    store: items.replicas,
    intervalMs: config.expirySweepIntervalMs,
    batchMax: limits.expirySweepBatchMax,
    onExpired: (count) => metrics.recordExpired(count),
    onError,
  });
  const purger = new TablePurger({ timers: runtime.timers, store: items.replicas, catalog, batchMax: limits.dropTableBatchMax, idleDelayMs: purgeIdleDelayMs, onError });
  catalog.onDropped(() => purger.kick());
  // The DynamoDB API on `POST /` of the client port (RestApi.mounted), over the same items and
  // catalog; local mode (any credentials) unless SigV4 credentials are configured.
  const dynamo = new DynamoDbApi({ catalog, items: items.coordinator, clock: runtime.clock, timers: runtime.timers, auth: deps.dynamoAuth ?? dynamoAuthOf(process.env), logger: deps.logger });
  // Ring changes: this node pulls the partitions it gains from their old replicas (eventual keys
  // merged, strong keys re-read under the joint acceptor sets) and reports to the ring leader,
  // which settles the ring (drops `previous`) once every gaining node has.
  const transfer = new OwnershipTransfer({
    runtime,
    ring: () => cluster.membership.ring(),
    leader: () => cluster.membership.leader(),
    tables: () => ownershipTables(catalog),
    merge: (key, set, conflicts) => items.replicas.merge(key, set, conflicts),
    strongRead: (key, n) => items.strong.read(key, n),
    // Raise each old acceptor's ring fence before scanning it (paxos/README.md, ring-version fencing).
    strongFence: (node, ringVersion) => items.strong.fence(node, ringVersion),
    // A replaced or removed dead node is not waited for (eventual tables): plans, issue 6.
    isUp: (id) => cluster.membership.isUp(id),
    // Strong keys whose old acceptors include such a node: read with ceil(n/2) of the others (n = 2: the survivor).
    strongAcceptors: items.acceptors,
    isDown: (id) => cluster.membership.member(id)?.state === "down",
    onLoss: (message) => deps.logger.warn({ loss: message }, "ownership transfer: data only departed nodes held is gone"),
    publishRing: (ring) => cluster.membership.publish(ring),
  });
  cluster.dispatcher.route(ownershipMessagePrefix, (from, message) => transfer.handle(from, message));
  items.start();
  catalogSync.start();
  sweeper.start();
  purger.start();
  dynamo.start();
  transfer.start();
  if (antiEntropyOn) ae.start();
  return { items, catalogSync, sweeper, purger, dynamo, transfer, ae };
}

/** Trees anti-entropy keeps: (partition, n) pairs; 4096 covers 1024 partitions with 4 distinct n. */
const antiEntropyTreesMax = 4096;

/**
 * Table by id for the write path (anti-entropy's tree placement): a map rebuilt when an id is
 * missing (a table created since) or a table was dropped. A table whose n changes keeps its old
 * trees until the next miss rebuilds the map.
 */
function tableLookup(catalog: TableCatalog): (id: number) => TableDefinition | undefined {
  let byId = new Map<number, TableDefinition>();
  const rebuild = () => (byId = new Map(catalog.list().map((table) => [table.id, table])));
  catalog.onDropped(() => rebuild());
  return (id) => byId.get(id) ?? rebuild().get(id);
}

function ownershipTables(catalog: TableCatalog): OwnershipTable[] {
  return catalog.list().map((t) => ({ id: t.id, strong: t.consistency === "strong", n: t.replication.n, lww: t.conflicts === "lww" }));
}

/** SigV4 credentials from SHOAL_DYNAMODB_ACCESS_KEY_ID / SHOAL_DYNAMODB_SECRET_ACCESS_KEY, or local mode. */
function dynamoAuthOf(env: NodeJS.ProcessEnv): DynamoAuth {
  const auth = dynamoAuthFromEnvironment(env);
  if (!auth.ok) throw new ShoalError("BadConfig", 400, auth.message);
  return auth.auth;
}

/** The host peers and clients are told: the configured one, or loopback for a wildcard listen. */
function advertisedHostOf(config: NodeConfig): string {
  if (config.advertisedHost !== undefined) return config.advertisedHost;
  return config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host;
}

function seedsOf(config: NodeConfig): SeedAddress[] {
  return splitSeedList(config.join).map((text) => {
    const seed = parseSeedAddress(text);
    if (seed === undefined) throw new ShoalError("BadSeed", 400, `cannot join ${JSON.stringify(text)}: a seed is host:peerPort`);
    return seed;
  });
}

function listen(server: ClientServer, config: NodeConfig): Promise<{ url: string; port: number }> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, config.host, () => {
      server.off("error", reject);
      const address = server.address() as AddressInfo;
      const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
      resolve({ url: `http://${host}:${address.port}`, port: address.port });
    });
  });
}

/** True when `promise` settled within `timeoutMs`. */
async function waitAtMost(promise: Promise<void>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
