import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { CreateTableCommandInput } from "@aws-sdk/client-dynamodb";
import { shoalCliPath } from "./paths.js";
import { freePort } from "./redis-system.js";
import { pinned, processHandle, startListeningProcess, type ServerProcess } from "./server-process.js";
import { startShoalCluster } from "./shoal-cluster-system.js";

/**
 * The three systems of the DynamoDB benchmark, each started fresh and stopped by it: one Shoal
 * node (`shoal start`, LMDB, fsync before ack), a Shoal cluster of `members` nodes, and dynalite
 * (npm, DynamoDB on LevelDB in Node) on a free loopback port. Every server is pinned to `cpu`.
 */
export type DynamoSystemName = "shoal" | "shoal-cluster" | "dynalite";
export const dynamoSystems: readonly DynamoSystemName[] = ["shoal", "shoal-cluster", "dynalite"];

/** dynalite's store: LevelDB in a temporary directory (its writes are not synced) or memory-level. */
export type DynaliteStore = "leveldb" | "memory";

export interface StartedDynamoSystem {
  urls: string[];
  pids: number[];
  stop(): Promise<void>;
}

export const kvTableName = "bench_kv";
export const queryTableName = "bench_query";

const require = createRequire(import.meta.url);

/** dynalite's package version, or undefined when the devDependency is missing. */
export function dynaliteVersion(): string | undefined {
  try {
    const path = require.resolve("dynalite/package.json");
    return (JSON.parse(readFileSync(path, "utf8")) as { version?: string }).version ?? "unknown";
  } catch {
    return undefined;
  }
}

export async function startDynamoSystem(
  system: DynamoSystemName,
  options: { cpu?: number; deadlineMs: number; members: number; dynaliteStore: DynaliteStore },
): Promise<StartedDynamoSystem> {
  const started =
    system === "dynalite"
      ? await startDynalite(options)
      : system === "shoal"
        ? await startShoalNode(options)
        : await startShoalCluster({ members: options.members, ...(options.cpu !== undefined ? { cpu: options.cpu } : {}), deadlineMs: options.deadlineMs, tables: [] });
  try {
    await createBenchTables(started.urls, options.deadlineMs);
  } catch (error) {
    await started.stop();
    throw error;
  }
  return started;
}

async function startShoalNode(options: { cpu?: number; deadlineMs: number }): Promise<StartedDynamoSystem> {
  const dataDir = mkdtempSync(join(tmpdir(), "shoal-bench-dynamodb-"));
  let node: ServerProcess;
  try {
    node = await startListeningProcess({
      ...(options.cpu !== undefined ? { cpu: options.cpu } : {}),
      command: process.execPath,
      args: [shoalCliPath, "start", "--port", "0", "--peer-port", "0", "--data-dir", dataDir, "--log-level", "info"],
      deadlineMs: options.deadlineMs,
    });
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  return {
    urls: [node.url],
    pids: [node.pid],
    stop: async () => {
      await node.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Tables become ACTIVE at once (`--createTableMs 0`); dynalite prints one line when it listens. */
async function startDynalite(options: { cpu?: number; deadlineMs: number; dynaliteStore: DynaliteStore }): Promise<StartedDynamoSystem> {
  const port = await freePort();
  const dir = options.dynaliteStore === "leveldb" ? mkdtempSync(join(tmpdir(), "dynalite-bench-")) : undefined;
  const cliArgs = [require.resolve("dynalite/cli.js"), "--port", String(port), "--host", "127.0.0.1", "--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0"];
  if (dir !== undefined) cliArgs.push("--path", dir);
  const [command, args] = pinned(options.cpu, process.execPath, cliArgs);
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
  const stderr: string[] = [];
  child.stderr!.setEncoding("utf8").on("data", (text: string) => {
    if (stderr.length < 100) stderr.push(text);
  });
  const cleanUp = () => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error(`dynalite did not listen within ${options.deadlineMs} ms; stderr: ${stderr.join("").slice(0, 2000)}`));
      }, options.deadlineMs);
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`dynalite exited (code ${code}, signal ${signal}) before it listened; stderr: ${stderr.join("").slice(0, 2000)}`));
      });
      const reader = createInterface({ input: child.stdout! });
      reader.on("line", (line) => {
        if (!line.startsWith("Dynalite listening")) return;
        clearTimeout(timer);
        child.removeAllListeners("exit");
        reader.close();
        child.stdout!.resume();
        resolve();
      });
    });
  } catch (error) {
    cleanUp();
    throw error;
  }
  const handle = processHandle(child, `http://127.0.0.1:${port}`);
  return {
    urls: [handle.url],
    pids: [handle.pid],
    stop: async () => {
      await handle.stop();
      cleanUp();
    },
  };
}

const kvTable: CreateTableCommandInput = {
  TableName: kvTableName,
  KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
  AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
  BillingMode: "PAY_PER_REQUEST",
};

const queryTable: CreateTableCommandInput = {
  TableName: queryTableName,
  KeySchema: [
    { AttributeName: "pk", KeyType: "HASH" },
    { AttributeName: "sk", KeyType: "RANGE" },
  ],
  AttributeDefinitions: [
    { AttributeName: "pk", AttributeType: "S" },
    { AttributeName: "sk", AttributeType: "S" },
  ],
  BillingMode: "PAY_PER_REQUEST",
};

const pollIntervalMs = 100;

/**
 * Creates both tables through the first node and waits until every node describes them ACTIVE.
 * The SDK (a devDependency) is imported here, not at the top: the `shoal` CLI imports the bench
 * command, and `shoal start` must not load it.
 */
export async function createBenchTables(urls: readonly string[], deadlineMs: number): Promise<void> {
  const { CreateTableCommand, DescribeTableCommand, DynamoDBClient } = await import("@aws-sdk/client-dynamodb");
  const clients = urls.map((url) => new DynamoDBClient({ endpoint: url, region: "local", credentials: { accessKeyId: "local", secretAccessKey: "local" }, maxAttempts: 1 }));
  try {
    for (const input of [kvTable, queryTable]) {
      try {
        await clients[0]!.send(new CreateTableCommand(input));
      } catch (error) {
        if (!(error instanceof Error && error.name === "ResourceInUseException")) throw error;
      }
    }
    const deadline = performance.now() + deadlineMs;
    for (;;) {
      const states = await Promise.all(
        clients.flatMap((client) => [kvTableName, queryTableName].map((name) => client.send(new DescribeTableCommand({ TableName: name })).then((answer) => answer.Table?.TableStatus, (error: unknown) => String(error)))),
      );
      if (states.every((state) => state === "ACTIVE")) return;
      if (performance.now() > deadline) throw new Error(`the benchmark tables were not ACTIVE on every node within ${deadlineMs} ms: ${JSON.stringify(states)}`);
      await new Promise((resolve) => setTimeout(resolve, pollIntervalMs));
    }
  } finally {
    for (const client of clients) client.destroy();
  }
}
