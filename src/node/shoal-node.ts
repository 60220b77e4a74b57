import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import { checkLimits } from "../limits.js";
import type { Runtime } from "../runtime/runtime.js";
import { NodeTimers, createNodeRuntime } from "../runtime/node-runtime.js";
import type { StorageEngine } from "../storage/storage-engine.js";
import { TableCatalog } from "../catalog/table-catalog.js";
import { ItemStore } from "../replica/item-store.js";
import { ExpirySweeper } from "../replica/expiry-sweeper.js";
import { TablePurger } from "../replica/table-purger.js";
import { LocalCoordinator } from "../coordinator/local-coordinator.js";
import { NodeMetrics } from "../observability/node-metrics.js";
import { RestApi } from "../api/rest-api.js";
import { ShoalResponse } from "../api/shoal-response.js";
import type { ApiContext } from "../api/api-context.js";
import type { NodeConfig } from "./node-config.js";

/**
 * One running Shoal node: composes the runtime, the catalog, the replica's ItemStore, the
 * coordinator and the HTTP front door, and runs the background expiry sweep and table purge.
 * The caller (the CLI, or a test) opens storage and closes it after `close()`.
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
}

/** How often the purger looks for dropped tables when it was not kicked. */
const purgeIdleDelayMs = 60_000;

export class ShoalNode {
  readonly url: string;
  readonly nodeId: string;

  private constructor(
    private readonly parts: {
      config: NodeConfig;
      runtime: Runtime;
      server: Server<typeof IncomingMessage, typeof ShoalResponse>;
      api: RestApi;
      sweeper: ExpirySweeper;
      purger: TablePurger;
      metrics: NodeMetrics;
      logger: Logger;
      url: string;
    },
  ) {
    this.url = parts.url;
    this.nodeId = parts.config.nodeId;
  }

  get metrics(): NodeMetrics {
    return this.parts.metrics;
  }

  static async start(config: NodeConfig, deps: ShoalNodeDeps): Promise<ShoalNode> {
    const limits = checkLimits({ ...config.limits });
    const { storage, logger } = deps;
    const runtime =
      deps.runtime ??
      createNodeRuntime({ nodeId: config.nodeId, storage, clockOffsetMs: config.clockOffsetMs, clockSkewMaxMs: limits.clockSkewMaxMs });
    const catalog = TableCatalog.open(runtime, { tablesMax: limits.tablesMax, durableWrites: config.durableWrites });
    const store = new ItemStore(runtime, { durableWrites: config.durableWrites, isTableLive: (id) => catalog.isLive(id) });
    store.restoreClock();
    const metrics = new NodeMetrics({ nodeId: config.nodeId, storage });
    const onError = (error: unknown): void => logger.error({ err: error }, "background step failed");
    const sweeper = new ExpirySweeper({
      timers: runtime.timers,
      store,
      intervalMs: config.expirySweepIntervalMs,
      batchMax: limits.expirySweepBatchMax,
      onExpired: (count) => metrics.recordExpired(count),
      onError,
    });
    const purger = new TablePurger({ timers: runtime.timers, store, catalog, batchMax: limits.dropTableBatchMax, idleDelayMs: purgeIdleDelayMs, onError });
    const context: ApiContext = {
      tables: catalog,
      items: new LocalCoordinator(store),
      limits,
      clock: runtime.clock,
      clusterSize: () => 1,
      tableDropped: () => purger.kick(),
    };
    const api = new RestApi({ context, metrics, logger, nodeId: config.nodeId, httpInFlightMax: limits.httpInFlightMax });
    metrics.setInFlightSource(() => api.inFlightCount);
    const server = createServer({ ServerResponse: ShoalResponse, keepAlive: true }, api.handle);
    // Handlers decide on Expect: 100-continue themselves (after checking the declared length).
    server.on("checkContinue", api.handle);
    const url = await listen(server, config);
    api.state = "ready";
    sweeper.start();
    purger.start();
    return new ShoalNode({ config, runtime, server, api, sweeper, purger, metrics, logger, url });
  }

  /**
   * Stops accepting connections, answers new requests on open connections with 503, waits up
   * to shutdownGraceMs for in-flight requests, then closes every connection and stops the
   * background work. Storage stays open (the caller opened it).
   */
  async close(): Promise<void> {
    const { api, server, sweeper, purger, runtime, config, logger } = this.parts;
    if (api.state === "stopping") return;
    api.state = "stopping";
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const drained = await waitAtMost(api.whenIdle(), config.shutdownGraceMs);
    if (!drained) logger.warn({ inFlight: api.inFlightCount, graceMs: config.shutdownGraceMs }, "shutdown grace ended with requests in flight");
    server.closeAllConnections();
    await closed;
    await Promise.all([sweeper.stop(), purger.stop()]);
    if (runtime.timers instanceof NodeTimers) runtime.timers.clearAll();
  }
}

function listen(server: Server<typeof IncomingMessage, typeof ShoalResponse>, config: NodeConfig): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, config.host, () => {
      server.off("error", reject);
      const address = server.address() as AddressInfo;
      const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
      resolve(`http://${host}:${address.port}`);
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
