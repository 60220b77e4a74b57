import { etcdDurability, etcdVersion, startEtcdCluster } from "./etcd-system.js";
import { formatOps, formatUs } from "./bench-report.js";
import type { LoadResult, LoadSpec, LoadTarget } from "./load-spec.js";
import { runLoadProcess, serverCpu } from "./single-node-benchmark.js";
import { startShoalCluster, type BenchTableSpec } from "./shoal-cluster-system.js";

/**
 * The cluster benchmark (BENCHMARKS.md; issues 3 and 4): a 3-node Shoal cluster on loopback
 * against a 3-member etcd cluster in the same run, 100-byte values at concurrency 64, load
 * spread over every node. Shoal: eventual put/get on a table n=3 r=2 w=2, strong put/get
 * (CASPaxos), compare-and-set increments on random keys and 64 clients incrementing one key
 * (the cost of contention); etcd: put and linearizable get. Every server process is pinned to
 * core 0 and the load process to core 1, so both systems get the same single core.
 */
export type ClusterSystem = "shoal" | "etcd";

export interface ClusterScenario {
  name: string;
  system: ClusterSystem;
  op: LoadSpec["op"];
  table?: string;
  /** Shoal: through the partition-aware client (binary protocol) instead of HTTP to any node. */
  client?: boolean;
  r?: number;
  /** etcd: serializable (member-local) instead of linearizable reads. */
  serializable?: boolean;
  keyPrefix: string;
  keyCount: number;
  preload: boolean;
}

export interface ClusterBenchOptions {
  systems: ClusterSystem[];
  members: number;
  valueBytes: number;
  concurrency: number;
  durationS: number;
  warmupS: number;
  /**
   * Seconds of unrecorded load on every write path of a freshly started system before its first
   * measured scenario (0: none). Each run starts a fresh cluster, and V8 is still compiling the
   * put path in its first seconds: without this the first write rows measure compilation
   * (docs/benchmarks.md, "Eventual put W=2: where its time and CPU go").
   */
  systemWarmupS: number;
  runs: number;
  keyCount: number;
  log: (line: string) => void;
}

export interface ClusterRunResult {
  scenario: ClusterScenario;
  run: number;
  result: LoadResult;
}

export interface ClusterSummaryRow {
  scenario: ClusterScenario;
  runs: number;
  median: LoadResult;
  opsPerSecMin: number;
  opsPerSecMax: number;
}

const startDeadlineMs = 60_000;
// Last-writer-wins on the eventual table: the load overwrites keys blindly, which on a siblings
// table would pile up siblings (and be refused at the sibling limit).
const eventualTable: BenchTableSpec = { name: "bench_eventual", consistency: "eventual", conflicts: "lww", replication: { n: 3, r: 2, w: 2 } };
const strongTable: BenchTableSpec = { name: "bench_strong", consistency: "strong", conflicts: "siblings", replication: { n: 3, r: 2, w: 2 } };

export function clusterScenarios(keyCount: number): ClusterScenario[] {
  return [
    { name: "HTTP put (n=3, w=2, lww)", system: "shoal", op: "put", table: eventualTable.name, keyPrefix: "e-", keyCount, preload: false },
    { name: "HTTP get (r=2)", system: "shoal", op: "get", table: eventualTable.name, keyPrefix: "e-", keyCount, preload: true },
    { name: "HTTP get (r=1)", system: "shoal", op: "get", table: eventualTable.name, r: 1, keyPrefix: "e-", keyCount, preload: false },
    { name: "client put (n=3, w=2, lww)", system: "shoal", client: true, op: "put", table: eventualTable.name, keyPrefix: "e-", keyCount, preload: false },
    { name: "client get (r=2)", system: "shoal", client: true, op: "get", table: eventualTable.name, keyPrefix: "e-", keyCount, preload: false },
    { name: "client get (r=1)", system: "shoal", client: true, op: "get", table: eventualTable.name, r: 1, keyPrefix: "e-", keyCount, preload: false },
    { name: "strong put", system: "shoal", op: "put", table: strongTable.name, keyPrefix: "s-", keyCount, preload: false },
    { name: "strong get", system: "shoal", op: "get", table: strongTable.name, keyPrefix: "s-", keyCount, preload: true },
    // Through the partition-aware client: each key's writes go to its first live primary, so one
    // node proposes for a key and its held promises skip the prepare (src/paxos/README.md).
    { name: "client strong put", system: "shoal", client: true, op: "put", table: strongTable.name, keyPrefix: "cs-", keyCount, preload: false },
    { name: "compare-and-set increment", system: "shoal", op: "increment", table: strongTable.name, keyPrefix: "c-", keyCount, preload: false },
    { name: "increment one key (contention)", system: "shoal", op: "increment", table: strongTable.name, keyPrefix: "hot-", keyCount: 1, preload: false },
    { name: "put", system: "etcd", op: "put", keyPrefix: "k-", keyCount, preload: false },
    { name: "linearizable get", system: "etcd", op: "get", keyPrefix: "k-", keyCount, preload: true },
    { name: "serializable get", system: "etcd", op: "get", serializable: true, keyPrefix: "k-", keyCount, preload: false },
  ];
}

