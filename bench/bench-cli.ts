import type { CliIo } from "../src/cli/command.js";
import { booleanFlag, parseCommandArgs, stringFlag, type FlagValues } from "../src/cli/parse-command-args.js";
import { UsageError } from "../src/cli/usage-error.js";
import { formatMachine, formatRatios, formatSystems, formatTable, formatTargets, rewriteDocsSection, writeResultsFile } from "./bench-report.js";
import { ratios, summarize, targetChecks } from "./bench-summary.js";
import { machineInfo } from "./machine-info.js";
import { clusterTargets, eventualTargets, formatClusterTable, runClusterBenchmark, summarizeCluster, type ClusterBenchOptions } from "./cluster-benchmark.js";
import { benchmarksDocPath, resultsDirDefault } from "./paths.js";
import { dynamoScenarioIds, dynamoTargetChecks, formatDynamoRatios, formatDynamoTable, formatDynamoTargets, runDynamoBenchmark, summarizeDynamo, type DynamoBenchOptions } from "./dynamodb-benchmark.js";
import { dynamoSystems } from "./dynamodb-systems.js";
import { allSystems, createBenchTable, runLoadProcess, runSingleNodeBenchmark, type BenchOptions, type Op } from "./single-node-benchmark.js";

export const benchUsage = `Usage: shoal bench [options]          (also: npm run bench -- [options])
       shoal bench --url URL [--op get|put] [--concurrency N] [--value-bytes B] [--duration-s S]

Without --url: the single-node benchmark. Starts Shoal (its own process, core 0), the bare
node:http ceiling and Redis (if installed) one after another, drives each from a separate load
process (core 1), and prints ops/s with p50/p99/p99.9/max for GET and PUT at each concurrency and
value size, the median of --runs runs with their spread, and Shoal's ratios to the others. Writes
bench/results/<date>-single-node.json and, unless --quick or --skip-docs, the table in
docs/benchmarks.md.

With --url: a quick load against a running node (table "bench", created if missing).

With --cluster: the cluster benchmark. A 3-node Shoal cluster (separate processes on
loopback) against a 3-member etcd cluster (if etcd-server is installed), servers on core 0 and
the load on core 1, 100-byte values at concurrency 64 (override with --value-bytes and
--concurrency, one value each): Shoal put at W=2 and get at R=2 and R=1 (n=3), each through
HTTP to every node in turn and through the partition-aware ShoalClient; strong put/get,
compare-and-set increments, 64 clients incrementing one key; etcd put, linearizable and
serializable get.
Writes bench/results/<date>-cluster.json and, unless --skip-docs, its section of
docs/benchmarks.md.

With --dynamodb: the DynamoDB API benchmark. One Shoal node, a 3-node Shoal cluster (--members)
and dynalite (npm; LevelDB in a temp dir, or --dynalite-store memory), servers on core 0 and the
load on core 1: PutItem, GetItem (eventual and ConsistentRead) and Query with 1 KB items
(--value-bytes) at concurrency 64 (--concurrency) through prepared requests (undici, or
--driver raw), then the AWS SDK's PutItem and GetItem latency at concurrency 1. --systems takes shoal,shoal-cluster,dynalite
and --ops put,get,get-consistent,query,sdk-put,sdk-get. Writes
bench/results/<date>-dynamodb.json and, unless --quick or --skip-docs, its section of
docs/benchmarks.md.

Options:
  --systems LIST       comma-separated: shoal,ceiling,redis (default all)
  --ops LIST           get,put (default both)
  --concurrency LIST   operations in flight (default 1,64)
  --value-bytes LIST   value sizes (default 100,4096)
  --duration-s S       measured seconds per scenario (default 10; --quick 0.5)
  --warmup-s S         warm-up seconds per scenario (default 2; --quick 0.2)
  --runs N             runs per scenario; the median is reported (default 3; --quick 1)
  --keys N             key space per value size (default 10000; --quick 1000)
  --quick              a short smoke run; never rewrites docs/benchmarks.md
  --results-dir DIR    where the JSON goes (default bench/results)
  --skip-docs          do not rewrite docs/benchmarks.md
  --cluster            the cluster benchmark instead (see above)
  --members N          cluster size for --cluster and --dynamodb (default 3)
  --system-warmup-s S  with --cluster or --dynamodb: unrecorded seconds of each write scenario
                       on every freshly started system before its first measured row (default
                       3 with --cluster, 15 with --dynamodb; --quick 0), so the rows measure a
                       warm put path, not a cold one
  --dynamodb           the DynamoDB API benchmark instead (see above)
  --dynalite-store S   with --dynamodb: leveldb (default) or memory
  --driver D           with --dynamodb: undici (default) or raw (a minimal keep-alive HTTP
                       client, bench/raw-http.ts: cheaper per request, for higher ceilings)
  --url URL            quick load against a running node instead
  --op OP              with --url: get or put (default get)
  -h, --help           show this help

Example:
  npm run bench -- --runs 3 --duration-s 10
`;

