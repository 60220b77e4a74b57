import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { repoRoot } from "./paths.js";
import type { DynamoAction } from "./dynamodb-requests.js";
import type { DynaliteStore, DynamoSystemName, StartedDynamoSystem } from "./dynamodb-systems.js";
import type { LoadResult, LoadSpec } from "./load-spec.js";
import { alternateRuns, bounded, printMedians, rowOf, startProfiled, type ProbeRow } from "./probe-runs.js";
import { formatBreakdown, perfBreakdown, recordPerf } from "./perf-breakdown.js";

/**
 * A profiling aid for the DynamoDB front door, not a benchmark of record (it writes no table):
 * starts one Shoal node (or dynalite, `--system dynalite`) on core 0, drives PutItem / GetItem /
 * ConsistentRead GetItem / Query with prepared requests from a load process on core 1 (as the
 * DynamoDB benchmark does), and prints per run ops/s, p50, p99.9 and the server's CPU per
 * operation, then the medians. With several `--roots` (checkouts or `git archive` copies, each
 * built, each holding dist/) it alternates them run by run (odd runs in order, even runs
 * reversed: probe-runs.ts), so an A/B comparison shares the machine's weather; on a shared
 * machine compare CPU per operation more than ops/s.
 * `--profile DIR` writes a V8 CPU profile of the server (profile-hook.ts); `--loop-stats DIR`
 * its event-loop delay and GC pauses (loop-stats-hook.ts), DIR/run<run>-<index>/<pid>.json.
 *
 *   node dist/bench/dynamo-probe.js --scenarios put,get --runs 3
 *   node dist/bench/dynamo-probe.js --roots /tmp/base,. --scenarios put,get,cget
 *   node dist/bench/dynamo-probe.js --scenarios put --runs 1 --profile /tmp/prof
 *   node dist/bench/dynamo-probe.js --members 3 --scenarios put --roots /tmp/base,.
 *
 * `--server-node-options "A;B"` alternates the servers' NODE_OPTIONS run by run like roots
 * (each root with each; "" for none), e.g. `";--max-semi-space-size=32"` for a GC setting's A/B.
 *
 * `--perf DIR` records the (first) server with `perf record -g` through each scenario's measured
 * seconds (the servers then run with --perf-basic-prof, so JavaScript frames have names) and
 * prints where its CPU went: per thread role (main, libuv pool: lmdb's commits and fsyncs, V8's
 * helpers: GC) and the main thread by category, each also in us per operation
 * (perf-breakdown.ts); DIR keeps perf.data per run and scenario. Needs perf and the right to
 * attach to the server.
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
      "loop-stats": { type: "string" },
      perf: { type: "string" },
      "server-node-options": { type: "string" },
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
  const nodeOptions = values["server-node-options"]?.split(";").map((text) => text.trim()) ?? [undefined];
  const perfDir = values.perf === undefined ? undefined : resolve(values.perf);
  if (perfDir !== undefined) mkdirSync(perfDir, { recursive: true });
  const variants = roots.flatMap((modules) => nodeOptions.map((options) => ({ modules, options, label: options === undefined ? modules.root : `${modules.root} [${options === "" ? "no options" : options}]` })));
  const rows: ProbeRow[] = [];
  await alternateRuns(runs, variants, async ({ modules, options, label }, run, index) => {
    const serverOptions = perfDir === undefined ? options : `${options ?? ""} --perf-basic-prof`.trim();
    const start = () => withNodeOptions(serverOptions, () => modules.startDynamoSystem(systemStarted, { cpu: 0, deadlineMs: 60_000, members, dynaliteStore: "leveldb" }));
    const started = await startProfiled(values.profile, run, index, () => startWithLoopStats(values["loop-stats"], run, index, start));
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
        // A new segment of the servers' loop statistics (loop-stats-hook.ts) per scenario.
        if (values["loop-stats"] !== undefined && system === "shoal") for (const pid of started.pids) process.kill(pid, "SIGUSR2");
        if (perfDir !== undefined && spec.preload) {
          // perf's window is timed from the load's start, so the preload runs first on its own.
          await modules.runLoadProcess({ ...spec, warmupMs: 0, durationMs: 1000, opsMax: 1_000_000 }, { durationS: 1, warmupS: 0, keyCount: keyCount * 10 });
          spec.preload = false;
        }
        const perf = perfDir === undefined ? undefined : recordMeasured(started.pids[0]!, join(perfDir, `run${run}-${index}-${scenario}.data`), warmupS, durationS);
        const result = await modules.runLoadProcess(spec, { durationS, warmupS, keyCount: keyCount * 10 });
        const row = rowOf(label, scenario, result);
        rows.push(row);
        process.stdout.write(`run ${run} ${format(row)} server ${result.serverCpuPct?.toFixed(0) ?? "?"}% load ${result.loadCpuPct.toFixed(0)}% loadavg ${loadavg()[0]!.toFixed(1)}${result.firstError === null ? "" : ` first error: ${result.firstError}`}\n`);
        if (perf !== undefined) {
          const recorded = await perf;
          process.stdout.write(typeof recorded === "string" ? `  perf failed: ${recorded}\n` : formatBreakdown(recorded, Number.isFinite(row.cpuUsPerOp) ? row.cpuUsPerOp : undefined));
        }
      }
    } finally {
      await started.stop();
    }
    if (values["loop-stats"] !== undefined && system === "shoal") printLoopStats(join(resolve(values["loop-stats"]), `run${run}-${index}`), ["startup", ...scenarios]);
  });
  printMedians(rows, variants.map((variant) => variant.label), scenarios, format);
}

/**
 * perf of `pid` over the measured seconds of a load run that starts now (after `warmupS`, for
 * `durationS` less one second, so it ends inside the measurement even when the load process
 * starts late): the breakdown, or why perf failed (the probe goes on without it).
 */
