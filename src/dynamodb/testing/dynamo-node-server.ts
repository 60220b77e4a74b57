import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { TestNode } from "../../node/test-node.js";
import type { TimerHandle, Timers } from "../../runtime/runtime.js";
import { DynamoDbApi } from "../dynamodb-api.js";

/**
 * The DynamoDB front door over a real ShoalNode (its replicated catalog and its cluster
 * coordinator), on a server of its own until the node's HTTP server routes `POST /` to it.
 */
export interface DynamoNodeServer {
  url: string;
  api: DynamoDbApi;
  client: DynamoDBClient;
  close(): Promise<void>;
}

export async function startDynamoNodeServer(test: TestNode, options: { tableConsistency?: "strong" | "eventual" } = {}): Promise<DynamoNodeServer> {
  const api = new DynamoDbApi({
    catalog: test.node.catalog,
    items: test.node.items.coordinator,
    clock: test.clock,
    timers: realTimers(),
    ...(options.tableConsistency !== undefined ? { tableConsistency: options.tableConsistency } : {}),
  });
  const server: Server = createServer((req, res) => void api.handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new DynamoDBClient({ endpoint: url, region: "us-east-1", maxAttempts: 1, credentials: { accessKeyId: "local", secretAccessKey: "local" } });
  return {
    url,
    api,
    client,
    close: async () => {
      client.destroy();
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
      handles.set(
        id,
        setTimeout(() => {
          handles.delete(id);
          callback();
        }, delayMs),
      );
      return { id };
    },
    clearTimeout(handle: TimerHandle): void {
      clearTimeout(handles.get(handle.id));
      handles.delete(handle.id);
    },
  };
}