const flagSpec = {
  systems: { type: "string" },
  ops: { type: "string" },
  concurrency: { type: "string" },
  "value-bytes": { type: "string" },
  "duration-s": { type: "string" },
  "warmup-s": { type: "string" },
  "system-warmup-s": { type: "string" },
  runs: { type: "string" },
  keys: { type: "string" },
  quick: { type: "boolean" },
  "results-dir": { type: "string" },
  "skip-docs": { type: "boolean" },
  url: { type: "string" },
  op: { type: "string" },
  cluster: { type: "boolean" },
  members: { type: "string" },
  dynamodb: { type: "boolean" },
  "dynalite-store": { type: "string" },
  driver: { type: "string" },
} as const;

/** Bounds on the knobs, so a typo cannot start an hour-long or million-connection run. */
const concurrencyMax = 1024;
const valueBytesMax = 25 * 1024 * 1024;
const durationSMax = 600;
const runsMax = 20;
const keysMax = 1_000_000;

export async function runBenchCli(argv: string[], io: CliIo): Promise<number> {
  const args = parseCommandArgs("bench", argv, flagSpec, { min: 0, max: 0 });
  if (args.help) {
    io.stdout.write(benchUsage);
    return 0;
  }
  const quick = booleanFlag(args.flags, "quick");
  const log = (line: string) => io.stderr.write(`${line}\n`);
  // --cluster and --dynamodb have systems of their own, parsed by clusterBenchmark and
  // dynamoBenchmark; --dynamodb has operations of its own too.
  const ownSystems = booleanFlag(args.flags, "cluster") || booleanFlag(args.flags, "dynamodb");
  const options: BenchOptions = {
    systems: ownSystems ? [] : listFlag(args.flags, "systems", [...allSystems], (item) => oneOf(item, allSystems, "--systems")),
    ops: booleanFlag(args.flags, "dynamodb") ? [] : listFlag(args.flags, "ops", ["get", "put"], (item) => oneOf(item, ["get", "put"] as const, "--ops")),
    concurrencies: listFlag(args.flags, "concurrency", [1, 64], (item) => integer(item, "--concurrency", 1, concurrencyMax)),
    valueSizes: listFlag(args.flags, "value-bytes", [100, 4096], (item) => integer(item, "--value-bytes", 1, valueBytesMax)),
    durationS: seconds(args.flags, "duration-s", quick ? 0.5 : 10),
    warmupS: seconds(args.flags, "warmup-s", quick ? 0.2 : 2),
    runs: integer(stringFlag(args.flags, "runs") ?? (quick ? "1" : "3"), "--runs", 1, runsMax),
    keyCount: integer(stringFlag(args.flags, "keys") ?? (quick ? "1000" : "10000"), "--keys", 1, keysMax),
    log,
  };
  const url = stringFlag(args.flags, "url");
  if (url !== undefined) return quickLoad(url, args.flags, options, io);
  if (booleanFlag(args.flags, "cluster") && booleanFlag(args.flags, "dynamodb")) throw new UsageError("--cluster and --dynamodb are two benchmarks; pick one", "bench");
  if (booleanFlag(args.flags, "cluster")) return clusterBenchmark(options, { quick, flags: args.flags, argv, io });
  if (booleanFlag(args.flags, "dynamodb")) return dynamoBenchmark(options, { quick, flags: args.flags, argv, io });
  return fullBenchmark(options, { quick, flags: args.flags, argv, io });
}

