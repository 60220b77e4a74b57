import { assert } from "../assert.js";
import { ShoalError } from "../errors.js";
import { EventHeap } from "./event-heap.js";
import { acquireReactionCounter, drainMicrotasks, type DrainMode } from "./microtask-drain.js";
import { Trace } from "./trace.js";

/**
 * Virtual time and the one event queue of a simulation (FoundationDB's sim2 `now()`/`delay()`).
 * Events are ordered by (time, sequence): the sequence number breaks ties in scheduling order,
 * so the order of a run depends only on what the simulated code did, never on the host.
 * After each event the scheduler drains the microtasks it caused (microtask-drain.ts) before
 * taking the next, so async/await code in the simulated nodes sees consistent virtual time.
 *
 * Every dispatched event appends "time label" to the trace, the run's fingerprint.
 */
export interface EventHandle {
  readonly id: number;
}

export interface SchedulerOptions {
  /** Events waiting in the queue at once; beyond it `at` throws (a runaway timer loop). */
  eventsQueuedMax?: number;
  /** How microtasks are drained between events (see microtask-drain.ts). */
  drain?: DrainMode;
  /** Yields one event's microtasks may take to settle before the run fails. */
  drainYieldsMax?: number;
  trace?: Trace;
}

export type RunTarget = number | (() => boolean);

export interface RunOptions {
  /** Events this call may dispatch before it throws SimStepsExceeded. */
  stepsMax?: number;
  /** For a predicate target: stop (reason "deadline") when virtual time would pass this. */
  deadlineMs?: number;
}

export interface RunResult {
  /** "time": reached the target time; "predicate": it held; "idle": no event left; "deadline". */
  reason: "time" | "predicate" | "idle" | "deadline";
  steps: number;
  nowMs: number;
}

export const schedulerDefaults = {
  eventsQueuedMax: 1_000_000,
  drainYieldsMax: 100_000,
  stepsMax: 5_000_000,
} as const;

class ScheduledEvent implements EventHandle {
  cancelled = false;
  constructor(
    readonly timeMs: number,
    readonly seq: number,
    readonly fn: () => void,
    readonly label: string,
  ) {}
  get id(): number {
    return this.seq;
  }
}

export class Scheduler {
  readonly trace: Trace;
  private nowMsValue = 0;
  private seq = 0;
  private cancelledQueued = 0;
  private running = false;
  private dispatched = 0;
  private readonly heap = new EventHeap<ScheduledEvent>();
  private readonly eventsQueuedMax: number;
  private readonly drainMode: DrainMode;
  private readonly drainYieldsMax: number;

  constructor(options: SchedulerOptions = {}) {
    this.trace = options.trace ?? new Trace();
    this.eventsQueuedMax = options.eventsQueuedMax ?? schedulerDefaults.eventsQueuedMax;
    this.drainMode = options.drain ?? "auto";
    this.drainYieldsMax = options.drainYieldsMax ?? schedulerDefaults.drainYieldsMax;
  }

  /** Virtual milliseconds since the start of the run. */
  now(): number {
    return this.nowMsValue;
  }

  /** Live events waiting in the queue. */
  get pending(): number {
    return this.heap.size - this.cancelledQueued;
  }

  /** Whether a runUntil is in progress (the caller is inside an event or its microtasks). */
  get isRunning(): boolean {
    return this.running;
  }

  /** Events dispatched since the start of the run. */
  get steps(): number {
    return this.dispatched;
  }

  /** Runs `fn` at virtual time `timeMs` (not in the past). `label` goes into the trace. */
  at(timeMs: number, fn: () => void, label = "event"): EventHandle {
    // Hot path: build assertion messages only on failure.
    if (!(timeMs >= this.nowMsValue && timeMs < Infinity)) {
      assert(false, `cannot schedule "${label}" at ${timeMs} ms: it is already ${this.nowMsValue} ms`);
    }
    if (this.heap.size >= this.eventsQueuedMax) this.compact();
    if (this.heap.size >= this.eventsQueuedMax) {
      throw new ShoalError(
        "SimQueueFull",
        500,
        `cannot schedule "${label}": ${this.heap.size} events are queued, the limit is ${this.eventsQueuedMax} (a runaway timer or message loop?)`,
      );
    }
    const event = new ScheduledEvent(timeMs, this.seq++, fn, label);
    this.heap.push(event);
    return event;
  }

