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
  /** The few processes using the most CPU when the benchmark started (the machine is shared). */
  busyProcesses: string[];
}

const busyProcessesShown = 5;

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
  const answer = spawnSync("ps", ["-eo", "pcpu=,comm=", "--sort=-pcpu"], { encoding: "utf8" });
  if (answer.status !== 0) return [];
  return answer.stdout
    .trim()
    .split("\n")
    .map((line) => line.trim().replace(/\s+/, "% "))
    .filter((line) => !line.endsWith("% ps"))
    .slice(0, busyProcessesShown);
}
