import { formatOps, formatUs } from "./bench-report.js";
import { itemsPerPartitionDefault, queryFrom, queryItemsReturned, queryTo } from "./dynamodb-requests.js";
import { dynaliteVersion, kvTableName, queryTableName, startDynamoSystem, type DynaliteStore, type DynamoSystemName, type StartedDynamoSystem } from "./dynamodb-systems.js";
import type { DynamoAction } from "./dynamodb-requests.js";
import type { LoadResult, LoadSpec } from "./load-spec.js";
import { runLoadProcess, serverCpu } from "./single-node-benchmark.js";

/**
 * The DynamoDB benchmark (BENCHMARKS.md question 2; issue 5): PutItem, GetItem (eventual and
 * ConsistentRead) and Query with 1 KB items at concurrency 64, through prepared requests on
 * undici, against one Shoal node, a Shoal cluster (requests spread over the nodes, as behind a
 * load balancer) and dynalite, in the same run; then the AWS SDK's latency at concurrency 1 for
 * PutItem and GetItem. Servers on core 0, the load process on core 1; runs interleave the
 * systems in a rotating order.
 */
export type DynamoScenarioId = "put" | "get" | "get-consistent" | "query" | "sdk-put" | "sdk-get";
export const dynamoScenarioIds: readonly DynamoScenarioId[] = ["put", "get", "get-consistent", "query", "sdk-put", "sdk-get"];

export interface DynamoScenario {
  id: DynamoScenarioId;
  name: string;
  action: DynamoAction;
  consistentRead: boolean;
  sdk: boolean;
  /** Write the scenario's table before the warm-up (GetItem and Query need their items). */
  preload: boolean;
}

export interface DynamoBenchOptions {
  systems: DynamoSystemName[];
  scenarios: DynamoScenarioId[];
  members: number;
  itemBytes: number;
  concurrency: number;
  /** The SDK scenarios' concurrency (1: latency, not throughput). */
  sdkConcurrency: number;
  durationS: number;
  warmupS: number;
  /**
   * Unrecorded seconds of the write scenarios on each freshly started system before its first
   * recorded scenario: a fresh Shoal process runs its first thousand strong writes at a fraction
   * of its warm speed (V8 still compiling the path; three nodes on one core take several
   * seconds), and the first recorded scenario is PutItem.
   */
  systemWarmupS: number;
  runs: number;
  keyCount: number;
  dynaliteStore: DynaliteStore;
  /** How the load process sends the prepared requests (the SDK rows always use the SDK). */
  transport: "undici" | "raw";
  log: (line: string) => void;
}

export interface DynamoRunResult {
  system: DynamoSystemName;
  scenario: DynamoScenario;
  concurrency: number;
  run: number;
  result: LoadResult;
}

export interface DynamoSummaryRow {
  system: DynamoSystemName;
  scenario: DynamoScenario;
  concurrency: number;
  runs: number;
  median: LoadResult;
  opsPerSecMin: number;
  opsPerSecMax: number;
}

const startDeadlineMs = 60_000;
const preloadSlowdown = 10;
/** A load process using this much of its core sets the pace itself: the row says so. */
const clientBoundCpuPct = 90;
/** Operations per second no system here reaches; bounds a run by count as well as time. */
const opsPerSecondCeiling = 1_000_000;

export function dynamoScenarios(): DynamoScenario[] {
  return [
    { id: "put", name: "PutItem", action: "PutItem", consistentRead: false, sdk: false, preload: false },
    { id: "get", name: "GetItem (eventual)", action: "GetItem", consistentRead: false, sdk: false, preload: true },
    { id: "get-consistent", name: "GetItem (ConsistentRead)", action: "GetItem", consistentRead: true, sdk: false, preload: false },
    { id: "query", name: `Query (${queryItemsReturned} of ${itemsPerPartitionDefault} items)`, action: "Query", consistentRead: false, sdk: false, preload: true },
    { id: "sdk-put", name: "SDK PutItem", action: "PutItem", consistentRead: false, sdk: true, preload: false },
    { id: "sdk-get", name: "SDK GetItem (eventual)", action: "GetItem", consistentRead: false, sdk: true, preload: false },
  ];
}

/**
 * The scenarios to run, in order. GetItem needs the kv table written: whichever GetItem scenario
 * comes first preloads it.
 */
export function selectScenarios(ids: readonly DynamoScenarioId[]): DynamoScenario[] {
  let kvLoaded = false;
  return dynamoScenarios()
    .filter((scenario) => ids.includes(scenario.id))
    .map((scenario) => {
      if (scenario.action !== "GetItem") return scenario;
      const preload = !kvLoaded;
      kvLoaded = true;
      return { ...scenario, preload };
    });
}

