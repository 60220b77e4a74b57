import type { TimerHandle, Timers } from "../runtime/runtime.js";

/**
 * A bounded piece of background work repeated on the runtime's timers: the expiry sweep and
 * the purge of dropped tables. Each step does a bounded amount of storage work and says
 * whether more is waiting; if so the next step runs after `busyDelayMs` (letting requests in
 * between), otherwise after `idleDelayMs`. At most one step runs at a time; `stop` cancels the
 * next step and waits for the running one, so shutdown never cuts a step in half.
 */
export interface BackgroundTaskOptions {
  timers: Timers;
  /** One bounded step; resolves true when more work is waiting. */
  step: () => Promise<boolean>;
  idleDelayMs: number;
  busyDelayMs: number;
  onError: (error: unknown) => void;
}

export class BackgroundTask {
  private timer: TimerHandle | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;

  constructor(private readonly options: BackgroundTaskOptions) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(this.options.busyDelayMs);
  }

  /** Runs a step soon even if the task was idle (new work arrived). */
  kick(): void {
    if (this.stopped || this.running !== undefined) return;
    this.schedule(this.options.busyDelayMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.options.timers.clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Resolves when the current step (if any) has finished; for tests and shutdown. */
  async idle(): Promise<void> {
    await this.running;
  }

  private schedule(delayMs: number): void {
    if (this.timer !== undefined) this.options.timers.clearTimeout(this.timer);
    this.timer = this.options.timers.setTimeout(() => this.fire(), delayMs);
  }

  private fire(): void {
    this.timer = undefined;
    if (this.stopped || this.running !== undefined) return;
    this.running = this.runStep();
  }

  private async runStep(): Promise<void> {
    let more = false;
    try {
      more = await this.options.step();
    } catch (error) {
      this.options.onError(error);
    } finally {
      this.running = undefined;
    }
    if (!this.stopped) this.schedule(more ? this.options.busyDelayMs : this.options.idleDelayMs);
  }
}
