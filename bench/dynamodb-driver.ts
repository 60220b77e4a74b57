import type { Pool } from "undici";
import { KeyPicker } from "./key-picker.js";
import { headersFor, kvKey, partitionCount, prepareRequests, type DynamoAction, type DynamoRequestShape, type PreparedRequests } from "./dynamodb-requests.js";
import type { LoadDriver } from "./load-drivers.js";
import { poolsFor } from "./load-drivers.js";
import type { LoadSpec, LoadTarget } from "./load-spec.js";
import { postHead, RawHttpConnection, withBody } from "./raw-http.js";

type DynamoTarget = Extract<LoadTarget, { kind: "dynamodb" }>;

/** Requests wait at most this long for headers or body; a stuck server shows as errors, not a hang. */
const requestTimeoutMs = 10_000;
/** Bytes of an error answer kept for the report. */
const errorBodyMax = 500;
/** The payload's seed is fixed, so every scenario of a run writes and expects the same item size. */
const payloadSeed = 1;

export function shapeOf(spec: LoadSpec, target: DynamoTarget): DynamoRequestShape {
  return {
    kvTable: target.kvTable,
    queryTable: target.queryTable,
    keyPrefix: spec.keyPrefix,
    keyCount: spec.keyCount,
    itemBytes: spec.valueBytes,
    itemsPerPartition: target.itemsPerPartition,
    seed: payloadSeed,
  };
}

/**
 * The load driver for a DynamoDB API. Undici or raw (raw-http.ts): one keep-alive connection per
 * worker, no pipelining, prepared bodies and headers; a non-200 answer throws with its status and
 * body (the closed loop counts it and keeps the first). SDK: one DynamoDBClient per node, used in
 * turn, no retries (a retry would hide an error inside a latency).
 */
export async function createDynamoDriver(spec: LoadSpec, target: DynamoTarget): Promise<LoadDriver> {
  const shape = shapeOf(spec, target);
  const prepared = prepareRequests(shape);
  const partitions = partitionCount(shape);
  const pickers = Array.from({ length: spec.concurrency }, (_, worker) => new KeyPicker("", target.action === "Query" ? partitions : spec.keyCount, spec.seed + worker * 7919));
  if (target.sdk) return createSdkDriver(spec, target, prepared, pickers);
  const transport = target.transport === "raw" ? rawTransport(target.urls, spec.concurrency) : undiciTransport(target.urls, spec.concurrency);
  const send = transport.send;
  const putItem = async (index: number, worker: number) => (await send(worker, "PutItem", prepared.putItem(index))) >= 0;
  const putQueryItem = async (index: number, worker: number) => {
    for (let sort = 0; sort < target.itemsPerPartition; sort++) await send(worker, "PutItem", prepared.putQueryItem(index, sort));
    return true;
  };
  const operations: Record<DynamoAction, (index: number, worker: number) => Promise<boolean>> = {
    PutItem: putItem,
    GetItem: async (index, worker) => (await send(worker, "GetItem", prepared.getItem(index, target.consistentRead))) >= prepared.getItemBodyMin,
    Query: async (index, worker) => (await send(worker, "Query", prepared.query(index))) >= prepared.queryBodyMin,
  };
  const operation = operations[target.action];
  return {
    operation: (worker) => operation(pickers[worker]!.nextIndex(), worker),
    preload: () =>
      target.action === "Query" ? preloadIndexes(partitions, spec.concurrency, putQueryItem) : preloadIndexes(spec.keyCount, spec.concurrency, putItem),
    close: () => transport.close(),
  };
}

interface Transport {
  /** Resolves with the answer's body length on 200; throws with the status and body otherwise. */
  send(worker: number, action: DynamoAction, body: string): Promise<number>;
  close(): Promise<void>;
}

function undiciTransport(urls: readonly string[], concurrency: number): Transport {
  const pools = poolsFor(urls, concurrency);
  return {
    send: (worker, action, body) => post(pools[worker % pools.length]!, action, body),
    close: async () => {
      await Promise.all(pools.map((p) => p.close()));
    },
  };
}

