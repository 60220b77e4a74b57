import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { repoRoot } from "./paths.js";
import type { LoadResult, LoadSpec, LoadTarget } from "./load-spec.js";
import { alternateRuns, bounded, printMedians, rowOf, startProfiled, type ProbeRow } from "./probe-runs.js";
import type { BenchTableSpec, ShoalCluster } from "./shoal-cluster-system.js";

/**
 * A profiling aid for the eventual path, not a benchmark of record (it writes no table): runs
 * a few load scenarios against 1 or more local Shoal nodes (servers on core 0, load on core 1,
 * as the benchmarks do) and prints, per run, ops/s, p50 and p99.9 and the servers' CPU per
 * operation, then the medians. With several `--roots` (checkouts or `git archive` copies, each
 * built, each holding dist/) it alternates them run by run, so an A/B comparison shares the
 * machine's weather; on a shared machine compare CPU per operation more than ops/s.
 * `--profile DIR` writes a V8 CPU profile of every server (profile-hook.ts). `--anti-entropy
 * on,off` starts the servers with SHOAL_ANTI_ENTROPY set to each mode in turn (alternated run by
 * run like the roots, so on/off share the machine's weather); unset, the nodes' default (on).
 *
 *   node dist/bench/perf-probe.js --scenarios cput,hput --runs 3
 *   node dist/bench/perf-probe.js --members 1 --scenarios hput --roots /tmp/base,.
 *   node dist/bench/perf-probe.js --scenarios cput --runs 1 --profile /tmp/prof
 *   node dist/bench/perf-probe.js --scenarios cput,hput --anti-entropy on,off
 *
 * Scenarios (100-byte values over --keys keys, table n=3 r=2 w=2 lww, capped at the member
 * count): hput / cput = put through HTTP (worker i to node i mod members) / the ShoalClient;
 * hget1, hget2, cget1, cget2 = get at R=1 or R=2 the same two ways (keys written first).
 * sput = put through HTTP on a strong table (CASPaxos, n=3), as the cluster benchmark's
 * "strong put"; --keys sets how often a key comes back (the benchmark's default is 10000).
 * csput = the same strong put through the ShoalClient (each key's writes go to its first live
 * primary, so one node proposes for a key and its held promises let most puts skip the prepare).
 * sget = the strong get through HTTP (the one-round-trip linearizable read; keys written first),
 * as the cluster benchmark's "strong get"; list it before any other get (one preload per run).
 */
const scenarioTargets: Record<string, { client: boolean; op: "get" | "put"; r?: number; strong?: boolean }> = {
  hput: { client: false, op: "put" },
  cput: { client: true, op: "put" },
  hget1: { client: false, op: "get", r: 1 },
  hget2: { client: false, op: "get", r: 2 },
  cget1: { client: true, op: "get", r: 1 },
  cget2: { client: true, op: "get", r: 2 },
  sput: { client: false, op: "put", strong: true },
  csput: { client: true, op: "put", strong: true },
  sget: { client: false, op: "get", strong: true },
};

interface RootModules {
  root: string;
  startShoalCluster(options: { members: number; cpu?: number; deadlineMs: number; tables: readonly BenchTableSpec[] }): Promise<ShoalCluster>;
  runLoadProcess(spec: LoadSpec, options: { durationS: number; warmupS: number; keyCount: number }): Promise<LoadResult>;
}

/** A probe row (the root with " ae=on|off" when --anti-entropy chose the mode) and the servers' context switches per operation, warm-up included. */
interface Row extends ProbeRow {
  switchesPerOp: number;
}