async function fullBenchmark(options: BenchOptions, context: { quick: boolean; flags: FlagValues; argv: string[]; io: CliIo }): Promise<number> {
  const machine = machineInfo(new Date());
  const { results, systems } = await runSingleNodeBenchmark(options);
  const rows = summarize(results);
  const ratioRows = ratios(rows);
  const checks = targetChecks(rows, ratioRows);
  const command = `npm run bench${context.argv.length > 0 ? ` -- ${context.argv.join(" ")}` : ""}`;
  const section = [
    `Command: \`${command}\` (${options.runs} run${options.runs === 1 ? "" : "s"} of ${options.durationS} s per scenario after ${options.warmupS} s warm-up; median run shown, spread = min/max ops/s across runs)`,
    "",
    formatMachine(machine),
    "",
    formatSystems(systems),
    "",
    formatTable(rows, systems),
    "",
    formatRatios(ratioRows),
    "",
    "Targets (issue 2):",
    "",
    formatTargets(checks),
  ].join("\n");
  context.io.stdout.write(`${section}\n`);
  const date = machine.date.slice(0, 10);
  const resultsDir = stringFlag(context.flags, "results-dir") ?? resultsDirDefault;
  const path = writeResultsFile(resultsDir, date, { command, machine, systems, options: { ...options, log: undefined }, summary: rows, ratios: ratioRows, targets: checks, runs: results });
  context.io.stdout.write(`\nresults: ${path}\n`);
  if (!context.quick && !booleanFlag(context.flags, "skip-docs")) {
    rewriteDocsSection(benchmarksDocPath, `## Latest single-node run (${date})\n\n${section}`);
    context.io.stdout.write(`docs: ${benchmarksDocPath}\n`);
  }
  return results.some((result) => result.result.ops === 0) ? 1 : 0;
}

