import { EventEmitter } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DynamoDbApi } from "../src/dynamodb/dynamodb-api.js";
import { startTestNode, type TestNode } from "../src/node/test-node.js";
import { LmdbStorageEngine } from "../src/storage/lmdb-storage-engine.js";
import { MemoryCatalog } from "../src/dynamodb/testing/memory-catalog.js";
import { MemoryItemOperations } from "../src/dynamodb/testing/memory-item-operations.js";
import { headersFor, itemsPerPartitionDefault, prepareRequests, type DynamoAction } from "./dynamodb-requests.js";

/**
 * The DynamoDB front door's own CPU per request, in one process and without a network: a
 * DynamoDbApi over the in-memory catalog and item store (testing/), fed the DynamoDB
 * benchmark's prepared request bodies through a stand-in request and response (no sockets,
 * no node:http parser, no storage), so what is measured is DynamoDB JSON in and out, the
 * validation, the table lookup, the item model and codec, capacity and the response's CRC.
 * Steadier than a server probe on a busy machine (no scheduling between processes), but not
 * the whole cost of a request: bench/dynamo-probe.ts measures that.
 *
 * `--store node` puts a real one-node ShoalNode underneath instead (memory storage: its
 * catalog, ClusterCoordinator, strong path and acceptor records, so a PutItem is the one local
 * CASPaxos write and a GetItem the acceptor record read); `--store lmdb` the same on LMDB in a
 * temporary directory (writes durable; CPU of the commit thread included). Still no sockets
 * and no node:http: Shoal's own CPU per DynamoDB request after the HTTP layer.
 *
 *   node dist/bench/dynamo-frontdoor.js --ops put,get,query --requests 200000
 *   node dist/bench/dynamo-frontdoor.js --store node --ops put,get,cget,query
 */
const scenarios: Record<string, { action: DynamoAction; consistentRead: boolean }> = {
  put: { action: "PutItem", consistentRead: false },
  get: { action: "GetItem", consistentRead: false },
  cget: { action: "GetItem", consistentRead: true },
  query: { action: "Query", consistentRead: false },
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      ops: { type: "string", default: "put,get,query" },
      requests: { type: "string", default: "100000" },
      rounds: { type: "string", default: "5" },
      keys: { type: "string", default: "2000" },
      store: { type: "string", default: "memory" },
    },
  });
  const requests = Number(values.requests);
  const rounds = Number(values.rounds);
  const keyCount = Number(values.keys);
  if (!(requests >= 1 && requests <= 10_000_000)) throw new Error(`--requests must be from 1 to 10000000; got ${values.requests}`);
  if (!(rounds >= 1 && rounds <= 100)) throw new Error(`--rounds must be from 1 to 100; got ${values.rounds}`);
  if (!(keyCount >= 1 && keyCount <= 1_000_000)) throw new Error(`--keys must be from 1 to 1000000; got ${values.keys}`);
  if (values.store !== "memory" && values.store !== "node" && values.store !== "lmdb") throw new Error(`--store must be memory, node or lmdb; got ${JSON.stringify(values.store)}`);
  const now = 1_800_000_000_000;
  let node: TestNode | undefined;
  let lmdbDir: string | undefined;
  if (values.store !== "memory") {
    lmdbDir = values.store === "lmdb" ? mkdtempSync(join(tmpdir(), "shoal-frontdoor-")) : undefined;
    const storage = lmdbDir === undefined ? undefined : await LmdbStorageEngine.open({ path: lmdbDir });
    node = await startTestNode({ nowMs: now, ...(storage !== undefined ? { storage } : {}) });
  }
  const api =
    node === undefined
      ? new DynamoDbApi({ catalog: new MemoryCatalog(() => now), items: new MemoryItemOperations(), clock: { nowMs: () => now }, timers: noTimers })
      : new DynamoDbApi({ catalog: node.node.catalog, items: node.node.items.coordinator, clock: node.clock, timers: noTimers });
  try {
    await measure(api, values, requests, rounds, keyCount);
  } finally {
    if (node !== undefined) {
      await node.close();
      await node.storage.close();
    }
    if (lmdbDir !== undefined) rmSync(lmdbDir, { recursive: true, force: true });
  }
}

