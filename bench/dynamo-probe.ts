import { loadavg } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { repoRoot } from "./paths.js";
import type { DynamoAction } from "./dynamodb-requests.js";
import type { DynaliteStore, DynamoSystemName, StartedDynamoSystem } from "./dynamodb-systems.js";
import type { LoadResult, LoadSpec } from "./load-spec.js";
import { alternateRuns, bounded, printMedians, rowOf, startProfiled, type ProbeRow } from "./probe-runs.js";

/**
 * A profiling aid for the DynamoDB front door, not a benchmark of record (it writes no table):
 * starts one Shoal node (or dynalite, `--system dynalite`) on core 0, drives PutItem / GetItem /
 * ConsistentRead GetItem / Query with prepared requests from a load process on core 1 (as the
 * DynamoDB benchmark does), and prints per run ops/s, p50, p99.9 and the server's CPU per
 * operation, then the medians. With several `--roots` (checkouts or `git archive` copies, each
 * built, each holding dist/) it alternates them run by run (odd runs in order, even runs
 * reversed: probe-runs.ts), so an A/B comparison shares the machine's weather; on a shared
 * machine compare CPU per operation more than ops/s.
 * `--profile DIR` writes a V8 CPU profile of the server (profile-hook.ts).
 *
 *   node dist/bench/dynamo-probe.js --scenarios put,get --runs 3
 *   node dist/bench/dynamo-probe.js --roots /tmp/base,. --scenarios put,get,cget
 *   node dist/bench/dynamo-probe.js --scenarios put --runs 1 --profile /tmp/prof
 *   node dist/bench/dynamo-probe.js --members 3 --scenarios put --roots /tmp/base,.
 *
 * `--members 3` starts three Shoal nodes (all on core 0; worker i sends to node i mod 3, as the
 * DynamoDB benchmark's 3-node rows do).
 */
const scenarioTargets: Record<string, { action: DynamoAction; consistentRead: boolean }> = {
  put: { action: "PutItem", consistentRead: false },
  get: { action: "GetItem", consistentRead: false },
  cget: { action: "GetItem", consistentRead: true },
  query: { action: "Query", consistentRead: false },
};

interface RootModules {
  root: string;
  startDynamoSystem(system: DynamoSystemName, options: { cpu?: number; deadlineMs: number; members: number; dynaliteStore: DynaliteStore }): Promise<StartedDynamoSystem>;
  runLoadProcess(spec: LoadSpec, options: { durationS: number; warmupS: number; keyCount: number }): Promise<LoadResult>;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      roots: { type: "string", default: repoRoot },
      system: { type: "string", default: "shoal" },
      scenarios: { type: "string", default: "put,get" },
      runs: { type: "string", default: "3" },
      "duration-s": { type: "string", default: "4" },
      "warmup-s": { type: "string", default: "1" },
      concurrency: { type: "string", default: "64" },
      keys: { type: "string", default: "2000" },
      "item-bytes": { type: "string", default: "1024" },
      profile: { type: "string" },
      members: { type: "string", default: "1" },
    },
  });
  const scenarios = values.scenarios.split(",").filter((name) => name !== "");
  for (const name of scenarios) if (scenarioTargets[name] === undefined) throw new Error(`unknown scenario ${name}; one of ${Object.keys(scenarioTargets).join(", ")}`);
  if (values.system !== "shoal" && values.system !== "dynalite") throw new Error(`--system must be shoal or dynalite; got ${JSON.stringify(values.system)}`);
  const system: DynamoSystemName = values.system;
  const runs = bounded(values.runs, "--runs", 1, 20);
  const durationS = bounded(values["duration-s"], "--duration-s", 1, 120);
  const warmupS = bounded(values["warmup-s"], "--warmup-s", 0, 60);
  const concurrency = bounded(values.concurrency, "--concurrency", 1, 1024);
  const keyCount = bounded(values.keys, "--keys", 1, 1_000_000);
  const itemBytes = bounded(values["item-bytes"], "--item-bytes", 64, 400_000);
  const members = bounded(values.members, "--members", 1, 7);
  // startDynamoSystem("shoal") is one node whatever `members` says: a cluster is "shoal-cluster".
  const systemStarted: DynamoSystemName = system === "shoal" && members > 1 ? "shoal-cluster" : system;
  const roots = await Promise.all(values.roots.split(",").map((root) => loadRoot(resolve(root))));
  const rows: ProbeRow[] = [];
  await alternateRuns(runs, roots, async (modules, run, index) => {
    const started = await startProfiled(values.profile, run, index, () => modules.startDynamoSystem(systemStarted, { cpu: 0, deadlineMs: 60_000, members, dynaliteStore: "leveldb" }));
    try {
      let kvWritten = false;
      let queryWritten = false;
      for (const scenario of scenarios) {
        const target = scenarioTargets[scenario]!;
        // GetItem needs every kv key written (PutItem writes only some), Query the query table.
        const preload = target.action === "Query" ? !queryWritten : target.action === "GetItem" && !kvWritten;
        if (target.action === "Query") queryWritten = true;
        if (target.action === "GetItem") kvWritten = true;
        const spec: LoadSpec = {
          target: { kind: "dynamodb", urls: started.urls, action: target.action, consistentRead: target.consistentRead, sdk: false, transport: "raw", kvTable: "bench_kv", queryTable: "bench_query", itemsPerPartition: 8 },
          op: target.action === "PutItem" ? "put" : "get",
          valueBytes: itemBytes,
          concurrency,
          keyPrefix: "k",
          keyCount,
          preload,
          warmupMs: warmupS * 1000,
          durationMs: durationS * 1000,
          opsMax: durationS * 1_000_000,
          serverPids: started.pids,
          seed: run,
        };
        const result = await modules.runLoadProcess(spec, { durationS, warmupS, keyCount: keyCount * 10 });
        const row = rowOf(modules.root, scenario, result);
        rows.push(row);
        process.stdout.write(`run ${run} ${format(row)} server ${result.serverCpuPct?.toFixed(0) ?? "?"}% load ${result.loadCpuPct.toFixed(0)}% loadavg ${loadavg()[0]!.toFixed(1)}${result.firstError === null ? "" : ` first error: ${result.firstError}`}\n`);
      }
    } finally {
      await started.stop();
    }
  });
  printMedians(rows, roots.map((modules) => modules.root), scenarios, format);
}

async function loadRoot(root: string): Promise<RootModules> {
  const url = (file: string) => pathToFileURL(join(root, "dist", "bench", file)).href;
  const systems = (await import(url("dynamodb-systems.js"))) as Pick<RootModules, "startDynamoSystem">;
  const single = (await import(url("single-node-benchmark.js"))) as Pick<RootModules, "runLoadProcess">;
  return { root, startDynamoSystem: systems.startDynamoSystem, runLoadProcess: single.runLoadProcess };
}

function format(row: ProbeRow): string {
  return `${row.scenario.padEnd(5)} ${row.root}: ${row.opsPerSec.toFixed(0).padStart(6)} ops/s  p50 ${row.p50Ms.toFixed(1)} ms  p99.9 ${row.p999Ms.toFixed(1)} ms  server CPU/op ${row.cpuUsPerOp.toFixed(0)} us${row.errors > 0 ? `  ${row.errors} errors` : ""}`;
}

await main();