  /** Runs `fn` after `delayMs` of virtual time. */
  after(delayMs: number, fn: () => void, label = "event"): EventHandle {
    if (!(delayMs >= 0)) assert(false, `cannot schedule "${label}" after a negative delay ${delayMs} ms`);
    return this.at(this.nowMsValue + delayMs, fn, label);
  }

  /** Cancels a pending event; returns false if it already ran or was cancelled. */
  cancel(handle: EventHandle): boolean {
    assert(handle instanceof ScheduledEvent, "cancel() takes a handle returned by this scheduler");
    if (handle.cancelled) return false;
    handle.cancelled = true;
    this.cancelledQueued++;
    if (this.cancelledQueued > 1024 && this.cancelledQueued * 2 > this.heap.size) this.compact();
    return true;
  }

  /**
   * Dispatches events in order until virtual time reaches `target` (a time in ms), or until
   * `target()` holds (checked before each event, after the previous one's microtasks), or the
   * queue is empty. Throws SimStepsExceeded after `stepsMax` events: a bounded run.
   */
  async runUntil(target: RunTarget, options: RunOptions = {}): Promise<RunResult> {
    assert(!this.running, "runUntil() is already running on this scheduler");
    const stepsMax = options.stepsMax ?? schedulerDefaults.stepsMax;
    const release = this.drainMode !== "macrotask" ? acquireReactionCounter() : () => undefined;
    this.running = true;
    try {
      await drainMicrotasks(this.drainMode, this.drainYieldsMax);
      return await this.runLoop(target, stepsMax, options.deadlineMs);
    } finally {
      this.running = false;
      release();
    }
  }

  /** Runs until the queue is empty (bounded by stepsMax). */
  runToIdle(options: RunOptions = {}): Promise<RunResult> {
    return this.runUntil(() => false, options);
  }

  private async runLoop(target: RunTarget, stepsMax: number, deadlineMs: number | undefined): Promise<RunResult> {
    const untilMs = typeof target === "number" ? target : Infinity;
    const stopMs = Math.min(untilMs, deadlineMs ?? Infinity);
    assert(stopMs >= this.nowMsValue, `cannot run until ${stopMs} ms: it is already ${this.nowMsValue} ms`);
    let steps = 0;
    for (;;) {
      if (typeof target === "function" && target()) return this.result("predicate", steps);
      const event = this.nextLive();
      if (event === undefined || event.timeMs > stopMs) {
        if (stopMs === Infinity) return this.result("idle", steps);
        this.nowMsValue = stopMs;
        return this.result(stopMs === untilMs ? "time" : "deadline", steps);
      }
      if (steps >= stepsMax) {
        throw new ShoalError(
          "SimStepsExceeded",
          500,
          `simulation ran ${steps} events (stepsMax ${stepsMax}) without reaching its target; virtual time is ${this.nowMsValue} ms, ${this.pending} events queued, next "${event.label}"`,
        );
      }
      this.heap.pop();
      this.nowMsValue = event.timeMs;
      event.cancelled = true;
      steps++;
      this.dispatched++;
      this.trace.addEvent(event.timeMs, event.label);
      event.fn();
      await drainMicrotasks(this.drainMode, this.drainYieldsMax);
    }
  }

  /** Drops cancelled events from the top of the heap and returns the next live one. */
  private nextLive(): ScheduledEvent | undefined {
    for (;;) {
      const top = this.heap.peek();
      if (top === undefined || !top.cancelled) return top;
      this.heap.pop();
      this.cancelledQueued--;
    }
  }

  private compact(): void {
    this.heap.removeWhere((e) => e.cancelled);
    this.cancelledQueued = 0;
  }

  private result(reason: RunResult["reason"], steps: number): RunResult {
    return { reason, steps, nowMs: this.nowMsValue };
  }
}
