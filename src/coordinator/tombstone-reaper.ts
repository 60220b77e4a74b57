import { assert } from "../assert.js";
import type { ReplicaService } from "../replica/replica-service.js";
import type { Network, NodeId } from "../runtime/network.js";
import type { TimerHandle, Timers } from "../runtime/runtime.js";
import type { DottedVersionVectorSet } from "../versioning/dotted-version-vector-set.js";
import type { Sibling } from "../versioning/sibling.js";

/**
 * Tombstone GC (DESIGN.md, "Deletes write tombstones; tombstones are collected only when every
 * replica has them"): once every primary acknowledged a delete durably, the coordinator
 * schedules a reap after `graceMs` (time for read repair and hints in flight to settle); then
 * each primary gets "replica.reap" with the tombstone set and removes the key only if its set
 * is still exactly that one (ReplicaService.reap), so a key written in between survives.
 *
 * A reap that fails on some replica is not retried: the tombstone stays there, which is safe
 * (it reads as not found) and costs only its bytes. Bounded: at most `queuedMax` reaps are
 * waiting or in flight; one scheduled beyond that is dropped (its tombstone stays).
 */
export interface TombstoneReaperOptions {
  self: NodeId;
  timers: Timers;
  network: Network | undefined;
  replicas: Pick<ReplicaService, "reap">;
  graceMs: number;
  requestTimeoutMs: number;
  queuedMax?: number;
}

/**
 * The grace outlasts hinted handoff's longest retry pause (hint-delivery.ts, backoffMaxMs 60 s):
 * a hint for an older version still waiting on a fallback when the reap runs would bring the
 * reaped value back (a known sharp edge: a fallback down for longer than the grace can still
 * do it; anti-entropy does not, since it merges sets and the tombstone is gone everywhere).
 */
export const tombstoneReaperDefaults = Object.freeze({ graceMs: 90_000, queuedMax: 10_000 });

export interface TombstoneReaperStats {
  scheduled: number;
  /** Replicas that removed a key. */
  reaped: number;
  /** Reaps not scheduled because the queue was full. */
  dropped: number;
}

export class TombstoneReaper {
  private readonly waiting = new Map<number, TimerHandle>();
  private readonly queuedMax: number;
  private inFlight = 0;
  private nextId = 0;
  private stopped = false;
  readonly stats: TombstoneReaperStats = { scheduled: 0, reaped: 0, dropped: 0 };

  constructor(private readonly options: TombstoneReaperOptions) {
    this.queuedMax = options.queuedMax ?? tombstoneReaperDefaults.queuedMax;
    assert(Number.isSafeInteger(options.graceMs) && options.graceMs >= 0, `tombstone grace must be a non-negative integer, got ${options.graceMs}`);
  }

  /** Reaps and in-flight reaps not finished yet. */
  get pending(): number {
    return this.waiting.size + this.inFlight;
  }

  /** Schedules the reap of `key` on `primaries`; false when the queue is full (the tombstone stays). */
  schedule(key: Uint8Array, set: DottedVersionVectorSet<Sibling>, primaries: readonly NodeId[]): boolean {
    if (this.stopped || this.pending >= this.queuedMax) {
      this.stats.dropped++;
      return false;
    }
    const id = this.nextId++;
    this.stats.scheduled++;
    const timer = this.options.timers.setTimeout(() => {
      this.waiting.delete(id);
      this.inFlight++;
      void this.reap(key, set, primaries).finally(() => this.inFlight--);
    }, this.options.graceMs);
    this.waiting.set(id, timer);
    return true;
  }

  /** Cancels every waiting reap (their tombstones stay). */
  stop(): void {
    this.stopped = true;
    for (const timer of this.waiting.values()) this.options.timers.clearTimeout(timer);
    this.waiting.clear();
  }

  private async reap(key: Uint8Array, set: DottedVersionVectorSet<Sibling>, primaries: readonly NodeId[]): Promise<void> {
    const results = await Promise.all(primaries.map((node) => this.reapOn(node, key, set)));
    this.stats.reaped += results.filter(Boolean).length;
  }

  private async reapOn(node: NodeId, key: Uint8Array, set: DottedVersionVectorSet<Sibling>): Promise<boolean> {
    try {
      if (node === this.options.self) return await this.options.replicas.reap(key, set);
      if (this.options.network === undefined || this.stopped) return false;
      const result = await this.options.network.request<{ ok?: boolean; reaped?: boolean }>(node, { type: "replica.reap", key, set }, { timeoutMs: this.options.requestTimeoutMs });
      return result.ok && result.reply?.ok === true && result.reply.reaped === true;
    } catch {
      return false; // a storage closed under a reap at shutdown: the tombstone stays
    }
  }
}
