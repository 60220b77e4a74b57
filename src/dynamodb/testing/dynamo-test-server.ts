import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { Timers, TimerHandle } from "../../runtime/runtime.js";
import { DynamoDbApi, type DynamoAuth } from "../dynamodb-api.js";
import type { DynamoLimits } from "../dynamo-limits.js";
import { MemoryCatalog } from "./memory-catalog.js";
import { MemoryItemOperations } from "./memory-item-operations.js";

/**
 * A DynamoDbApi on a node:http server (loopback, port 0) over the in-memory catalog and item
 * store, with a clock tests move by hand and an SDK client pointed at it. `close()` stops both.
 */
export interface DynamoTestServer {
  url: string;
  api: DynamoDbApi;
  items: MemoryItemOperations;
  clock: { nowMs(): number; advance(ms: number): void };
  client(options?: { accessKeyId?: string; secretAccessKey?: string; systemClockOffset?: number }): DynamoDBClient;
  close(): Promise<void>;
}

export interface DynamoTestServerOptions {
  auth?: DynamoAuth;
  limits?: Partial<DynamoLimits>;
  nowMs?: number;
  tableConsistency?: "strong" | "eventual";
}

export async function startDynamoTestServer(options: DynamoTestServerOptions = {}): Promise<DynamoTestServer> {
  let now = options.nowMs ?? Date.now();
  const clock = { nowMs: () => now, advance: (ms: number) => void (now += ms) };
  const items = new MemoryItemOperations();
  const api = new DynamoDbApi({
    catalog: new MemoryCatalog(clock.nowMs),
    items,
    clock,
    timers: realTimers(),
    ...(options.auth !== undefined ? { auth: options.auth } : {}),
    ...(options.limits !== undefined ? { limits: options.limits } : {}),
    ...(options.tableConsistency !== undefined ? { tableConsistency: options.tableConsistency } : {}),
  });
  const server: Server = createServer((req, res) => void api.handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clients: DynamoDBClient[] = [];
  return {
    url,
    api,
    items,
    clock,
    client: (c = {}) => {
      const client = new DynamoDBClient({
        endpoint: url,
        region: "us-east-1",
        maxAttempts: 1,
        credentials: { accessKeyId: c.accessKeyId ?? "local", secretAccessKey: c.secretAccessKey ?? "local" },
        ...(c.systemClockOffset !== undefined ? { systemClockOffset: c.systemClockOffset } : {}),
      });
      clients.push(client);
      return client;
    },
    close: async () => {
      for (const client of clients) client.destroy();
      await api.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function realTimers(): Timers {
  const handles = new Map<number, NodeJS.Timeout>();
  let next = 1;
  return {
    setTimeout(callback: () => void, delayMs: number): TimerHandle {
      const id = next++;
      handles.set(id, setTimeout(() => { handles.delete(id); callback(); }, delayMs));
      return { id };
    },
    clearTimeout(handle: TimerHandle): void {
      clearTimeout(handles.get(handle.id));
      handles.delete(handle.id);
    },
  };
}