export function systemLabel(system: DynamoSystemName, members: number): string {
  if (system === "shoal") return "Shoal, 1 node";
  if (system === "shoal-cluster") return `Shoal, ${members} nodes`;
  return "dynalite";
}

export function describeDynamoSystems(options: Pick<DynamoBenchOptions, "systems" | "members" | "dynaliteStore" | "transport">): string[] {
  const lines: string[] = [];
  if (options.systems.includes("shoal")) {
    lines.push("- Shoal, 1 node: one `shoal start` process, LMDB, DynamoDB API on its client port (local auth mode), tables on the strong path (Shoal's default for DynamoDB tables); every write fsynced before it acknowledges (group commit)");
  }
  if (options.systems.includes("shoal-cluster")) {
    lines.push(`- Shoal, ${options.members} nodes: ${options.members} \`shoal start\` processes on loopback, the same, all on the server core; worker i sends to node i mod ${options.members} (as behind a load balancer)`);
  }
  if (options.systems.includes("dynalite")) {
    const version = dynaliteVersion();
    const store = options.dynaliteStore === "leveldb" ? "LevelDB in a temporary directory (`--path`); LevelDB writes are not synced: no fsync" : "in memory (memory-level): no durability";
    lines.push(version === undefined ? "- dynalite: skipped (the devDependency is not installed)" : `- dynalite ${version} (npm): one Node process, ${store}`);
  }
  lines.push(
    `- Load: prepared requests (bodies pre-built with the key spliced in, fixed headers, an unsigned local-mode Authorization header; no SDK) through ${transportLabel[options.transport]}, one keep-alive connection per request in flight, no pipelining; items {pk, v} (kv table) and {pk, sk, v} (query table) sized by DynamoDB's rule; Query: \`pk = :p AND sk BETWEEN "s${queryFrom}" AND "s${queryTo}"\` over partitions of ${itemsPerPartitionDefault} items, answering ${queryItemsReturned}. SDK rows: @aws-sdk/client-dynamodb v3, one client per node used in turn, no retries.`,
  );
  return lines;
}

const transportLabel: Record<DynamoBenchOptions["transport"], string> = {
  undici: "undici (`--driver undici`)",
  raw: "a minimal HTTP/1.1 client writing each request as one prepared string (`--driver raw`, bench/raw-http.ts)",
};

export async function runDynamoBenchmark(options: DynamoBenchOptions): Promise<{ results: DynamoRunResult[]; systems: string[] }> {
  const systems = describeDynamoSystems(options);
  const active = options.systems.filter((system) => system !== "dynalite" || dynaliteVersion() !== undefined);
  if (active.length < options.systems.length) options.log("dynalite is not installed (npm devDependency `dynalite`): skipped");
  const scenarios = selectScenarios(options.scenarios);
  const results: DynamoRunResult[] = [];
  for (let run = 1; run <= options.runs; run++) {
    const shift = (run - 1) % Math.max(1, active.length);
    for (const system of [...active.slice(shift), ...active.slice(0, shift)]) {
      options.log(`run ${run}/${options.runs}: ${systemLabel(system, options.members)}`);
      let started: StartedDynamoSystem;
      try {
        started = await startDynamoSystem(system, { cpu: serverCpu, deadlineMs: startDeadlineMs, members: options.members, dynaliteStore: options.dynaliteStore });
      } catch (error) {
        // A system that cannot start gets failed rows, and the run goes on with the others.
        for (const scenario of scenarios) results.push({ system, scenario, concurrency: concurrencyOf(scenario, options), run, result: failed(error) });
        options.log(`  ${system} did not start: ${error instanceof Error ? error.message : String(error)}`);
        continue;
      }
      try {
        if (options.systemWarmupS > 0) {
          for (const scenario of scenarios.filter((s) => s.action === "PutItem" && !s.sdk)) {
            const spec = loadSpecOf(scenario, started, { concurrency: concurrencyOf(scenario, options), run, options });
            const warm: LoadSpec = { ...spec, preload: false, warmupMs: 0, durationMs: options.systemWarmupS * 1000, opsMax: Math.ceil(options.systemWarmupS * opsPerSecondCeiling) };
            const result = await runLoadProcess(warm, options).catch((error: unknown) => failed(error));
            options.log(`  warm-up ${scenario.name}: ${Math.round(result.opsPerSec)} ops/s (not recorded)`);
          }
        }
        for (const scenario of scenarios) {
          const concurrency = concurrencyOf(scenario, options);
          const spec = loadSpecOf(scenario, started, { concurrency, run, options });
          // runLoadProcess allows preloads 1000 writes/s; the strong path on a busy shared machine
          // can be ten times slower, and a preload is not measured, so allow 100/s.
          const result = await runLoadProcess(spec, { ...options, keyCount: options.keyCount * preloadSlowdown }).catch((error: unknown) => failed(error));
          options.log(
            `  ${scenario.name} x${concurrency}: ${Math.round(result.opsPerSec)} ops/s, p50 ${result.latency.p50Us} us, p99.9 ${result.latency.p999Us} us` +
              `${result.errors > 0 ? `, ${result.errors} errors (${result.firstError})` : ""}`,
          );
          results.push({ system, scenario, concurrency, run, result });
        }
      } finally {
        await started.stop();
      }
    }
  }
  return { results, systems };
}