async function recordMeasured(pid: number, dataPath: string, warmupS: number, durationS: number): Promise<ReturnType<typeof perfBreakdown> | string> {
  await new Promise((resolveWait) => setTimeout(resolveWait, warmupS * 1000 + 500));
  try {
    return perfBreakdown(await recordPerf(pid, { seconds: Math.max(1, durationS - 1), dataPath }), pid);
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** One line per server and segment (loop-stats-hook.ts): loop delay percentiles and GC pauses. */
function printLoopStats(dir: string, segmentNames: readonly string[]): void {
  let files: string[];
  try {
    files = readdirSync(dir).filter((name) => name.endsWith(".json"));
  } catch {
    return;
  }
  for (const file of files) {
    let segments: { loopDelayMs: Record<string, number>; gc: Record<string, { count: number; totalMs: number; maxMs: number }> }[];
    try {
      segments = JSON.parse(readFileSync(join(dir, file), "utf8")) as typeof segments;
    } catch {
      process.stdout.write(`  loop stats ${file}: unreadable (did the server exit cleanly?)\n`);
      continue;
    }
    segments.forEach((segment, i) => {
      const delay = segment.loopDelayMs;
      const gc = Object.entries(segment.gc).map(([kind, g]) => `${kind} ${g.count}x ${g.totalMs} ms (max ${g.maxMs})`).join(", ");
      process.stdout.write(`  loop ${file.replace(".json", "")} ${segmentNames[i] ?? `segment ${i}`}: delay p50 ${delay.p50} p99 ${delay.p99} p99.9 ${delay.p999} max ${delay.max} ms; gc ${gc || "none"}\n`);
    });
  }
}

/** Starts servers with `options` added to NODE_OPTIONS (the servers inherit the environment when spawned). */
async function withNodeOptions<T>(options: string | undefined, start: () => Promise<T>): Promise<T> {
  if (options === undefined || options === "") return start();
  const saved = process.env.NODE_OPTIONS;
  process.env.NODE_OPTIONS = `${saved ?? ""} ${options}`.trim();
  try {
    return await start();
  } finally {
    if (saved === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = saved;
  }
}

/** Starts servers that record their event-loop delay and GC pauses (loop-stats-hook.ts) when `dir` is given. */
async function startWithLoopStats<T>(dir: string | undefined, run: number, index: number, start: () => Promise<T>): Promise<T> {
  if (dir === undefined) return start();
  const runDir = join(resolve(dir), `run${run}-${index}`);
  mkdirSync(runDir, { recursive: true });
  const saved = { options: process.env.NODE_OPTIONS, dir: process.env.SHOAL_LOOP_STATS_DIR };
  process.env.NODE_OPTIONS = `${saved.options ?? ""} --import=${new URL("./loop-stats-hook.js", import.meta.url).href}`.trim();
  process.env.SHOAL_LOOP_STATS_DIR = runDir;
  try {
    return await start();
  } finally {
    if (saved.options === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = saved.options;
    if (saved.dir === undefined) delete process.env.SHOAL_LOOP_STATS_DIR;
    else process.env.SHOAL_LOOP_STATS_DIR = saved.dir;
  }
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