export async function runClusterBenchmark(options: ClusterBenchOptions): Promise<{ results: ClusterRunResult[]; systems: string[] }> {
  const systems = describe(options);
  const active = options.systems.filter((system) => system !== "etcd" || etcdVersion() !== undefined);
  const results: ClusterRunResult[] = [];
  const scenarios = clusterScenarios(options.keyCount);
  for (let run = 1; run <= options.runs; run++) {
    const shift = (run - 1) % active.length;
    for (const system of [...active.slice(shift), ...active.slice(0, shift)]) {
      options.log(`run ${run}/${options.runs}: ${system} (${options.members} members)`);
      const started = await startSystem(system, options.members);
      try {
        if (options.systemWarmupS > 0) {
          for (const scenario of scenarios.filter((s) => s.system === system && s.op !== "get" && s.keyCount > 1)) {
            const spec = specOf(scenario, started, options, run);
            const warm: LoadSpec = { ...spec, preload: false, warmupMs: 0, durationMs: options.systemWarmupS * 1000 };
            const result = await runLoadProcess(warm, options).catch((error: unknown) => failed(error));
            options.log(`  ${system} warm-up ${scenario.name}: ${Math.round(result.opsPerSec)} ops/s (not recorded)`);
          }
        }
        for (const scenario of scenarios.filter((s) => s.system === system)) {
          const spec = specOf(scenario, started, options, run);
          const result = await runLoadProcess(spec, options).catch((error: unknown) => failed(error));
          options.log(`  ${system} ${scenario.name}: ${Math.round(result.opsPerSec)} ops/s, p50 ${result.latency.p50Us} us, p99.9 ${result.latency.p999Us} us${result.errors > 0 ? `, ${result.errors} errors (${result.firstError})` : ""}`);
          results.push({ scenario, run, result });
        }
      } finally {
        await started.stop();
      }
    }
  }
  return { results, systems };
}

function specOf(scenario: ClusterScenario, started: { urls: string[]; peers: string[]; pids: number[] }, options: ClusterBenchOptions, run: number): LoadSpec {
  return {
    target: targetOf(scenario, started),
    op: scenario.op,
    valueBytes: options.valueBytes,
    concurrency: options.concurrency,
    keyPrefix: scenario.keyPrefix,
    keyCount: scenario.keyCount,
    preload: scenario.preload,
    warmupMs: options.warmupS * 1000,
    durationMs: options.durationS * 1000,
    opsMax: Math.ceil(options.durationS * 1_000_000),
    serverPids: started.pids,
    seed: 1 + run * 1000,
  };
}

function targetOf(scenario: ClusterScenario, started: { urls: string[]; peers: string[] }): LoadTarget {
  const r = scenario.r === undefined ? {} : { r: scenario.r };
  if (scenario.system === "etcd") return { kind: "etcd", urls: started.urls, serializable: scenario.serializable === true };
  if (scenario.client === true) return { kind: "shoal-client", seeds: started.peers, table: scenario.table!, ...r };
  return { kind: "shoal-cluster", urls: started.urls, table: scenario.table!, ...r };
}

function describe(options: ClusterBenchOptions): string[] {
  const lines: string[] = [];
  if (options.systems.includes("shoal")) lines.push(`- Shoal: ${options.members} \`shoal start\` processes on loopback, LMDB, every write fsynced on each replica before it acknowledges (group commit)`);
  if (options.systems.includes("etcd")) {
    const version = etcdVersion();
    lines.push(version === undefined ? "- etcd: skipped (not installed: apt-get install etcd-server)" : `- etcd ${version}: ${options.members} members on loopback, durability ${etcdDurability}, v3 JSON gateway`);
  }
  return lines;
}

async function startSystem(system: ClusterSystem, members: number): Promise<{ urls: string[]; peers: string[]; pids: number[]; stop(): Promise<void> }> {
  if (system === "etcd") return { ...(await startEtcdCluster({ members, cpu: serverCpu, deadlineMs: startDeadlineMs })), peers: [] };
  return startShoalCluster({ members, cpu: serverCpu, deadlineMs: startDeadlineMs, tables: [eventualTable, strongTable] });
}

function failed(error: unknown): LoadResult {
  const message = error instanceof Error ? error.message : String(error);
  return { ops: 0, errors: 1, firstError: message.slice(0, 2000), durationMs: 0, opsPerSec: 0, latency: { p50Us: 0, p99Us: 0, p999Us: 0, maxUs: 0, meanUs: 0 }, loadCpuPct: 0, serverCpuPct: null };
}

export function summarizeCluster(results: readonly ClusterRunResult[]): ClusterSummaryRow[] {
  const groups = new Map<string, ClusterRunResult[]>();
  for (const result of results) {
    const key = `${result.scenario.system}/${result.scenario.name}`;
    groups.set(key, [...(groups.get(key) ?? []), result]);
  }
  return [...groups.values()].map((group) => {
    const sorted = [...group].sort((a, b) => a.result.opsPerSec - b.result.opsPerSec);
    const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
    return { scenario: median.scenario, runs: group.length, median: median.result, opsPerSecMin: sorted[0]!.result.opsPerSec, opsPerSecMax: sorted.at(-1)!.result.opsPerSec };
  });
}