/** One connection per worker to urls[worker % n], each with its own prepared request heads. */
function rawTransport(urls: readonly string[], concurrency: number): Transport {
  const connections = Array.from({ length: concurrency }, (_, worker) => {
    const connection = RawHttpConnection.forUrl(urls[worker % urls.length]!, requestTimeoutMs);
    const heads = {
      PutItem: postHead(connection.hostHeader, headersByAction.PutItem),
      GetItem: postHead(connection.hostHeader, headersByAction.GetItem),
      Query: postHead(connection.hostHeader, headersByAction.Query),
    };
    return { connection, heads };
  });
  return {
    send: async (worker, action, body) => {
      const { connection, heads } = connections[worker]!;
      const answer = await connection.request(withBody(heads[action], body));
      if (answer.status !== 200) throw new Error(`${action} answered ${answer.status}: ${answer.errorText}`);
      return answer.bodyBytes;
    },
    close: async () => {
      for (const { connection } of connections) connection.close();
    },
  };
}

async function createSdkDriver(spec: LoadSpec, target: DynamoTarget, prepared: PreparedRequests, pickers: KeyPicker[]): Promise<LoadDriver> {
  if (target.action === "Query") throw new Error("the SDK driver measures PutItem and GetItem only");
  const { DynamoDBClient, GetItemCommand, PutItemCommand } = await import("@aws-sdk/client-dynamodb");
  const clients = target.urls.map(
    (url) => new DynamoDBClient({ endpoint: url, region: "local", credentials: { accessKeyId: "local", secretAccessKey: "local" }, maxAttempts: 1 }),
  );
  const shape = shapeOf(spec, target);
  // Round-robin per request, as a load balancer would spread one client's requests over the nodes.
  let sent = 0;
  const client = (_worker: number) => clients[sent++ % clients.length]!;
  const keyOf = (index: number) => kvKey(shape, index);
  const put = async (index: number, worker: number) => {
    await client(worker).send(new PutItemCommand({ TableName: target.kvTable, Item: { pk: { S: keyOf(index) }, v: { S: prepared.kvPayload } } }));
    return true;
  };
  const get = async (index: number, worker: number) => {
    const answer = await client(worker).send(new GetItemCommand({ TableName: target.kvTable, Key: { pk: { S: keyOf(index) } }, ConsistentRead: target.consistentRead }));
    return answer.Item?.v?.S?.length === prepared.kvPayload.length;
  };
  const operation = target.action === "PutItem" ? put : get;
  return {
    operation: (worker) => operation(pickers[worker]!.nextIndex(), worker),
    preload: () => preloadIndexes(spec.keyCount, spec.concurrency, put),
    close: async () => {
      for (const c of clients) c.destroy();
    },
  };
}

async function preloadIndexes(count: number, concurrency: number, put: (index: number, worker: number) => Promise<boolean>): Promise<void> {
  let next = 0;
  const worker = async (w: number) => {
    while (next < count) {
      const index = next++;
      if (!(await put(index, w))) throw new Error(`preload of item ${index} failed`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
}

/**
 * One DynamoDB request through undici's dispatcher; resolves with the answer's body length when
 * the status is 200 and throws otherwise, with the status and the start of the body (DynamoDB's
 * `__type` and message).
 */
function post(pool: Pool, action: DynamoAction, body: string): Promise<number> {
  const headers = headersByAction[action];
  return new Promise((resolve, reject) => {
    let status = 0;
    let bodyBytes = 0;
    let errorText = "";
    pool.dispatch(
      { method: "POST", path: "/", body, headers, headersTimeout: requestTimeoutMs, bodyTimeout: requestTimeoutMs },
      {
        onRequestStart: () => undefined,
        onResponseStart: (_controller, statusCode) => {
          status = statusCode;
        },
        onResponseData: (_controller, chunk) => {
          bodyBytes += chunk.length;
          if (status !== 200 && errorText.length < errorBodyMax) errorText += chunk.toString("utf8", 0, errorBodyMax);
        },
        onResponseEnd: () => {
          if (status === 200) resolve(bodyBytes);
          else reject(new Error(`${action} answered ${status}: ${errorText.slice(0, errorBodyMax)}`));
        },
        onResponseError: (_controller, error) => reject(error),
      },
    );
  });
}

const headersByAction: Record<DynamoAction, Record<string, string>> = {
  PutItem: headersFor("PutItem"),
  GetItem: headersFor("GetItem"),
  Query: headersFor("Query"),
};
