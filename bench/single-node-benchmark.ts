import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ShoalHttpClient } from "../src/client/http-client.js";
import { ShoalError } from "../src/errors.js";
import type { LoadResult, LoadSpec, LoadTarget } from "./load-spec.js";
import { ceilingScriptPath, loadScriptPath, shoalCliPath } from "./paths.js";
import { redisDurability, redisVersion, startRedis } from "./redis-system.js";
import { pinned, startListeningProcess, type ServerProcess } from "./server-process.js";

/**
 * The single-node benchmark (BENCHMARKS.md, question 1): Shoal's native GET and PUT against the
 * bare node:http ceiling and Redis, in the same run, servers on core 0 and the load process on
 * core 1. Each run starts every system fresh, runs every scenario, and stops it; runs interleave
 * the systems, in a rotating order, so slow drift on a shared machine hits all of them alike.
 */
export type SystemName = "shoal" | "ceiling" | "redis";
export type Op = "get" | "put";

export const allSystems: readonly SystemName[] = ["shoal", "ceiling", "redis"];

export interface BenchOptions {
  systems: SystemName[];
  ops: Op[];
  valueSizes: number[];
  concurrencies: number[];
  durationS: number;
  warmupS: number;
  runs: number;
  keyCount: number;
  log: (line: string) => void;
}

export interface Scenario {
  system: SystemName;
  op: Op;
  valueBytes: number;
  concurrency: number;
}

export interface RunResult extends Scenario {
  run: number;
  result: LoadResult;
}

export interface SystemInfo {
  name: SystemName;
  label: string;
  durability: string;
  skipped?: string;
}

export const serverCpu = 0;
export const loadCpu = 1;
const serverStartDeadlineMs = 30_000;
const benchTable = "bench";
/** Operations per second no system here reaches; bounds a run by count as well as time. */
const opsPerSecondCeiling = 1_000_000;

export async function runSingleNodeBenchmark(options: BenchOptions): Promise<{ results: RunResult[]; systems: SystemInfo[] }> {
  const systems = describeSystems(options.systems);
  for (const system of systems) if (system.skipped !== undefined) options.log(system.skipped);
  const active = systems.filter((system) => system.skipped === undefined).map((system) => system.name);
  const results: RunResult[] = [];
  for (let run = 1; run <= options.runs; run++) {
    // Rotate which system goes first, so load that rises or falls during a run does not always
    // favour the same system.
    const shift = (run - 1) % active.length;
    for (const system of [...active.slice(shift), ...active.slice(0, shift)]) {
      options.log(`run ${run}/${options.runs}: ${system}`);
      results.push(...(await runSystem(system, run, options)));
    }
  }
  return { results, systems };
}

function describeSystems(names: SystemName[]): SystemInfo[] {
  return names.map((name): SystemInfo => {
    if (name === "shoal") return { name, label: "Shoal (native REST, LMDB)", durability: "fsync before ack (group commit)" };
    if (name === "ceiling") return { name, label: "bare node:http + Map", durability: "none (memory)" };
    const version = redisVersion();
    if (version === undefined) return { name, label: "Redis", durability: redisDurability, skipped: "redis-server not installed: apt-get install redis-server" };
    return { name, label: `Redis ${version}`, durability: redisDurability };
  });
}

async function runSystem(system: SystemName, run: number, options: BenchOptions): Promise<RunResult[]> {
  const started = await startSystem(system);
  const results: RunResult[] = [];
  try {
    for (const valueBytes of options.valueSizes) {
      let preloaded = false;
      for (const op of ["put", "get"] as const) {
        if (!options.ops.includes(op)) continue;
        for (const concurrency of options.concurrencies) {
          const preload: boolean = op === "get" && !preloaded;
          preloaded ||= preload;
          const spec = loadSpec({ system, op, valueBytes, concurrency }, started, { preload, run, options });
          const result = await runLoadProcess(spec, options).catch((error: unknown) => failedLoad(error));
          options.log(`  ${op} ${valueBytes} B x${concurrency}: ${Math.round(result.opsPerSec)} ops/s, p99.9 ${result.latency.p999Us} us${result.errors > 0 ? `, ${result.errors} errors (${result.firstError})` : ""}`);
          results.push({ system, op, valueBytes, concurrency, run, result });
        }
      }
    }
  } finally {
    await started.stop();
  }
  return results;
}

