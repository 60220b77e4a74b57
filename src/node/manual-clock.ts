import type { Clock } from "../runtime/runtime.js";

/**
 * A wall clock that moves only when told: tests of expiry and Last-Modified build their
 * runtime with it instead of sleeping. Also usable as a fixed fault-injection clock.
 */
export class ManualClock implements Clock {
  constructor(private ms: number) {}

  nowMs(): number {
    return this.ms;
  }

  advance(deltaMs: number): void {
    this.ms += deltaMs;
  }

  set(ms: number): void {
    this.ms = ms;
  }
}