async function clusterBenchmark(options: BenchOptions, context: { quick: boolean; flags: FlagValues; argv: string[]; io: CliIo }): Promise<number> {
  const machine = machineInfo(new Date());
  const clusterOptions: ClusterBenchOptions = {
    systems: listFlag(context.flags, "systems", ["shoal", "etcd"], (item) => oneOf(item, ["shoal", "etcd"] as const, "--systems")),
    members: integer(stringFlag(context.flags, "members") ?? "3", "--members", 1, 7),
    valueBytes: stringFlag(context.flags, "value-bytes") === undefined ? 100 : options.valueSizes[0]!,
    concurrency: stringFlag(context.flags, "concurrency") === undefined ? 64 : options.concurrencies[0]!,
    durationS: options.durationS,
    warmupS: options.warmupS,
    systemWarmupS: seconds(context.flags, "system-warmup-s", context.quick ? 0 : 3),
    runs: options.runs,
    keyCount: options.keyCount,
    log: options.log,
  };
  const { results, systems } = await runClusterBenchmark(clusterOptions);
  const rows = summarizeCluster(results);
  const command = `npm run bench${context.argv.length > 0 ? ` -- ${context.argv.join(" ")}` : ""}`;
  const section = [
    `Command: \`${command}\` (${clusterOptions.runs} run${clusterOptions.runs === 1 ? "" : "s"} of ${clusterOptions.durationS} s per scenario after ${clusterOptions.warmupS} s warm-up, each fresh cluster first warmed by ${clusterOptions.systemWarmupS} s of every write scenario, not recorded; ${clusterOptions.valueBytes}-byte values, ${clusterOptions.concurrency} in flight; median run shown)`,
    "",
    formatMachine(machine),
    "",
    ...systems,
    "",
    formatClusterTable(rows),
    "",
    "Targets (issue 3, the eventual path):",
    "",
    ...eventualTargets(rows),
    "",
    "Targets (issue 4, the strong path):",
    "",
    ...clusterTargets(rows),
  ].join("\n");
  context.io.stdout.write(`${section}\n`);
  const date = machine.date.slice(0, 10);
  const resultsDir = stringFlag(context.flags, "results-dir") ?? resultsDirDefault;
  const path = writeResultsFile(resultsDir, date, { command, machine, systems, options: { ...clusterOptions, log: undefined }, summary: rows, runs: results }, "cluster");
  context.io.stdout.write(`\nresults: ${path}\n`);
  if (!context.quick && !booleanFlag(context.flags, "skip-docs")) {
    rewriteDocsSection(benchmarksDocPath, `## Latest cluster run (${date})\n\n${section}`, "cluster");
    context.io.stdout.write(`docs: ${benchmarksDocPath}\n`);
  }
  return results.some((result) => result.result.ops === 0) ? 1 : 0;
}

async function dynamoBenchmark(options: BenchOptions, context: { quick: boolean; flags: FlagValues; argv: string[]; io: CliIo }): Promise<number> {
  const machine = machineInfo(new Date());
  const dynamoOptions: DynamoBenchOptions = {
    systems: listFlag(context.flags, "systems", [...dynamoSystems], (item) => oneOf(item, dynamoSystems, "--systems")),
    scenarios: listFlag(context.flags, "ops", [...dynamoScenarioIds], (item) => oneOf(item, dynamoScenarioIds, "--ops")),
    members: integer(stringFlag(context.flags, "members") ?? "3", "--members", 1, 7),
    itemBytes: stringFlag(context.flags, "value-bytes") === undefined ? 1024 : options.valueSizes[0]!,
    concurrency: stringFlag(context.flags, "concurrency") === undefined ? 64 : options.concurrencies[0]!,
    sdkConcurrency: 1,
    durationS: options.durationS,
    warmupS: options.warmupS,
    // Three fresh nodes need about 15 s of PutItem before the strong put path runs warm (session 7:
    // 668/s after 3 s of warm-up, 1709/s after 15 s).
    systemWarmupS: seconds(context.flags, "system-warmup-s", context.quick ? 0 : 15),
    runs: options.runs,
    keyCount: options.keyCount,
    dynaliteStore: oneOf(stringFlag(context.flags, "dynalite-store") ?? "leveldb", ["leveldb", "memory"] as const, "--dynalite-store"),
    transport: oneOf(stringFlag(context.flags, "driver") ?? "undici", ["undici", "raw"] as const, "--driver"),
    log: options.log,
  };
  if (dynamoOptions.itemBytes < 64 || dynamoOptions.itemBytes > 400 * 1024) throw new UsageError(`--value-bytes with --dynamodb is the item size, from 64 to ${400 * 1024}; got ${dynamoOptions.itemBytes}`, "bench");
  const { results, systems } = await runDynamoBenchmark(dynamoOptions);
  const rows = summarizeDynamo(results);
  const checks = dynamoTargetChecks(rows);
  const command = `npm run bench${context.argv.length > 0 ? ` -- ${context.argv.join(" ")}` : ""}`;
  const section = [
    `Command: \`${command}\` (${dynamoOptions.runs} run${dynamoOptions.runs === 1 ? "" : "s"} of ${dynamoOptions.durationS} s per scenario after ${dynamoOptions.warmupS} s warm-up, each fresh system first warmed by ${dynamoOptions.systemWarmupS} s of PutItem, not recorded; ` +
      `${dynamoOptions.itemBytes}-byte items, ${dynamoOptions.keyCount} keys, ${dynamoOptions.concurrency} in flight, SDK rows ${dynamoOptions.sdkConcurrency}; median run shown, spread = min/max ops/s across runs)`,
    "",
    formatMachine(machine),
    "",
    ...systems,
    "",
    formatDynamoTable(rows, dynamoOptions.members),
    "",
    "Shoal over dynalite (ops/s: higher is better for Shoal; p99.9: lower is):",
    "",
    formatDynamoRatios(rows, dynamoOptions.members),
    "",
    "Targets (issue 5):",
    "",
    formatDynamoTargets(checks),
  ].join("\n");
  context.io.stdout.write(`${section}\n`);
  const date = machine.date.slice(0, 10);
  const resultsDir = stringFlag(context.flags, "results-dir") ?? resultsDirDefault;
  const path = writeResultsFile(resultsDir, date, { command, machine, systems, options: { ...dynamoOptions, log: undefined }, summary: rows, targets: checks, runs: results }, "dynamodb");
  context.io.stdout.write(`\nresults: ${path}\n`);
  if (!context.quick && !booleanFlag(context.flags, "skip-docs")) {
    rewriteDocsSection(benchmarksDocPath, `## Latest DynamoDB API run (${date})\n\n${section}`, "dynamodb");
    context.io.stdout.write(`docs: ${benchmarksDocPath}\n`);
  }
  return results.some((result) => result.result.ops === 0) ? 1 : 0;
}

