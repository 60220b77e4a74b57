import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { availableParallelism, loadavg, platform, release } from "node:os";
import { hasTaskset } from "./server-process.js";
import { loadCpu, serverCpu } from "./single-node-benchmark.js";

/** What a figure depends on besides the code: recorded with every result (BENCHMARKS.md). */
export interface MachineInfo {
  date: string;
  cpus: number;
  cpuModel: string;
  nodeVersion: string;
  platform: string;
  pinning: string;
  loadAverage: number[];
  /** The few processes using the most CPU when the benchmark started (the machine is shared), named by shortCommand. */
  busyProcesses: string[];
}

const busyProcessesShown = 5;
const commandCharsMax = 40;

export function machineInfo(now: Date): MachineInfo {
  return {
    date: now.toISOString(),
    cpus: availableParallelism(),
    cpuModel: cpuModel(),
    nodeVersion: process.version,
    platform: `${platform()} ${release()}`,
    pinning: hasTaskset() ? `servers on core ${serverCpu}, load process on core ${loadCpu} (taskset)` : "none (taskset not found)",
    loadAverage: loadavg(),
    busyProcesses: busyProcesses(),
  };
}

function cpuModel(): string {
  try {
    const line = readFileSync("/proc/cpuinfo", "utf8").split("\n").find((l) => l.startsWith("model name"));
    return line?.split(":")[1]?.trim() ?? "unknown";
  } catch {
    return "unknown";
  }
}

/** `ps` is optional (minimal containers lack it); the list is informative, never required. */
function busyProcesses(): string[] {
  const answer = spawnSync("ps", ["-eo", "pcpu=,args=", "--sort=-pcpu"], { encoding: "utf8" });
  if (answer.status !== 0) return [];
  return answer.stdout
    .trim()
    .split("\n")
    .map((line) => /^\s*([\d.]+)\s+(.*)$/.exec(line))
    .filter((match): match is RegExpExecArray => match !== null && !match[2]!.startsWith("ps "))
    .map((match) => `${match[1]}% ${shortCommand(match[2]!)}`)
    .slice(0, busyProcessesShown);
}

/**
 * A process named by its program and the first argument that is not a flag, each cut to its last
 * path part ("node tsc", "redis-server 127.0.0.1:6379"); other arguments are left out, so nothing
 * a command line carries beyond that lands in a committed report.
 */
export function shortCommand(args: string): string {
  // A kernel thread ("[kworker/0:1H-kblockd]") has no command line; its name is its whole text.
  if (args.trim().startsWith("[")) return args.trim().slice(0, commandCharsMax);
  const words = args.trim().split(/\s+/);
  const base = (word: string) => word.replace(/\/+$/, "").split("/").at(-1)!;
  const program = base(words[0] ?? "");
  const first = words.slice(1).find((word) => !word.startsWith("-"));
  const text = first === undefined ? program : `${program} ${base(first)}`;
  return text.length > commandCharsMax ? `${text.slice(0, commandCharsMax - 3)}...` : text;
}
