import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { runBenchCli } from "./bench-cli.js";
import { createDynamoDriver } from "./dynamodb-driver.js";
import type { DynamoAction } from "./dynamodb-requests.js";
import type { LoadSpec, LoadTarget } from "./load-spec.js";

type DynamoTarget = Extract<LoadTarget, { kind: "dynamodb" }>;

/**
 * The driver against a scripted in-process server: what it sends (target, headers, bodies), and
 * that an error answer, a short answer or a missing item counts as a failure instead of a figure.
 */
interface Seen {
  target: string;
  body: { TableName: string; Item?: Record<string, { S: string }>; Key?: unknown; ConsistentRead?: boolean };
}

let server: Server;
let url: string;
const seen: Seen[] = [];
/** What the server answers next: status and body, by operation. */
let answer: (target: string, body: Seen["body"]) => { status: number; body: string } = () => ({ status: 200, body: "{}" });

before(async () => {
  server = createServer((req: IncomingMessage, res) => {
    let text = "";
    req.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
    req.on("end", () => {
      const target = String(req.headers["x-amz-target"]);
      const body = JSON.parse(text) as Seen["body"];
      if (seen.length < 10_000) seen.push({ target, body });
      const reply = answer(target, body);
      // With Content-Length, as Shoal and dynalite answer (the raw client reads no chunked bodies).
      res.writeHead(reply.status, { "content-type": "application/x-amz-json-1.0", "content-length": Buffer.byteLength(reply.body) }).end(reply.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

function driverFor(action: DynamoAction, targetOverrides: Partial<DynamoTarget> = {}) {
  const load = spec(action, targetOverrides.transport ?? "undici");
  const target = { ...(load.target as DynamoTarget), ...targetOverrides };
  return createDynamoDriver({ ...load, target }, target);
}

function spec(action: DynamoAction, transport: "undici" | "raw"): LoadSpec {
  return {
    target: { kind: "dynamodb", urls: [url], action, consistentRead: action === "GetItem", sdk: false, transport, kvTable: "bench_kv", queryTable: "bench_query", itemsPerPartition: 8 },
    op: action === "PutItem" ? "put" : "get",
    valueBytes: 1024,
    concurrency: 2,
    keyPrefix: "k",
    keyCount: 16,
    preload: false,
    warmupMs: 0,
    durationMs: 0,
    opsMax: 10,
    serverPids: [],
    seed: 1,
  };
}

for (const transport of ["undici", "raw"] as const) {
  test(`${transport}: preload writes every kv item once; PutItem succeeds on 200 and fails with DynamoDB's error type on 400`, async () => {
    seen.length = 0;
    const driver = await driverFor("PutItem", { transport });
    try {
      await driver.preload();
      assert.equal(seen.length, 16);
      assert.deepEqual(new Set(seen.map((s) => s.body.Item!.pk!.S)).size, 16);
      assert.ok(seen.every((s) => s.target === "DynamoDB_20120810.PutItem" && s.body.TableName === "bench_kv"));
      assert.equal(await driver.operation(0), true);
      answer = () => ({ status: 400, body: '{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"too many requests in flight"}' });
      await assert.rejects(driver.operation(1), /PutItem answered 400: .*ThrottlingException.*too many requests in flight/);
    } finally {
      answer = () => ({ status: 200, body: "{}" });
      await driver.close();
    }
  });

  test(`${transport}: GetItem counts an answer without the item (an empty {}) as a failure, and a found item as a success`, async () => {
    seen.length = 0;
    const driver = await driverFor("GetItem", { transport });
    try {
      assert.equal(await driver.operation(0), false);
      assert.equal(seen[0]!.body.ConsistentRead, true);
      answer = () => ({ status: 200, body: JSON.stringify({ Item: { pk: { S: "k00" }, v: { S: "x".repeat(1019) } } }) });
      assert.equal(await driver.operation(0), true);
    } finally {
      answer = () => ({ status: 200, body: "{}" });
      await driver.close();
    }
  });

  test(`${transport}: Query preloads every partition's items and needs the four queried items in its answer`, async () => {
    seen.length = 0;
    const driver = await driverFor("Query", { transport });
    try {
      await driver.preload();
      // 16 keys at 8 items per partition: 2 partitions of 8 items.
      assert.equal(seen.length, 16);
      assert.deepEqual([...new Set(seen.map((s) => s.body.Item!.pk!.S))].sort(), ["kp00", "kp01"]);
      answer = () => ({ status: 200, body: JSON.stringify({ Count: 1, Items: [{ v: { S: "x".repeat(1000) } }] }) });
      assert.equal(await driver.operation(0), false);
      answer = () => ({ status: 200, body: JSON.stringify({ Count: 4, Items: Array.from({ length: 4 }, () => ({ v: { S: "x".repeat(1005) } })) }) });
      assert.equal(await driver.operation(1), true);
    } finally {
      answer = () => ({ status: 200, body: "{}" });
      await driver.close();
    }
  });
}

test("the SDK driver has no Query scenario", async () => {
  await assert.rejects(driverFor("Query", { sdk: true }), /the SDK driver measures PutItem and GetItem only/);
});

test("bench --dynamodb refuses bad flags by name before starting anything", async () => {
  const io = { stdout: { write: () => true }, stderr: { write: () => true }, stdin: process.stdin } as unknown as Parameters<typeof runBenchCli>[1];
  await assert.rejects(runBenchCli(["--dynamodb", "--cluster"], io), /--cluster and --dynamodb are two benchmarks; pick one/);
  await assert.rejects(runBenchCli(["--dynamodb", "--systems", "redis"], io), /--systems takes shoal, shoal-cluster, dynalite; got "redis"/);
  await assert.rejects(runBenchCli(["--dynamodb", "--ops", "scan"], io), /--ops takes put, get, get-consistent, query, sdk-put, sdk-get; got "scan"/);
  await assert.rejects(runBenchCli(["--dynamodb", "--value-bytes", "10"], io), /--value-bytes with --dynamodb is the item size, from 64 to 409600; got 10/);
  await assert.rejects(runBenchCli(["--dynamodb", "--dynalite-store", "disk"], io), /--dynalite-store takes leveldb, memory; got "disk"/);
  await assert.rejects(runBenchCli(["--dynamodb", "--driver", "wrk"], io), /--driver takes undici, raw; got "wrk"/);
});