async function quickLoad(url: string, flags: FlagValues, options: BenchOptions, io: CliIo): Promise<number> {
  const op = oneOf(stringFlag(flags, "op") ?? "get", ["get", "put"] as const, "--op") satisfies Op;
  await createBenchTable(url);
  const spec = {
    target: { kind: "http" as const, url, table: "bench" },
    op,
    valueBytes: options.valueSizes[0]!,
    concurrency: options.concurrencies.at(-1)!,
    keyPrefix: `v${options.valueSizes[0]!}-`,
    keyCount: options.keyCount,
    preload: op === "get",
    warmupMs: options.warmupS * 1000,
    durationMs: options.durationS * 1000,
    opsMax: Math.ceil(options.durationS * 1_000_000),
    serverPids: [],
    seed: 1,
  };
  const result = await runLoadProcess(spec, options);
  io.stdout.write(`${JSON.stringify({ url, op, valueBytes: spec.valueBytes, concurrency: spec.concurrency, ...result })}\n`);
  return result.ops > 0 ? 0 : 1;
}

function listFlag<T>(flags: FlagValues, name: string, fallback: T[], parse: (item: string) => T): T[] {
  const text = stringFlag(flags, name);
  if (text === undefined) return fallback;
  const items = text.split(",").map((item) => item.trim()).filter((item) => item !== "");
  if (items.length === 0) throw new UsageError(`--${name} needs at least one value`, "bench");
  return items.map(parse);
}

function oneOf<T extends string>(item: string, choices: readonly T[], flag: string): T {
  if (!(choices as readonly string[]).includes(item)) throw new UsageError(`${flag} takes ${choices.join(", ")}; got ${JSON.stringify(item)}`, "bench");
  return item as T;
}

function integer(text: string, flag: string, min: number, max: number): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min || value > max) throw new UsageError(`${flag} must be an integer from ${min} to ${max}; got ${JSON.stringify(text)}`, "bench");
  return value;
}

function seconds(flags: FlagValues, name: string, fallback: number): number {
  const text = stringFlag(flags, name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0 || value > durationSMax) throw new UsageError(`--${name} must be from 0 to ${durationSMax} seconds; got ${JSON.stringify(text)}`, "bench");
  return value;
}

