import { parseArgs } from "node:util";
import { formatMachine, rewriteDocsSection, writeResultsFile } from "./bench-report.js";
import { runJoin, runOnOff } from "./elastic-benchmark.js";
import { closeHttp } from "./elastic-http.js";
import { healUnavailable, runHeal } from "./elastic-heal.js";
import { formatElastic, formatHeal, formatOnOff, type ElasticResults } from "./elastic-report.js";
import { machineInfo } from "./machine-info.js";
import { benchmarksDocPath, resultsDirDefault } from "./paths.js";

/**
 * `node dist/bench/elastic-main.js [--quick] [--skip-heal] [--skip-docs] [--runs N]` (issue 6's
 * benchmark additions; run `npm run build` first):
 *   1. heal time: 100k keys on 3 nodes in network namespaces, one node isolated for 60 s while
 *      writes go on through the other two, then the time from the heal to equal Merkle roots
 *      (needs root, ip and iptables; skipped otherwise, with the reason);
 *   2. PUT and GET (W=2/R=2, concurrency 64) with anti-entropy on and off, alternating;
 *   3. a 4th node joining a 3-node cluster holding 200k items, with a read load during the handoff.
 * --quick: 5k keys, a 5 s partition, 10k items, 1 run of 2 s (development and the smoke test).
 * Prints the tables, writes bench/results/<date>-elastic.json and, in a full run without
 * --skip-docs (or a quick one with --write-docs), the section of docs/benchmarks.md between <!-- bench:elastic:start/end -->.
 */
export interface ElasticSizes {
  healKeys: number;
  partitionMs: number;
  healDeadlineMs: number;
  onOffKeys: number;
  durationS: number;
  warmupS: number;
  joinItems: number;
  baselineMs: number;
  joinDeadlineMs: number;
}

export const fullSizes: ElasticSizes = { healKeys: 100_000, partitionMs: 60_000, healDeadlineMs: 600_000, onOffKeys: 50_000, durationS: 10, warmupS: 2, joinItems: 200_000, baselineMs: 10_000, joinDeadlineMs: 900_000 };
export const quickSizes: ElasticSizes = { healKeys: 5000, partitionMs: 5000, healDeadlineMs: 120_000, onOffKeys: 5000, durationS: 2, warmupS: 0.5, joinItems: 10_000, baselineMs: 2000, joinDeadlineMs: 120_000 };

export type ElasticPart = "heal" | "onoff" | "join";

export interface ElasticOptions {
  sizes: ElasticSizes;
  /** The parts to run (default all); a part left out reports "skipped". */
  only?: readonly ElasticPart[];
  skipHeal: boolean;
  runs: number;
  log: (line: string) => void;
}

export async function runElastic(options: ElasticOptions): Promise<ElasticResults> {
  const sizes = options.sizes;
  const runs = (part: ElasticPart) => options.only === undefined || options.only.includes(part);
  const why = options.skipHeal || !runs("heal") ? "left out" : healUnavailable();
  options.log(why === undefined ? "heal time: partition of one node in three" : `heal time: skipped (${why})`);
  const heal = why !== undefined
    ? { skipped: why }
    : await runHeal({ keys: sizes.healKeys, partitionMs: sizes.partitionMs, valueBytes: 100, writers: 16, healDeadlineMs: sizes.healDeadlineMs, log: options.log });
  options.log(formatHeal(heal));
  options.log("anti-entropy on and off");
  const onOff = !runs("onoff") ? [] : await runOnOff({ keys: sizes.onOffKeys, concurrency: 64, durationS: sizes.durationS, warmupS: sizes.warmupS, runs: options.runs, log: options.log });
  options.log(formatOnOff(onOff));
  options.log("a fourth node joins");
  const join = !runs("join") ? { skipped: "left out" } : await runJoin({ items: sizes.joinItems, readConcurrency: 16, baselineMs: sizes.baselineMs, deadlineMs: sizes.joinDeadlineMs, log: options.log });
  return { heal, onOff, join };
}