function concurrencyOf(scenario: DynamoScenario, options: Pick<DynamoBenchOptions, "concurrency" | "sdkConcurrency">): number {
  return scenario.sdk ? options.sdkConcurrency : options.concurrency;
}

function loadSpecOf(scenario: DynamoScenario, started: StartedDynamoSystem, context: { concurrency: number; run: number; options: DynamoBenchOptions }): LoadSpec {
  const { options } = context;
  return {
    target: {
      kind: "dynamodb",
      urls: started.urls,
      action: scenario.action,
      consistentRead: scenario.consistentRead,
      sdk: scenario.sdk,
      transport: options.transport,
      kvTable: kvTableName,
      queryTable: queryTableName,
      itemsPerPartition: itemsPerPartitionDefault,
    },
    op: scenario.action === "PutItem" ? "put" : "get",
    valueBytes: options.itemBytes,
    concurrency: context.concurrency,
    keyPrefix: "k",
    keyCount: options.keyCount,
    preload: scenario.preload,
    warmupMs: options.warmupS * 1000,
    durationMs: options.durationS * 1000,
    opsMax: Math.ceil(options.durationS * opsPerSecondCeiling),
    serverPids: started.pids,
    seed: 1 + context.run * 1000 + dynamoScenarioIds.indexOf(scenario.id),
  };
}

function failed(error: unknown): LoadResult {
  const message = error instanceof Error ? error.message : String(error);
  return { ops: 0, errors: 1, firstError: message.slice(0, 2000), durationMs: 0, opsPerSec: 0, latency: { p50Us: 0, p99Us: 0, p999Us: 0, maxUs: 0, meanUs: 0 }, loadCpuPct: 0, serverCpuPct: null };
}

export function summarizeDynamo(results: readonly DynamoRunResult[]): DynamoSummaryRow[] {
  const groups = new Map<string, DynamoRunResult[]>();
  for (const result of results) {
    const key = `${result.system}/${result.scenario.id}`;
    groups.set(key, [...(groups.get(key) ?? []), result]);
  }
  return [...groups.values()].map((group) => {
    const sorted = [...group].sort((a, b) => a.result.opsPerSec - b.result.opsPerSec);
    const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
    return {
      system: median.system,
      scenario: median.scenario,
      concurrency: median.concurrency,
      runs: group.length,
      median: median.result,
      opsPerSecMin: sorted[0]!.result.opsPerSec,
      opsPerSecMax: sorted.at(-1)!.result.opsPerSec,
    };
  });
}

function spread(row: DynamoSummaryRow): string {
  if (row.runs < 2) return "1 run";
  if (row.median.opsPerSec === 0) return "n/a";
  const low = (100 * (row.opsPerSecMin - row.median.opsPerSec)) / row.median.opsPerSec;
  const high = (100 * (row.opsPerSecMax - row.median.opsPerSec)) / row.median.opsPerSec;
  return `${low.toFixed(0)}%/+${high.toFixed(0)}%`;
}

export function formatDynamoTable(rows: readonly DynamoSummaryRow[], members: number): string {
  const lines = [
    "| system | operation | conc. | ops/s (median) | spread | p50 | p99 | p99.9 | max | servers' CPU | load CPU |",
    "|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const row of rows) {
    const m = row.median;
    lines.push(
      `| ${systemLabel(row.system, members)} | ${row.scenario.name} | ${row.concurrency} | ${formatOps(m.opsPerSec)} | ${spread(row)} | ${formatUs(m.latency.p50Us)} | ${formatUs(m.latency.p99Us)} | ` +
        `${formatUs(m.latency.p999Us)} | ${formatUs(m.latency.maxUs)} | ${m.serverCpuPct === null ? "n/a" : `${Math.round(m.serverCpuPct)}%`} | ${Math.round(m.loadCpuPct)}%${m.loadCpuPct >= clientBoundCpuPct ? " (client-bound)" : ""} |` +
        `${m.errors > 0 ? ` ${m.errors} errors: ${(m.firstError ?? "").slice(0, 160).replaceAll("|", "/").replaceAll("\n", " ")}` : ""}`,
    );
  }
  return lines.join("\n");
}

