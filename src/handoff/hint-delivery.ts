import { assert, AssertionError } from "../assert.js";
import type { NodeId } from "../runtime/network.js";
import type { Random, TimerHandle, Timers } from "../runtime/runtime.js";
import type { HintCursor, HintStore, ListedHint } from "./hint-store.js";

/**
 * Hands hints back to their owners (Dynamo paper, section 4.6: "once such hinted replica
 * detects that [the owner] has recovered, it will attempt to deliver the replica"). A loop on
 * the runtime's timers; every `intervalMs` it looks at each target with hints and, if the
 * target is up (`isUp`, from membership) and not backing off, sends one batch with `deliver`
 * (the network message lives in the shell) and, once the owner acknowledged, removes the
 * hints that did not change meanwhile (HintStore.remove compares before it deletes; a changed
 * hint is sent again later).
 *
 * Bounds: a batch holds at most `batchHintsMax` hints and `batchBytesMax` stored bytes (a
 * single larger hint still goes alone); at most `targetsInFlightMax` batches are in flight,
 * one per target; hints leave at most at `hintsPerSecondMax` on average (a token bucket filled
 * each tick, holding at most one second's worth), so a node returning to a cluster that kept
 * many hints for it is not flooded. A failed or timed-out batch backs its target off
 * exponentially (`backoffBaseMs` doubling up to `backoffMaxMs`) with equal jitter from the
 * runtime's seeded random, so fallbacks do not retry in lockstep; a success resets it.
 *
 * `deliver` must be idempotent (the owner syncs the set into its own: a duplicate delivery
 * changes nothing). A batch that times out may still arrive; it is then sent again, harmlessly.
 */
export type HintDeliveryResult = { ok: true } | { ok: false };

export interface HintDeliveryOptions<T> {
  store: Pick<HintStore<T>, "listForTarget" | "remove" | "countByTarget">;
  timers: Timers;
  random: Random;
  /** Whether membership believes `node` is up (a down target is skipped, not backed off). */
  isUp: (node: NodeId) => boolean;
  /** Sends hints to their owner; resolves ok once the owner stored them. */
  deliver: (target: NodeId, hints: readonly ListedHint<T>[]) => Promise<HintDeliveryResult>;
  intervalMs?: number;
  batchHintsMax?: number;
  batchBytesMax?: number;
  hintsPerSecondMax?: number;
  targetsInFlightMax?: number;
  /** A batch not acknowledged within this counts as failed. */
  deliverTimeoutMs?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
}

export const hintDeliveryDefaults = Object.freeze({
  intervalMs: 100,
  batchHintsMax: 100,
  batchBytesMax: 4 * 1024 * 1024,
  hintsPerSecondMax: 1000,
  targetsInFlightMax: 4,
  deliverTimeoutMs: 30_000,
  backoffBaseMs: 200,
  backoffMaxMs: 60_000,
});

type Settings = { -readonly [K in keyof typeof hintDeliveryDefaults]: number };

/** Doublings before the backoff delay is certainly capped (keeps 2^k finite and exact). */
const BACKOFF_DOUBLINGS_MAX = 30;

export class HintDelivery<T> {
  private readonly settings: Settings;
  private readonly inFlight = new Map<NodeId, Promise<void>>();
  private readonly failures = new Map<NodeId, number>();
  private readonly backingOff = new Map<NodeId, TimerHandle>();
  private readonly cursors = new Map<NodeId, HintCursor>();
  private tick: TimerHandle | undefined;
  private running = false;
  private tokens = 0;
  private deliveredCount = 0;
  private failedBatches = 0;

  constructor(private readonly options: HintDeliveryOptions<T>) {
    const settings: Settings = { ...hintDeliveryDefaults };
    for (const name of Object.keys(settings) as (keyof Settings)[]) {
      const value = options[name] ?? settings[name];
      assert(Number.isSafeInteger(value) && value > 0, `hint delivery: ${name} must be a positive integer, got ${value}`);
      settings[name] = value;
    }
    assert(settings.backoffBaseMs <= settings.backoffMaxMs, "hint delivery: backoffBaseMs must not exceed backoffMaxMs");
    this.settings = settings;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule();
  }

