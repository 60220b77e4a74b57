import { runClosedLoop } from "./closed-loop.js";
import { createLoadDriver } from "./load-drivers.js";
import type { LoadResult, LoadSpec } from "./load-spec.js";
import { processesCpuMs } from "./proc-cpu.js";

/**
 * The load process: `node dist/bench/load.js '<LoadSpec JSON>'`, started by the orchestrator
 * (pinned to its own core). It preloads if asked, warms up, measures, and prints one LoadResult
 * JSON line on stdout. CPU of the load process and of the servers is sampled over exactly the
 * measured window.
 */
async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? "") as LoadSpec;
  const driver = await createLoadDriver(spec);
  try {
    if (spec.preload) await driver.preload();
    let loadCpuStart = process.cpuUsage();
    let serverCpuStartMs: number | null = null;
    let loadCpuMs = 0;
    let serverCpuMs: number | null = null;
    const loop = await runClosedLoop({
      concurrency: spec.concurrency,
      warmupMs: spec.warmupMs,
      durationMs: spec.durationMs,
      opsMax: spec.opsMax,
      operation: (worker) => driver.operation(worker),
      onMeasureStart: () => {
        loadCpuStart = process.cpuUsage();
        serverCpuStartMs = processesCpuMs(spec.serverPids);
      },
      onMeasureEnd: () => {
        const used = process.cpuUsage(loadCpuStart);
        loadCpuMs = (used.user + used.system) / 1000;
        const end = processesCpuMs(spec.serverPids);
        serverCpuMs = end === null || serverCpuStartMs === null ? null : end - serverCpuStartMs;
      },
    });
    const wallMs = Math.max(loop.durationMs, 1);
    const result: LoadResult = {
      ...loop,
      opsPerSec: loop.durationMs > 0 ? (loop.ops * 1000) / loop.durationMs : 0,
      loadCpuPct: (100 * loadCpuMs) / wallMs,
      serverCpuPct: serverCpuMs === null || spec.serverPids.length === 0 ? null : (100 * (serverCpuMs as number)) / wallMs,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await driver.close();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`load: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
