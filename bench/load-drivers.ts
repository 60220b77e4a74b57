import { randomBytes } from "node:crypto";
import { Pool, type Dispatcher } from "undici";
import { KeyPicker, keyName } from "./key-picker.js";
import type { LoadSpec } from "./load-spec.js";
import { RespClient } from "./resp-client.js";
import { ShoalClient } from "../src/client/shoal-client.js";
import { createDynamoDriver } from "./dynamodb-driver.js";

/** One system's client side: a keep-alive connection per worker, an operation, a preload. */
export interface LoadDriver {
  operation(worker: number): Promise<boolean>;
  /** Writes every key once, `concurrency` at a time. */
  preload(): Promise<void>;
  close(): Promise<void>;
}

/** Requests wait at most this long for headers or body; a stuck server shows as errors, not a hang. */
const requestTimeoutMs = 10_000;

export async function createLoadDriver(spec: LoadSpec): Promise<LoadDriver> {
  const value = randomBytes(spec.valueBytes);
  const pickers = Array.from({ length: spec.concurrency }, (_, worker) => new KeyPicker(spec.keyPrefix, spec.keyCount, spec.seed + worker * 7919));
  switch (spec.target.kind) {
    case "http":
      return createHttpDriver(spec, spec.target, value, pickers);
    case "redis":
      return createRedisDriver(spec, spec.target, value, pickers);
    case "shoal-cluster":
      return createShoalClusterDriver(spec, spec.target, value, pickers);
    case "etcd":
      return createEtcdDriver(spec, spec.target, value, pickers);
    case "shoal-client":
      return createShoalClientDriver(spec, spec.target, value, pickers);
    case "dynamodb":
      return createDynamoDriver(spec, spec.target);
  }
}

/** The partition-aware client: each request goes straight to a node of the key's preference list. */
async function createShoalClientDriver(spec: LoadSpec, target: { seeds: string[]; table: string; r?: number }, value: Buffer, pickers: KeyPicker[]): Promise<LoadDriver> {
  const client = await ShoalClient.connect({ seeds: target.seeds, requestTimeoutMs: requestTimeoutMs });
  const readOptions = target.r === undefined ? {} : { r: target.r };
  const put = async (key: string) => {
    await client.put(target.table, key, value);
    return true;
  };
  const get = async (key: string) => {
    const item = await client.get(target.table, key, readOptions);
    return item !== undefined && item.siblings[0]?.value.byteLength === spec.valueBytes;
  };
  if (spec.op === "increment") throw new Error("the client driver has no increment scenario");
  const operation = spec.op === "get" ? get : put;
  return {
    operation: (worker) => operation(pickers[worker]!.next()),
    preload: () => preloadKeys(spec, put),
    close: async () => client.close(),
  };
}

/** One pool per node, `ceil(concurrency / nodes)` connections each; worker i uses node i mod n. */
export function poolsFor(urls: readonly string[], concurrency: number): Pool[] {
  const perNode = Math.max(1, Math.ceil(concurrency / urls.length));
  return urls.map((url) => new Pool(url, { connections: perNode, pipelining: 1, headersTimeout: requestTimeoutMs, bodyTimeout: requestTimeoutMs }));
}

function createShoalClusterDriver(spec: LoadSpec, target: { urls: string[]; table: string; r?: number }, value: Buffer, pickers: KeyPicker[]): LoadDriver {
  const pools = poolsFor(target.urls, spec.concurrency);
  const base = `/v1/tables/${encodeURIComponent(target.table)}/items/`;
  const headers = { "content-type": "application/octet-stream" };
  const pool = (worker: number) => pools[worker % pools.length]!;
  const readQuery = target.r === undefined ? "" : `?r=${target.r}`;
  const put = async (key: string, worker: number) => {
    const answer = await dispatch(pool(worker), { method: "PUT", path: base + encodeURIComponent(key), body: value, headers });
    return answer.status >= 200 && answer.status < 300;
  };
  const get = async (key: string, worker: number) => {
    const answer = await dispatch(pool(worker), { method: "GET", path: base + encodeURIComponent(key) + readQuery });
    return answer.status === 200 && answer.bodyBytes === spec.valueBytes;
  };
  const increment = async (key: string, worker: number) => {
    const answer = await dispatch(pool(worker), { method: "POST", path: `${base}${encodeURIComponent(key)}/increment?by=1` });
    return answer.status === 200;
  };
  const operation = spec.op === "get" ? get : spec.op === "put" ? put : increment;
  return {
    operation: (worker) => operation(pickers[worker]!.next(), worker),
    preload: () => preloadKeys(spec, put),
    close: async () => {
      await Promise.all(pools.map((p) => p.close()));
    },
  };
}

/**
 * etcd's v3 API through its JSON gateway (keys and values base64): put is a Raft-committed,
 * fsynced write; range without `serializable` is etcd's linearizable read (a ReadIndex round
 * through the leader). Any member answers; followers forward to the leader.
 */