const table: BenchTableSpec = { name: "bench_eventual", consistency: "eventual", conflicts: "lww", replication: { n: 3, r: 2, w: 2 } };
const strongTable: BenchTableSpec = { name: "bench_strong", consistency: "strong", conflicts: "siblings", replication: { n: 3, r: 2, w: 2 } };

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      roots: { type: "string", default: repoRoot },
      scenarios: { type: "string", default: "cput,hput" },
      members: { type: "string", default: "3" },
      runs: { type: "string", default: "3" },
      "duration-s": { type: "string", default: "5" },
      "warmup-s": { type: "string", default: "2" },
      concurrency: { type: "string", default: "64" },
      keys: { type: "string", default: "2000" },
      profile: { type: "string" },
      "anti-entropy": { type: "string" },
    },
  });
  const scenarios = values.scenarios.split(",").filter((name) => name !== "");
  for (const name of scenarios) if (scenarioTargets[name] === undefined) throw new Error(`unknown scenario ${name}; one of ${Object.keys(scenarioTargets).join(", ")}`);
  const members = bounded(values.members, "--members", 1, 7);
  const runs = bounded(values.runs, "--runs", 1, 20);
  const durationS = bounded(values["duration-s"], "--duration-s", 1, 120);
  const warmupS = bounded(values["warmup-s"], "--warmup-s", 0, 60);
  const concurrency = bounded(values.concurrency, "--concurrency", 1, 1024);
  const keyCount = bounded(values.keys, "--keys", 1, 1_000_000);
  const modes = values["anti-entropy"] === undefined ? [undefined] : values["anti-entropy"].split(",").filter((mode) => mode !== "");
  for (const mode of modes) if (mode !== undefined && mode !== "on" && mode !== "off") throw new Error(`--anti-entropy takes on, off or on,off; got ${JSON.stringify(values["anti-entropy"])}`);
  if (modes.length === 0) throw new Error("--anti-entropy takes on, off or on,off; got nothing");
  const loaded = await Promise.all(values.roots.split(",").map((root) => loadRoot(resolve(root))));
  const roots = loaded.flatMap((modules) => modes.map((mode) => ({ ...modules, root: mode === undefined ? modules.root : `${modules.root} ae=${mode}`, antiEntropy: mode })));
  const rows: Row[] = [];
  const anyStrong = scenarios.some((name) => scenarioTargets[name]!.strong === true);
  await alternateRuns(runs, roots, async (modules, run, index) => {
    const cluster = await startProfiled(values.profile, run, index, async () => {
      // The servers inherit the environment when they are spawned.
      if (modules.antiEntropy !== undefined) process.env.SHOAL_ANTI_ENTROPY = modules.antiEntropy;
      try {
        return await modules.startShoalCluster({ members, cpu: 0, deadlineMs: 60_000, tables: anyStrong ? [table, strongTable] : [table] });
      } finally {
        if (modules.antiEntropy !== undefined) delete process.env.SHOAL_ANTI_ENTROPY;
      }
    });
    try {
      let written = false;
      for (const scenario of scenarios) {
        const target = scenarioTargets[scenario]!;
        const tableName = target.strong === true ? strongTable.name : table.name;
        const loadTarget: LoadTarget = target.client
          ? { kind: "shoal-client", seeds: cluster.peers, table: tableName, ...(target.r === undefined ? {} : { r: target.r }) }
          : { kind: "shoal-cluster", urls: cluster.urls, table: tableName, ...(target.r === undefined ? {} : { r: target.r }) };
        const spec: LoadSpec = {
          target: loadTarget,
          op: target.op,
          valueBytes: 100,
          concurrency,
          keyPrefix: target.strong === true ? "s-" : "e-",
          keyCount,
          preload: target.op === "get" && !written,
          warmupMs: warmupS * 1000,
          durationMs: durationS * 1000,
          opsMax: durationS * 1_000_000,
          serverPids: cluster.pids,
          seed: run,
        };
        if (target.op === "get") written = true;
        const switchesBefore = contextSwitches(cluster.pids);
        const result = await modules.runLoadProcess(spec, { durationS, warmupS, keyCount });
        // Warm-up included on both sides: the operations are estimated at the measured rate.
        const switches = contextSwitches(cluster.pids) - switchesBefore;
        const row: Row = { ...rowOf(modules.root, scenario, result), switchesPerOp: switches / (result.opsPerSec * (warmupS + durationS)) };
        rows.push(row);
        process.stdout.write(`run ${run} ${format(row)} servers ${result.serverCpuPct?.toFixed(0) ?? "?"}% load ${result.loadCpuPct.toFixed(0)}% loadavg ${loadavg()[0]!.toFixed(1)}${result.firstError === null ? "" : ` first error: ${result.firstError}`}\n`);
      }
    } finally {
      await cluster.stop();
    }
  });
  printMedians(rows, roots.map((modules) => modules.root), scenarios, format);
}

async function loadRoot(root: string): Promise<RootModules> {
  const url = (file: string) => pathToFileURL(join(root, "dist", "bench", file)).href;
  const cluster = (await import(url("shoal-cluster-system.js"))) as Pick<RootModules, "startShoalCluster">;
  const single = (await import(url("single-node-benchmark.js"))) as Pick<RootModules, "runLoadProcess">;
  return { root, startShoalCluster: cluster.startShoalCluster, runLoadProcess: single.runLoadProcess };
}

function format(row: Row): string {
  return `${row.scenario.padEnd(6)} ${row.root}: ${row.opsPerSec.toFixed(0).padStart(6)} ops/s  p50 ${row.p50Ms.toFixed(1)} ms  p99.9 ${row.p999Ms.toFixed(1)} ms  servers' CPU/op ${row.cpuUsPerOp.toFixed(0)} us  switches/op ${row.switchesPerOp.toFixed(1)}${row.errors > 0 ? `  ${row.errors} errors` : ""}`;
}

/** Context switches of the processes and all their threads so far (Linux /proc). */
function contextSwitches(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    for (const match of status.matchAll(/^(?:voluntary|nonvoluntary)_ctxt_switches:\s+(\d+)$/gm)) total += Number(match[1]);
  }
  return total;
}

await main();