  /** Stops sending; resolves once batches in flight settled. Clears every timer it holds. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.tick !== undefined) this.options.timers.clearTimeout(this.tick);
    this.tick = undefined;
    for (const handle of this.backingOff.values()) this.options.timers.clearTimeout(handle);
    this.backingOff.clear();
    await Promise.all(this.inFlight.values());
  }

  /** Hints handed back and removed, and batches that failed, since construction. */
  stats(): { delivered: number; failedBatches: number; inFlight: number; backingOff: number } {
    return { delivered: this.deliveredCount, failedBatches: this.failedBatches, inFlight: this.inFlight.size, backingOff: this.backingOff.size };
  }

  private schedule(): void {
    this.tick = this.options.timers.setTimeout(() => this.onTick(), this.settings.intervalMs);
  }

  private onTick(): void {
    this.tick = undefined;
    if (!this.running) return;
    const { hintsPerSecondMax, intervalMs } = this.settings;
    this.tokens = Math.min(hintsPerSecondMax, this.tokens + (hintsPerSecondMax * intervalMs) / 1000);
    const targets = this.options.store.countByTarget();
    this.forgetDrainedTargets(targets);
    for (const target of [...targets.keys()]) {
      if (this.inFlight.size >= this.settings.targetsInFlightMax || this.tokens < 1) break;
      if (this.inFlight.has(target) || this.backingOff.has(target) || !this.options.isUp(target)) continue;
      this.startBatch(target);
    }
    this.schedule();
  }

  /** Failure counts and cursors of targets with no hints left (bounds both maps by the store's targets). */
  private forgetDrainedTargets(targets: ReadonlyMap<NodeId, number>): void {
    for (const target of this.failures.keys()) {
      if (!targets.has(target) && !this.backingOff.has(target) && !this.inFlight.has(target)) this.failures.delete(target);
    }
    for (const target of this.cursors.keys()) if (!targets.has(target)) this.cursors.delete(target);
  }

  private startBatch(target: NodeId): void {
    const after = this.cursors.get(target);
    const limit = Math.min(this.settings.batchHintsMax, Math.floor(this.tokens));
    const { hints, resumeAfter } = this.options.store.listForTarget(target, {
      limit,
      bytesMax: this.settings.batchBytesMax,
      ...(after !== undefined ? { after } : {}),
    });
    // Past the end: start over from the target's first hint on the next tick.
    if (resumeAfter === null) this.cursors.delete(target);
    else this.cursors.set(target, resumeAfter);
    if (hints.length === 0) return;
    this.tokens -= hints.length;
    const sending = this.send(target, hints, after).finally(() => this.inFlight.delete(target));
    this.inFlight.set(target, sending);
  }

  private async send(target: NodeId, hints: readonly ListedHint<T>[], after: HintCursor | undefined): Promise<void> {
    let result: HintDeliveryResult;
    try {
      result = await this.deliverWithDeadline(target, hints);
    } catch (error) {
      if (error instanceof AssertionError) throw error;
      result = { ok: false };
    }
    if (!result.ok) {
      // Resend this batch first when the target is tried again.
      if (after === undefined) this.cursors.delete(target);
      else this.cursors.set(target, after);
      this.backOff(target);
      return;
    }
    this.failures.delete(target);
    this.deliveredCount += await this.options.store.remove(hints);
  }

  private deliverWithDeadline(target: NodeId, hints: readonly ListedHint<T>[]): Promise<HintDeliveryResult> {
    const { timers } = this.options;
    return new Promise<HintDeliveryResult>((resolve, reject) => {
      const deadline = timers.setTimeout(() => resolve({ ok: false }), this.settings.deliverTimeoutMs);
      this.options.deliver(target, hints).then(
        (result) => {
          timers.clearTimeout(deadline);
          resolve(result);
        },
        (error: unknown) => {
          timers.clearTimeout(deadline);
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
  }

  private backOff(target: NodeId): void {
    this.failedBatches++;
    const failures = Math.min((this.failures.get(target) ?? 0) + 1, BACKOFF_DOUBLINGS_MAX);
    this.failures.set(target, failures);
    const { backoffBaseMs, backoffMaxMs } = this.settings;
    const ceilingMs = Math.min(backoffMaxMs, backoffBaseMs * 2 ** (failures - 1));
    // Equal jitter: half the delay fixed, half random, so retries spread but still grow.
    const delayMs = ceilingMs / 2 + this.options.random.next() * (ceilingMs / 2);
    if (!this.running) return;
    const handle = this.options.timers.setTimeout(() => this.backingOff.delete(target), delayMs);
    this.backingOff.set(target, handle);
  }
}
