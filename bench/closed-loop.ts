import * as hdr from "hdr-histogram-js";
import type { LatencySummary } from "./load-spec.js";

/**
 * A closed-loop load: `concurrency` workers, each issuing one operation, waiting for it, and
 * issuing the next. A warm-up phase runs first and is not recorded; then latencies of operations
 * started inside the measured window go into an HDR histogram in microseconds. The run is bounded
 * both by time and by operation count.
 */
export interface ClosedLoopOptions {
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  opsMax: number;
  /** Performs one operation for `worker`; resolves false (or throws) on failure. */
  operation: (worker: number) => Promise<boolean>;
  /** Called when the measured window opens and closes (CPU sampling). */
  onMeasureStart?: () => void;
  onMeasureEnd?: () => void;
}

export interface ClosedLoopResult {
  ops: number;
  errors: number;
  firstError: string | null;
  durationMs: number;
  latency: LatencySummary;
}

/** Latencies above a minute are clamped; nothing in a benchmark should take that long. */
const latencyUsMax = 60_000_000;

export async function runClosedLoop(options: ClosedLoopOptions): Promise<ClosedLoopResult> {
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: latencyUsMax, numberOfSignificantValueDigits: 3 });
  const startNs = process.hrtime.bigint();
  const warmupEndNs = startNs + BigInt(Math.round(options.warmupMs * 1e6));
  let measureStartNs: bigint | undefined;
  let measureEndNs = 0n;
  let lastDoneNs = 0n;
  let ops = 0;
  let errors = 0;
  let firstError: string | null = null;
  let started = 0;

  const openMeasureWindow = (now: bigint) => {
    measureStartNs = now;
    measureEndNs = now + BigInt(Math.round(options.durationMs * 1e6));
    options.onMeasureStart?.();
  };

  const worker = async (index: number) => {
    for (;;) {
      const before = process.hrtime.bigint();
      if (measureStartNs === undefined && before >= warmupEndNs) openMeasureWindow(before);
      const measured = measureStartNs !== undefined;
      if (measured && (before >= measureEndNs || started >= options.opsMax)) return;
      if (measured) started++;
      let ok: boolean;
      try {
        ok = await options.operation(index);
      } catch (error) {
        ok = false;
        firstError ??= error instanceof Error ? error.message : String(error);
      }
      if (!measured) continue;
      const after = process.hrtime.bigint();
      lastDoneNs = after;
      if (!ok) {
        errors++;
        firstError ??= "operation reported failure";
        continue;
      }
      ops++;
      histogram.recordValue(Math.min(latencyUsMax, Math.max(1, Number((after - before) / 1000n))));
    }
  };

  await Promise.all(Array.from({ length: options.concurrency }, (_, index) => worker(index)));
  options.onMeasureEnd?.();
  const durationMs = measureStartNs === undefined ? 0 : Number(lastDoneNs - measureStartNs) / 1e6;
  // HDR reports a percentile as the top of its bucket, which can exceed the largest recorded
  // value; no sample is above the maximum, so clamp to it.
  const maxUs = histogram.maxValue;
  const at = (percentile: number) => Math.min(histogram.getValueAtPercentile(percentile), maxUs);
  const latency = { p50Us: at(50), p99Us: at(99), p999Us: at(99.9), maxUs, meanUs: Math.round(histogram.mean) };
  histogram.destroy();
  return { ops, errors, firstError, durationMs, latency };
}