/** The command line (for `npm run bench -- --elastic`: pass the remaining arguments). */
export async function runElasticCli(args: readonly string[]): Promise<void> {
  const { values } = parseArgs({ args: [...args], options: { quick: { type: "boolean" }, "skip-heal": { type: "boolean" }, "skip-docs": { type: "boolean" }, "write-docs": { type: "boolean" }, only: { type: "string" }, "partition-s": { type: "string" }, keys: { type: "string" }, runs: { type: "string" }, help: { type: "boolean", short: "h" } }, strict: true });
  if (values.help === true) {
    process.stdout.write("Usage: node dist/bench/elastic-main.js [--quick] [--skip-heal] [--skip-docs | --write-docs] [--runs N (1 to 9; default 3, --quick 1)] [--only heal,onoff,join] [--keys N] [--partition-s S]\n");
    return;
  }
  const quick = values.quick === true;
  const runs = values.runs === undefined ? (quick ? 1 : 3) : Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1 || runs > 9) throw new Error(`--runs must be an integer from 1 to 9; got ${JSON.stringify(values.runs)}`);
  const machine = machineInfo(new Date());
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const started = performance.now();
  const only = values.only === undefined ? undefined : values.only.split(",").map((part) => part.trim());
  const parts: readonly string[] = ["heal", "onoff", "join"];
  if (only !== undefined && (only.length === 0 || only.some((part) => !parts.includes(part)))) throw new Error(`--only takes heal, onoff, join (comma-separated); got ${JSON.stringify(values.only)}`);
  const sizes = { ...(quick ? quickSizes : fullSizes) };
  if (values["partition-s"] !== undefined) sizes.partitionMs = boundedInteger("--partition-s", values["partition-s"], 1, 3600) * 1000;
  if (values.keys !== undefined) sizes.healKeys = sizes.joinItems = boundedInteger("--keys", values.keys, 100, 10_000_000);
  const results = await runElastic({ sizes, skipHeal: values["skip-heal"] === true, runs, log, ...(only !== undefined ? { only: only as ElasticPart[] } : {}) });
  const elapsedS = (performance.now() - started) / 1000;
  const command = `node dist/bench/elastic-main.js ${args.join(" ")}`.trim();
  const section = [
    `Command: \`${command}\` (${elapsedS.toFixed(0)} s). Shoal: \`shoal start\` processes, LMDB, every write fsynced before it acknowledges; anti-entropy at its defaults (a round every 10 s, 2 exchanges at once, 4 MiB/s) unless turned off.`,
    "",
    formatMachine(machine),
    "- heal time: 3 nodes, each in its own network namespace on a private bridge (not pinned); the partition is iptables DROP between the isolated node and the other two; writes: PUT at W=2 through the two others, 16 at a time, overwriting loaded keys in order",
    "- on/off: 3 nodes on loopback, all on core 0, a separate load process on core 1 (undici, keep-alive), each mode on a fresh cluster preloaded through the batch endpoint",
    "- join: 3 nodes on loopback (core 0), then a 4th; the read load (R=2, 16 in flight, uniform keys) runs inside the benchmark process, unpinned",
    "",
    formatElastic(results),
  ].join("\n");
  process.stdout.write(`${section}\n`);
  const path = writeResultsFile(resultsDirDefault, machine.date.slice(0, 10), { command, machine, results }, "elastic");
  log(`results: ${path}`);
  if ((!quick || values["write-docs"] === true) && values["skip-docs"] !== true) {
    rewriteDocsSection(benchmarksDocPath, `## Elastic: heal time, anti-entropy on/off, a fourth node joining (issue 6)\n\n${section}`, "elastic");
    log(`docs: ${benchmarksDocPath}`);
  }
}

function boundedInteger(flag: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) throw new Error(`${flag} must be an integer from ${min} to ${max}; got ${JSON.stringify(text)}`);
  return value;
}

if (process.argv[1]?.endsWith("elastic-main.js")) {
  runElasticCli(process.argv.slice(2)).then(
    async () => {
      await closeHttp();
      process.exit(0);
    },
    (error: unknown) => {
      process.stderr.write(`elastic benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}
