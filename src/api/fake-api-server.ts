import type { AddressInfo } from "node:net";
import { pino } from "pino";
import { assert } from "../assert.js";
import { TableCatalog } from "../catalog/table-catalog.js";
import type { TableDefinition } from "../catalog/table-definition.js";
import { defaultLimits, type Limits } from "../limits.js";
import { createTestRuntime } from "../node/test-runtime.js";
import type { ManualClock } from "../node/manual-clock.js";
import { NodeMetrics } from "../observability/node-metrics.js";
import { MemoryStorageEngine } from "../storage/memory-storage-engine.js";
import type { ApiContext } from "./api-context.js";
import { FakeItemOperations } from "./fake-item-operations.js";
import { RestApi } from "./rest-api.js";
import { createClientServer, type ClientServerKind } from "../http/client-server.js";

/**
 * The REST API on port 0 of loopback over a FakeItemOperations: the front door's tests drive
 * real HTTP through the real RestApi and handlers, with the coordinator replaced by a fake they
 * can steer (siblings, contexts, failures). Tables are made through POST /v1/tables as usual.
 */
export interface FakeApi {
  url: string;
  items: FakeItemOperations;
  clock: ManualClock;
  limits: Limits;
  /** The definition of a table made through the API (to seed the fake), or a failed assertion. */
  table(name: string): TableDefinition;
  close(): Promise<void>;
}

export async function startFakeApi(options: { limits?: Partial<Limits>; httpServer?: ClientServerKind } = {}): Promise<FakeApi> {
  const limits: Limits = { ...defaultLimits, ...options.limits };
  const storage = new MemoryStorageEngine();
  const runtime = createTestRuntime({ storage });
  const items = new FakeItemOperations({ siblingsMax: limits.siblingsMax, nowMs: () => runtime.clock.nowMs() });
  const tables = TableCatalog.open(runtime, { tablesMax: limits.tablesMax, durableWrites: false });
  const context: ApiContext = {
    tables,
    items,
    limits,
    clock: runtime.clock,
    clusterSize: () => 3,
    cluster: () => {
      throw new Error("the fake API has no cluster view");
    },
    antiEntropy: () => {
      throw new Error("the fake API has no anti-entropy");
    },
    tableDropped: () => undefined,
  };
  const metrics = new NodeMetrics({ nodeId: "fake", storage });
  const api = new RestApi({ context, metrics, logger: pino({ level: "silent" }), nodeId: "fake", httpInFlightMax: limits.httpInFlightMax });
  api.state = "ready";
  const server = createClientServer(options.httpServer ?? "shoal", api.handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    items,
    clock: runtime.clock,
    limits,
    table: (name) => {
      const table = tables.get(name);
      assert(table !== undefined, `table ${name} was not created`);
      return table;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await storage.close();
    },
  };
}
