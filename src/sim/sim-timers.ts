import { assert } from "../assert.js";
import type { TimerHandle, Timers } from "../runtime/runtime.js";
import type { EventHandle, Scheduler } from "./scheduler.js";

/**
 * A simulated node's timers on the shared scheduler. Delays are measured on the node's own
 * clock rate (a fast clock fires its timers early in virtual time), like a real node whose
 * timers follow its drifting oscillator. `clearAll` is what a crash does to a process's
 * timers; after `close` the object ignores new timers, so code of a crashed incarnation that
 * is still finishing a microtask cannot wake itself up again.
 */
export interface SimTimersOptions {
  /** Names the node in the trace. */
  nodeId: string;
  /** The node clock's rate relative to virtual time (SimClock.rate); 1 by default. */
  rate?: () => number;
  /** Live timers this node may hold; beyond it setTimeout throws (a timer leak). */
  timersMax?: number;
}

export const simTimersMaxDefault = 100_000;

export class SimTimers implements Timers {
  private readonly live = new Map<number, EventHandle>();
  private nextId = 1;
  private closed = false;
  private readonly label: string;
  private readonly timersMax: number;

  constructor(
    private readonly scheduler: Scheduler,
    private readonly options: SimTimersOptions,
  ) {
    this.label = `timer ${options.nodeId}`;
    this.timersMax = options.timersMax ?? simTimersMaxDefault;
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    if (!Number.isFinite(delayMs)) assert(false, `timer delay must be finite, got ${delayMs}`);
    const id = this.nextId++;
    if (this.closed) return { id };
    if (this.live.size >= this.timersMax) assert(false, `node ${this.options.nodeId} holds ${this.live.size} timers, the limit is ${this.timersMax}`);
    const rate = this.options.rate?.() ?? 1;
    const event = this.scheduler.after(Math.max(0, delayMs) / rate, () => {
      this.live.delete(id);
      callback();
    }, this.label);
    this.live.set(id, event);
    return { id };
  }

  clearTimeout(handle: TimerHandle): void {
    const event = this.live.get(handle.id);
    if (event === undefined) return;
    this.scheduler.cancel(event);
    this.live.delete(handle.id);
  }

  /** Live timers of this node. */
  get size(): number {
    return this.live.size;
  }

  /** Cancels every pending timer and refuses new ones (the process died). */
  close(): void {
    this.closed = true;
    for (const event of this.live.values()) this.scheduler.cancel(event);
    this.live.clear();
  }
}
