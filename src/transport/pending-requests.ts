import type { Clock, TimerHandle, Timers } from "../runtime/runtime.js";
import { assert } from "../assert.js";

/**
 * The requests of one connection that await a reply, each with a deadline, kept with a single
 * timer instead of one per request: the timer is armed for the earliest deadline, and when it
 * fires every request that is due expires at once and the timer is re-armed for the next one.
 * A request answered in time costs a map entry and a clock reading, nothing more; at hundreds
 * of thousands of requests a second, one timer per request is a measurable share of the CPU.
 *
 * Deadlines are measured with `clock`, which should be monotonic (a wall clock that jumps
 * would expire requests early or late). The owner bounds how many are pending.
 */
export class PendingRequests<R> {
  private readonly entries = new Map<number, { resolve: (result: R) => void; deadlineMs: number }>();
  private timer: TimerHandle | null = null;
  private timerDueMs = Infinity;
  private readonly onTimer = () => this.expireDue();

  constructor(
    private readonly timers: Timers,
    private readonly clock: Clock,
    /** What an expired request resolves with. */
    private readonly timeoutResult: R,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  has(requestId: number): boolean {
    return this.entries.has(requestId);
  }

  add(requestId: number, resolve: (result: R) => void, timeoutMs: number): void {
    if (this.entries.has(requestId)) assert(false, `request id ${requestId} is still in flight`);
    if (!(timeoutMs >= 0)) assert(false, `a request needs a non-negative timeout, got ${timeoutMs}`);
    const nowMs = this.clock.nowMs();
    const deadlineMs = nowMs + timeoutMs;
    this.entries.set(requestId, { resolve, deadlineMs });
    if (deadlineMs < this.timerDueMs) this.arm(deadlineMs, nowMs);
  }

  /** Resolves request `requestId` with `result`; false if it is unknown (expired, or never sent). */
  settle(requestId: number, result: R): boolean {
    const entry = this.entries.get(requestId);
    if (entry === undefined) return false;
    this.entries.delete(requestId);
    entry.resolve(result);
    return true;
  }

  /** Resolves every pending request with `result` and stops the timer (the connection closed). */
  settleAll(result: R): void {
    this.disarm();
    const entries = [...this.entries.values()];
    this.entries.clear();
    for (const entry of entries) entry.resolve(result);
  }

  private arm(deadlineMs: number, nowMs: number): void {
    this.disarm();
    this.timerDueMs = deadlineMs;
    this.timer = this.timers.setTimeout(this.onTimer, Math.max(0, deadlineMs - nowMs));
  }

  private disarm(): void {
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
    this.timerDueMs = Infinity;
  }

  private expireDue(): void {
    this.timer = null;
    this.timerDueMs = Infinity;
    const nowMs = this.clock.nowMs();
    let nextDueMs = Infinity;
    const expired: Array<(result: R) => void> = [];
    for (const [requestId, entry] of this.entries) {
      if (entry.deadlineMs <= nowMs) {
        this.entries.delete(requestId);
        expired.push(entry.resolve);
      } else if (entry.deadlineMs < nextDueMs) {
        nextDueMs = entry.deadlineMs;
      }
    }
    if (nextDueMs !== Infinity) this.arm(nextDueMs, nowMs);
    for (const resolve of expired) resolve(this.timeoutResult);
  }
}
