import { assert } from "../assert.js";
import type { Clock } from "../runtime/runtime.js";
import type { Scheduler } from "./scheduler.js";

/**
 * One simulated node's wall clock over virtual time (TESTING.md: "clock drift and jumps per
 * node"). It reads `epochMs + offsetMs + elapsed * (1 + driftPpm / 1e6)` in whole ms, where `elapsed` is
 * virtual time since the drift last changed, so changing the drift never makes the clock jump;
 * only `jump` does (an NTP step, a VM resume), and a negative jump runs the clock backwards,
 * which the hybrid logical clock must tolerate.
 *
 * The clock belongs to the simulated machine, not the process: it keeps running across a
 * crash and restart of the node.
 */
export interface SimClockOptions {
  /** Wall-clock reading at virtual time 0 (a realistic epoch keeps HLC timestamps realistic). */
  epochMs?: number;
  offsetMs?: number;
  driftPpm?: number;
}

/** Drift beyond this is a broken oscillator, not a fault worth simulating. */
export const simClockDriftPpmMax = 100_000;
export const simClockEpochMsDefault = 1_767_225_600_000; // 2026-01-01T00:00:00Z

export class SimClock implements Clock {
  private baseVirtualMs: number;
  private baseReadingMs: number;
  private driftPpmValue: number;

  constructor(
    private readonly scheduler: Scheduler,
    options: SimClockOptions = {},
  ) {
    this.driftPpmValue = 0;
    this.baseVirtualMs = scheduler.now();
    this.baseReadingMs = (options.epochMs ?? simClockEpochMsDefault) + (options.offsetMs ?? 0) + scheduler.now();
    this.setDriftPpm(options.driftPpm ?? 0);
  }

  /** Whole milliseconds, like Date.now(). */
  nowMs(): number {
    return Math.floor(this.exactMs());
  }

  get driftPpm(): number {
    return this.driftPpmValue;
  }

  /** Clock rate relative to virtual time (1 = perfect). */
  get rate(): number {
    return 1 + this.driftPpmValue / 1e6;
  }

  /** Changes the rate from now on without a discontinuity. */
  setDriftPpm(driftPpm: number): void {
    assert(Math.abs(driftPpm) <= simClockDriftPpmMax, `clock drift ${driftPpm} ppm is beyond ±${simClockDriftPpmMax} ppm`);
    this.rebase();
    this.driftPpmValue = driftPpm;
  }

  /** Steps the reading by `deltaMs` (negative: backwards). */
  jump(deltaMs: number): void {
    assert(Number.isFinite(deltaMs), `clock jump must be finite, got ${deltaMs}`);
    this.rebase();
    this.baseReadingMs += deltaMs;
  }

  private exactMs(): number {
    const elapsedMs = this.scheduler.now() - this.baseVirtualMs;
    return this.baseReadingMs + elapsedMs + (elapsedMs * this.driftPpmValue) / 1e6;
  }

  private rebase(): void {
    this.baseReadingMs = this.exactMs();
    this.baseVirtualMs = this.scheduler.now();
  }
}
