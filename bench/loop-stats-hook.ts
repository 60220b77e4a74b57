import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { PerformanceObserver, monitorEventLoopDelay } from "node:perf_hooks";

/**
 * Loaded with `--import` into each Shoal server a probe starts with `--loop-stats DIR`
 * (dynamo-probe.ts): what makes a latency tail inside the server. It records the event loop's
 * delay (perf_hooks monitorEventLoopDelay, 1 ms resolution: how long a ready callback waited
 * behind whatever ran before it) and every GC pause (kind and duration), and when the process
 * exits writes $SHOAL_LOOP_STATS_DIR/<pid>.json: per segment, the delay's percentiles and max,
 * GC pauses per kind (count, total, max) and the longest 20 pauses. SIGUSR2 ends a segment and
 * starts the next (the probe sends it as each scenario starts, so startup is a segment of its
 * own). Only processes running the shoal CLI.
 */
const dir = process.env.SHOAL_LOOP_STATS_DIR;
if (dir !== undefined && dir !== "" && process.argv.some((arg) => arg.endsWith("main.js"))) {
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const kinds = new Map<string, { count: number; totalMs: number; maxMs: number }>();
  const longest: { kind: string; ms: number }[] = [];
  const segments: unknown[] = [];
  const kindNames: Record<number, string> = { 1: "minor", 2: "major", 4: "incremental", 8: "weakcb" };
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const detail = (entry as { detail?: { kind?: number } }).detail;
      const kind = kindNames[detail?.kind ?? 0] ?? String(detail?.kind);
      const stats = kinds.get(kind) ?? { count: 0, totalMs: 0, maxMs: 0 };
      stats.count++;
      stats.totalMs += entry.duration;
      stats.maxMs = Math.max(stats.maxMs, entry.duration);
      kinds.set(kind, stats);
      longest.push({ kind, ms: entry.duration });
      if (longest.length > 200) {
        longest.sort((a, b) => b.ms - a.ms);
        longest.length = 20;
      }
    }
  });
  observer.observe({ entryTypes: ["gc"] });
  const endSegment = (): void => {
    longest.sort((a, b) => b.ms - a.ms);
    const ms = (ns: number) => Math.round(ns / 1e4) / 100;
    segments.push({
      loopDelayMs: { p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), p999: ms(delay.percentile(99.9)), max: ms(delay.max), mean: ms(delay.mean), samples: delay.count },
      gc: Object.fromEntries([...kinds].map(([kind, s]) => [kind, { count: s.count, totalMs: Math.round(s.totalMs), maxMs: Math.round(s.maxMs * 100) / 100 }])),
      longestGcMs: longest.slice(0, 20).map((p) => `${p.kind} ${p.ms.toFixed(1)}`),
    });
    delay.reset();
    kinds.clear();
    longest.length = 0;
  };
  process.on("SIGUSR2", endSegment);
  process.on("exit", () => {
    endSegment();
    delay.disable();
    writeFileSync(join(dir, `${process.pid}.json`), `${JSON.stringify(segments)}\n`);
  });
}