function find(rows: readonly DynamoSummaryRow[], system: DynamoSystemName, id: DynamoScenarioId): DynamoSummaryRow | undefined {
  return rows.find((row) => row.system === system && row.scenario.id === id);
}

/** Shoal's ops/s and p99.9 over dynalite's, per scenario, for one node and for the cluster. */
export function formatDynamoRatios(rows: readonly DynamoSummaryRow[], members: number): string {
  const lines = [
    `| operation | conc. | Shoal 1 node / dynalite ops/s | Shoal 1 node / dynalite p99.9 | Shoal ${members} nodes / dynalite ops/s | Shoal ${members} nodes / dynalite p99.9 |`,
    "|---|---|---|---|---|---|",
  ];
  const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined || a === 0 || b === 0 ? "n/a" : (a / b).toFixed(2));
  for (const scenario of dynamoScenarios()) {
    const dynalite = find(rows, "dynalite", scenario.id);
    const one = find(rows, "shoal", scenario.id);
    const cluster = find(rows, "shoal-cluster", scenario.id);
    if (dynalite === undefined || (one === undefined && cluster === undefined)) continue;
    lines.push(
      `| ${scenario.name} | ${dynalite.concurrency} | ${ratio(one?.median.opsPerSec, dynalite.median.opsPerSec)} | ${ratio(one?.median.latency.p999Us, dynalite.median.latency.p999Us)} | ` +
        `${ratio(cluster?.median.opsPerSec, dynalite.median.opsPerSec)} | ${ratio(cluster?.median.latency.p999Us, dynalite.median.latency.p999Us)} |`,
    );
  }
  if (lines.length === 2) return "(no ratios: dynalite or Shoal did not run)";
  return lines.join("\n");
}

export interface DynamoTargetCheck {
  name: string;
  met: boolean | null;
  value: string;
}

/** Issue 5's target: single-node PutItem and GetItem at least 3x dynalite's ops/s, with a lower p99.9. */
export function dynamoTargetChecks(rows: readonly DynamoSummaryRow[]): DynamoTargetCheck[] {
  const checks: DynamoTargetCheck[] = [];
  for (const id of ["put", "get"] as const) {
    const shoal = find(rows, "shoal", id);
    const dynalite = find(rows, "dynalite", id);
    const name = shoal?.scenario.name ?? dynalite?.scenario.name ?? id;
    if (shoal === undefined || dynalite === undefined || dynalite.median.opsPerSec === 0 || shoal.median.ops === 0) {
      checks.push({ name: `single-node ${name} >= 3x dynalite ops/s, lower p99.9`, met: null, value: "one side did not run" });
      continue;
    }
    const ratio = shoal.median.opsPerSec / dynalite.median.opsPerSec;
    checks.push({ name: `single-node ${name} >= 3x dynalite ops/s`, met: ratio >= 3, value: `${ratio.toFixed(2)}x: ${formatOps(shoal.median.opsPerSec)} vs ${formatOps(dynalite.median.opsPerSec)} ops/s` });
    checks.push({
      name: `single-node ${name} p99.9 below dynalite's`,
      met: shoal.median.latency.p999Us < dynalite.median.latency.p999Us,
      value: p999Comparison(shoal.median.latency.p999Us, dynalite.median.latency.p999Us),
    });
  }
  return checks;
}

/** Two p99.9 values as printed, in microseconds when they would print the same (so a MET on a near tie shows why). */
function p999Comparison(shoalUs: number, dynaliteUs: number): string {
  const [a, b] = [formatUs(shoalUs), formatUs(dynaliteUs)];
  return a === b ? `${Math.round(shoalUs)} µs vs ${Math.round(dynaliteUs)} µs` : `${a} vs ${b}`;
}

export function formatDynamoTargets(checks: readonly DynamoTargetCheck[]): string {
  return checks.map((check) => `- ${check.met === null ? "?" : check.met ? "MET" : "MISSED"}: ${check.name} (${check.value})`).join("\n");
}