async function measure(api: DynamoDbApi, values: { ops: string }, requests: number, rounds: number, keyCount: number): Promise<void> {
  const shape = { kvTable: "bench_kv", queryTable: "bench_query", keyPrefix: "k", keyCount, itemBytes: 1024, itemsPerPartition: itemsPerPartitionDefault, seed: 1 };
  const prepared = prepareRequests(shape);
  await send(api, "CreateTable", JSON.stringify({ TableName: "bench_kv", KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }], AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }], BillingMode: "PAY_PER_REQUEST" }));
  await send(api, "CreateTable", JSON.stringify({
    TableName: "bench_query",
    KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }, { AttributeName: "sk", KeyType: "RANGE" }],
    AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }, { AttributeName: "sk", AttributeType: "S" }],
    BillingMode: "PAY_PER_REQUEST",
  }));
  for (let i = 0; i < keyCount; i++) await send(api, "PutItem", prepared.putItem(i));
  const partitions = Math.ceil(keyCount / itemsPerPartitionDefault);
  for (let p = 0; p < partitions; p++) for (let s = 0; s < itemsPerPartitionDefault; s++) await send(api, "PutItem", prepared.putQueryItem(p, s));
  const bodyOf = (op: string, i: number): string => {
    const scenario = scenarios[op]!;
    if (scenario.action === "PutItem") return prepared.putItem(i % keyCount);
    if (scenario.action === "GetItem") return prepared.getItem(i % keyCount, scenario.consistentRead);
    return prepared.query(i % partitions);
  };
  const ops = values.ops.split(",").filter((op) => op !== "");
  for (const op of ops) if (scenarios[op] === undefined) throw new Error(`unknown op ${op}; one of ${Object.keys(scenarios).join(", ")}`);
  const bodies = new Map(ops.map((op) => [op, Array.from({ length: Math.min(requests, keyCount) }, (_, i) => Buffer.from(bodyOf(op, i)))]));
  const results = new Map<string, number[]>();
  for (let round = 0; round < rounds; round++) {
    for (const op of ops) {
      const list = bodies.get(op)!;
      const action = scenarios[op]!.action;
      const before = process.cpuUsage();
      for (let i = 0; i < requests; i++) await send(api, action, list[i % list.length]!);
      const used = process.cpuUsage(before);
      const usPerOp = (used.user + used.system) / requests;
      results.set(op, [...(results.get(op) ?? []), usPerOp]);
      process.stdout.write(`round ${round + 1} ${op.padEnd(5)} ${usPerOp.toFixed(2)} us CPU/request\n`);
    }
  }
  for (const op of ops) {
    const sorted = [...results.get(op)!].sort((a, b) => a - b);
    process.stdout.write(`median ${op.padEnd(5)} ${sorted[Math.floor(sorted.length / 2)]!.toFixed(2)} us CPU/request (min ${sorted[0]!.toFixed(2)})\n`);
  }
}

const noTimers = {
  setTimeout: () => ({ cancel: () => undefined }),
  setInterval: () => ({ cancel: () => undefined }),
} as unknown as ConstructorParameters<typeof DynamoDbApi>[0]["timers"];

let failures = 0;

/** One request through DynamoDbApi.handle with a stand-in request and response. */
async function send(api: DynamoDbApi, action: DynamoAction | "CreateTable", body: string | Buffer): Promise<void> {
  const bytes = typeof body === "string" ? Buffer.from(body) : body;
  const req = new EventEmitter() as EventEmitter & { headers: Record<string, string>; method: string; url: string };
  req.headers = { ...headersFor(action as DynamoAction), "content-length": String(bytes.length) };
  req.method = "POST";
  req.url = "/";
  let status = 0;
  let answer: Buffer | undefined;
  const res = {
    headersSent: false,
    shouldKeepAlive: true,
    writeHead(code: number) {
      status = code;
      this.headersSent = true;
      return this;
    },
    end(data: Buffer) {
      answer = data;
    },
  };
  const done = api.handle(req as unknown as IncomingMessage, res as unknown as ServerResponse);
  req.emit("data", bytes);
  req.emit("end");
  await done;
  if (status !== 200 && failures++ < 5) process.stderr.write(`${action} answered ${status}: ${answer?.toString("utf8").slice(0, 300)}\n`);
}

await main();