function createEtcdDriver(spec: LoadSpec, target: { urls: string[]; serializable?: boolean }, value: Buffer, pickers: KeyPicker[]): LoadDriver {
  const pools = poolsFor(target.urls, spec.concurrency);
  const headers = { "content-type": "application/json" };
  const valueBase64 = value.toString("base64");
  const pool = (worker: number) => pools[worker % pools.length]!;
  const put = async (key: string, worker: number) => {
    const body = JSON.stringify({ key: Buffer.from(key).toString("base64"), value: valueBase64 });
    const answer = await dispatch(pool(worker), { method: "POST", path: "/v3/kv/put", body, headers });
    return answer.status === 200;
  };
  const get = async (key: string, worker: number) => {
    // serializable: answered by the member from its own state (etcd's fast, possibly stale read).
    const body = JSON.stringify({ key: Buffer.from(key).toString("base64"), ...(target.serializable === true ? { serializable: true } : {}) });
    const answer = await dispatch(pool(worker), { method: "POST", path: "/v3/kv/range", body, headers });
    // The JSON answer carries the value base64-encoded; a found key makes the body longer than the value.
    return answer.status === 200 && answer.bodyBytes > spec.valueBytes;
  };
  if (spec.op === "increment") throw new Error("etcd has no increment scenario here");
  const operation = spec.op === "get" ? get : put;
  return {
    operation: (worker) => operation(pickers[worker]!.next(), worker),
    preload: () => preloadKeys(spec, put),
    close: async () => {
      await Promise.all(pools.map((p) => p.close()));
    },
  };
}

function createHttpDriver(spec: LoadSpec, target: { url: string; table: string }, value: Buffer, pickers: KeyPicker[]): LoadDriver {
  // One connection per worker, no pipelining: the same shape a browser or an SDK client has.
  const pool = new Pool(target.url, { connections: spec.concurrency, pipelining: 1, headersTimeout: requestTimeoutMs, bodyTimeout: requestTimeoutMs });
  const base = `/v1/tables/${encodeURIComponent(target.table)}/items/`;
  const headers = { "content-type": "application/octet-stream" };
  const put = async (key: string) => {
    const answer = await dispatch(pool, { method: "PUT", path: base + encodeURIComponent(key), body: value, headers });
    return answer.status >= 200 && answer.status < 300;
  };
  const get = async (key: string) => {
    const answer = await dispatch(pool, { method: "GET", path: base + encodeURIComponent(key) });
    return answer.status === 200 && answer.bodyBytes === spec.valueBytes;
  };
  if (spec.op === "increment") throw new Error("the single-node benchmark has no increment scenario");
  return {
    operation: (worker) => (spec.op === "get" ? get : put)(pickers[worker]!.next()),
    preload: () => preloadKeys(spec, put),
    close: () => pool.close(),
  };
}

/**
 * One request through undici's dispatcher with a minimal handler: status and body length only.
 * `pool.request` builds a Readable stream per response, which costs the load process two to three
 * times more CPU per request; on a 2-core machine the client must stay cheaper than the server.
 */
function dispatch(pool: Pool, options: Dispatcher.DispatchOptions): Promise<{ status: number; bodyBytes: number }> {
  return new Promise((resolve, reject) => {
    let status = 0;
    let bodyBytes = 0;
    pool.dispatch(options, {
      // Its presence marks the handler as undici's new-style handler (without it, undici 7 asks for onConnect).
      onRequestStart: () => undefined,
      onResponseStart: (_controller, statusCode) => {
        status = statusCode;
      },
      onResponseData: (_controller, chunk) => {
        bodyBytes += chunk.length;
      },
      onResponseEnd: () => resolve({ status, bodyBytes }),
      onResponseError: (_controller, error) => reject(error),
    });
  });
}

async function createRedisDriver(spec: LoadSpec, target: { host: string; port: number }, value: Buffer, pickers: KeyPicker[]): Promise<LoadDriver> {
  const clients = await Promise.all(pickers.map(() => RespClient.connect({ host: target.host, port: target.port, pipelineMax: 1024 })));
  const put = async (key: string, worker = 0) => (await clients[worker]!.command(["SET", key, value])) === "OK";
  const get = async (key: string, worker: number) => {
    const reply = await clients[worker]!.command(["GET", key]);
    return Buffer.isBuffer(reply) && reply.length === spec.valueBytes;
  };
  if (spec.op === "increment") throw new Error("the single-node benchmark has no increment scenario");
  return {
    operation: (worker) => (spec.op === "get" ? get : put)(pickers[worker]!.next(), worker),
    preload: () => preloadKeys(spec, (key, worker) => put(key, worker)),
    close: async () => {
      for (const client of clients) client.close();
    },
  };
}

async function preloadKeys(spec: LoadSpec, put: (key: string, worker: number) => Promise<boolean>): Promise<void> {
  let next = 0;
  const worker = async (index: number) => {
    while (next < spec.keyCount) {
      const key = keyName(spec.keyPrefix, next++);
      if (!(await put(key, index))) throw new Error(`preload of ${key} failed`);
    }
  };
  await Promise.all(Array.from({ length: spec.concurrency }, (_, index) => worker(index)));
}