/** A scenario whose load process failed still gets a row (zero ops, the error), and the run goes on. */
function failedLoad(error: unknown): LoadResult {
  const message = error instanceof Error ? error.message : String(error);
  return {
    ops: 0,
    errors: 1,
    firstError: message.slice(0, 2000),
    durationMs: 0,
    opsPerSec: 0,
    latency: { p50Us: 0, p99Us: 0, p999Us: 0, maxUs: 0, meanUs: 0 },
    loadCpuPct: 0,
    serverCpuPct: null,
  };
}

interface StartedSystem {
  target: LoadTarget;
  pids: number[];
  stop(): Promise<void>;
}

async function startSystem(system: SystemName): Promise<StartedSystem> {
  if (system === "redis") {
    const redis = await startRedis({ cpu: serverCpu, deadlineMs: serverStartDeadlineMs });
    return { target: { kind: "redis", host: redis.host, port: redis.port }, pids: [redis.pid], stop: () => redis.stop() };
  }
  if (system === "ceiling") {
    const ceiling = await startListeningProcess({ cpu: serverCpu, command: process.execPath, args: [ceilingScriptPath], deadlineMs: serverStartDeadlineMs });
    return { target: { kind: "http", url: ceiling.url, table: benchTable }, pids: [ceiling.pid], stop: () => ceiling.stop() };
  }
  return startShoal();
}

async function startShoal(): Promise<StartedSystem> {
  const dataDir = mkdtempSync(join(tmpdir(), "shoal-bench-"));
  let shoal: ServerProcess | undefined;
  try {
    shoal = await startListeningProcess({
      cpu: serverCpu,
      command: process.execPath,
      args: [shoalCliPath, "start", "--port", "0", "--peer-port", "0", "--data-dir", dataDir, "--log-level", "info"],
      deadlineMs: serverStartDeadlineMs,
    });
    await createBenchTable(shoal.url);
  } catch (error) {
    await shoal?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  const running = shoal;
  return {
    target: { kind: "http", url: running.url, table: benchTable },
    pids: [running.pid],
    stop: async () => {
      await running.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Creates the benchmark table; an existing one (a node reused with --url) is fine. */
export async function createBenchTable(url: string): Promise<void> {
  const client = new ShoalHttpClient({ url });
  try {
    // Last-writer-wins: the load overwrites keys blindly (as Redis SET does); on a siblings table
    // every blind overwrite would add a sibling.
    await client.createTable({ name: benchTable, conflicts: "lww" });
  } catch (error) {
    if (!(error instanceof ShoalError && error.status === 409)) throw error;
  } finally {
    await client.close();
  }
}

function loadSpec(scenario: Scenario, started: StartedSystem, context: { preload: boolean; run: number; options: BenchOptions }): LoadSpec {
  const { options } = context;
  return {
    target: started.target,
    op: scenario.op,
    valueBytes: scenario.valueBytes,
    concurrency: scenario.concurrency,
    keyPrefix: `v${scenario.valueBytes}-`,
    keyCount: options.keyCount,
    preload: context.preload,
    warmupMs: options.warmupS * 1000,
    durationMs: options.durationS * 1000,
    opsMax: Math.ceil(options.durationS * opsPerSecondCeiling),
    serverPids: started.pids,
    seed: 1 + context.run * 1000 + scenario.concurrency,
  };
}

/** Runs one load process on the load core and returns its result; kills it past a deadline. */
export function runLoadProcess(spec: LoadSpec, options: { durationS: number; warmupS: number; keyCount: number }): Promise<LoadResult> {
  // Preloading writes keyCount values; at a (pessimistic) 1000 writes/s plus a minute of slack.
  const deadlineMs = (options.warmupS + options.durationS) * 1000 + (spec.preload ? options.keyCount : 0) + 60_000;
  const [command, args] = pinned(loadCpu, process.execPath, [loadScriptPath, JSON.stringify(spec)]);
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (text: string) => (stdout += text));
  child.stderr!.setEncoding("utf8").on("data", (text: string) => (stderr = (stderr + text).slice(-4000)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), deadlineMs);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      const line = stdout.trim().split("\n").at(-1) ?? "";
      if (code !== 0 || line === "") {
        reject(new Error(`load process failed (code ${code}, signal ${signal}${signal === "SIGKILL" ? `, deadline ${deadlineMs} ms` : ""}): ${stderr.trim()}`));
        return;
      }
      resolve(JSON.parse(line) as LoadResult);
    });
  });
}
