import * as hdr from "hdr-histogram-js";
import { Pool } from "undici";
import { KeyPicker } from "./key-picker.js";

/**
 * A closed-loop read load that runs until told to stop, its latencies split into named phases
 * (before a join, during the handoff): the benchmark cannot know in advance how long a handoff
 * lasts, so it cannot use the fixed-duration load process. It runs inside the orchestrator; the
 * report says so. Reads at `r` from every node in turn; a read counts as an error unless it
 * answers 200 with a body of `valueBytes`.
 */
export interface PhaseResult {
  phase: string;
  ops: number;
  errors: number;
  firstError: string | null;
  durationMs: number;
  opsPerSec: number;
  p50Us: number;
  p99Us: number;
  p999Us: number;
  maxUs: number;
}

interface Phase {
  name: string;
  startedMs: number;
  endedMs: number;
  histogram: hdr.Histogram;
  ops: number;
  errors: number;
  firstError: string | null;
}

const latencyUsMax = 60_000_000;
const requestTimeoutMs = 10_000;

export class ReadLoad {
  private readonly pools: Pool[];
  private readonly phases: Phase[] = [];
  private stopping = false;
  private workers: Promise<void>[] = [];

  constructor(private readonly options: { urls: readonly string[]; table: string; prefix: string; keyCount: number; concurrency: number; r: number; valueBytes: number; seed: number }) {
    const perNode = Math.max(1, Math.ceil(options.concurrency / options.urls.length));
    this.pools = options.urls.map((url) => new Pool(url, { connections: perNode, pipelining: 1, headersTimeout: requestTimeoutMs, bodyTimeout: requestTimeoutMs }));
  }

  /** Starts the workers (if not yet) and opens a new phase; the previous phase ends now. */
  phase(name: string): void {
    const now = performance.now();
    const current = this.phases.at(-1);
    if (current !== undefined) current.endedMs = now;
    this.phases.push({ name, startedMs: now, endedMs: 0, histogram: hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: latencyUsMax, numberOfSignificantValueDigits: 3 }), ops: 0, errors: 0, firstError: null });
    if (this.workers.length === 0) this.workers = Array.from({ length: this.options.concurrency }, (_, i) => this.worker(i));
  }

  async stop(): Promise<PhaseResult[]> {
    const current = this.phases.at(-1);
    if (current !== undefined) current.endedMs = performance.now();
    this.stopping = true;
    await Promise.all(this.workers);
    await Promise.all(this.pools.map((pool) => pool.close()));
    return this.phases.map((phase) => {
      const max = phase.histogram.maxValue;
      const at = (percentile: number) => Math.min(phase.histogram.getValueAtPercentile(percentile), max);
      const durationMs = phase.endedMs - phase.startedMs;
      const result = { phase: phase.name, ops: phase.ops, errors: phase.errors, firstError: phase.firstError, durationMs, opsPerSec: durationMs > 0 ? (phase.ops * 1000) / durationMs : 0, p50Us: at(50), p99Us: at(99), p999Us: at(99.9), maxUs: max };
      phase.histogram.destroy();
      return result;
    });
  }

  private async worker(index: number): Promise<void> {
    const picker = new KeyPicker(this.options.prefix, this.options.keyCount, this.options.seed + index * 7919);
    const pool = this.pools[index % this.pools.length]!;
    const base = `/v1/tables/${encodeURIComponent(this.options.table)}/items/`;
    while (!this.stopping) {
      const phase = this.phases.at(-1)!;
      const before = performance.now();
      let error: string | null = null;
      try {
        const answer = await pool.request({ method: "GET", path: `${base}${encodeURIComponent(picker.next())}?r=${this.options.r}` });
        const body = await answer.body.arrayBuffer();
        if (answer.statusCode !== 200 || body.byteLength !== this.options.valueBytes) error = `status ${answer.statusCode}, ${body.byteLength} bytes: ${Buffer.from(body).toString("utf8").slice(0, 200)}`;
      } catch (caught) {
        error = caught instanceof Error ? caught.message : String(caught);
      }
      if (this.phases.at(-1) !== phase) continue;
      if (error !== null) {
        phase.errors++;
        phase.firstError ??= error;
        continue;
      }
      phase.ops++;
      phase.histogram.recordValue(Math.min(latencyUsMax, Math.max(1, Math.round((performance.now() - before) * 1000))));
    }
  }
}