export function formatClusterTable(rows: readonly ClusterSummaryRow[]): string {
  const lines = ["| system | scenario | ops/s (median) | runs | p50 | p99 | p99.9 | max | servers' CPU | load CPU |", "|---|---|---|---|---|---|---|---|---|---|"];
  for (const row of rows) {
    const m = row.median;
    lines.push(
      `| ${row.scenario.system} | ${row.scenario.name} | ${formatOps(m.opsPerSec)} | ${row.runs} | ${formatUs(m.latency.p50Us)} | ${formatUs(m.latency.p99Us)} | ${formatUs(m.latency.p999Us)} | ${formatUs(m.latency.maxUs)} | ` +
        `${m.serverCpuPct === null ? "n/a" : `${Math.round(m.serverCpuPct)}%`} | ${Math.round(m.loadCpuPct)}% |${m.errors > 0 ? ` ${m.errors} errors: ${(m.firstError ?? "").slice(0, 120)}` : ""}`,
    );
  }
  return lines.join("\n");
}

/**
 * Issue 3's targets: GET at R=1 through the client >= 3x etcd's serializable get; PUT at W=2 >= 2x
 * etcd's put; p99.9 of both below etcd's. And the latency the client saves over HTTP.
 */
export function eventualTargets(rows: readonly ClusterSummaryRow[]): string[] {
  const find = (system: ClusterSystem, name: string) => rows.find((row) => row.scenario.system === system && row.scenario.name === name);
  const lines: string[] = [];
  const pairs: [string, string, number][] = [["client get (r=1)", "serializable get", 3], ["client put (n=3, w=2, lww)", "put", 2]];
  for (const [shoalName, etcdName, factor] of pairs) {
    const shoal = find("shoal", shoalName);
    const etcd = find("etcd", etcdName);
    if (shoal === undefined || etcd === undefined || etcd.median.opsPerSec === 0) {
      lines.push(`- ?: Shoal ${shoalName} vs etcd ${etcdName} (one side did not run)`);
      continue;
    }
    const ratio = shoal.median.opsPerSec / etcd.median.opsPerSec;
    lines.push(`- ${ratio >= factor ? "met" : "MISSED"}: Shoal ${shoalName} >= ${factor}x etcd ${etcdName} ops/s (${ratio.toFixed(2)}x)`);
    lines.push(`- ${shoal.median.latency.p999Us <= etcd.median.latency.p999Us ? "met" : "MISSED"}: Shoal ${shoalName} p99.9 below etcd ${etcdName} (${formatUs(shoal.median.latency.p999Us)} vs ${formatUs(etcd.median.latency.p999Us)})`);
  }
  for (const op of ["put (n=3, w=2, lww)", "get (r=2)", "get (r=1)"]) {
    const client = find("shoal", `client ${op}`);
    const http = find("shoal", `HTTP ${op}`);
    if (client === undefined || http === undefined || http.median.latency.p50Us === 0) continue;
    lines.push(`- client/HTTP p50 latency, ${op}: ${(client.median.latency.p50Us / http.median.latency.p50Us).toFixed(2)} (${formatUs(client.median.latency.p50Us)} vs ${formatUs(http.median.latency.p50Us)})`);
  }
  return lines;
}

/**
 * Issue 4's targets: strong put and get at least 1.5x etcd's put and linearizable get, p99.9 at
 * most etcd's. The put is judged both through HTTP spread over the nodes and through the client.
 */
export function clusterTargets(rows: readonly ClusterSummaryRow[]): string[] {
  const find = (system: ClusterSystem, name: string) => rows.find((row) => row.scenario.system === system && row.scenario.name === name);
  const lines: string[] = [];
  const pairs: [string, string][] = [["strong put", "put"], ["client strong put", "put"], ["strong get", "linearizable get"]];
  for (const [shoalName, etcdName] of pairs) {
    const shoal = find("shoal", shoalName);
    const etcd = find("etcd", etcdName);
    if (shoal === undefined || etcd === undefined || etcd.median.opsPerSec === 0) {
      lines.push(`- ?: Shoal ${shoalName} vs etcd ${etcdName} (one side did not run)`);
      continue;
    }
    const ratio = shoal.median.opsPerSec / etcd.median.opsPerSec;
    lines.push(`- ${ratio >= 1.5 ? "met" : "MISSED"}: Shoal ${shoalName} >= 1.5x etcd ${etcdName} ops/s (${ratio.toFixed(2)}x)`);
    const p999 = shoal.median.latency.p999Us / Math.max(1, etcd.median.latency.p999Us);
    lines.push(`- ${p999 <= 1 ? "met" : "MISSED"}: Shoal ${shoalName} p99.9 <= etcd ${etcdName} p99.9 (${formatUs(shoal.median.latency.p999Us)} vs ${formatUs(etcd.median.latency.p999Us)})`);
  }
  return lines;
}
