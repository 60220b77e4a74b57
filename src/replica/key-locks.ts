import { assert } from "../assert.js";

/**
 * Per-key mutual exclusion for check-then-write (If-Match, If-None-Match, batches): the read,
 * the decision and the storage write of one key happen while no other write of that key runs.
 * Writes of different keys never wait for each other, so they still share one group commit.
 *
 * Bounded: at most `keysMax` keys held and `waitersPerKeyMax` waiters on one key; past either,
 * `acquire` refuses (the caller answers "overloaded") instead of queueing without end.
 * Several keys are always taken in sorted order, so two batches cannot deadlock.
 */
export interface KeyLocksOptions {
  keysMax: number;
  waitersPerKeyMax: number;
}

export const defaultKeyLocksOptions: Readonly<KeyLocksOptions> = Object.freeze({ keysMax: 1 << 20, waitersPerKeyMax: 4096 });

export class KeyLocks {
  /** Held keys, each with the queue of waiters to hand it to, in arrival order. */
  private readonly held = new Map<string, Array<() => void>>();

  constructor(private readonly options: KeyLocksOptions = defaultKeyLocksOptions) {}

  get heldCount(): number {
    return this.held.size;
  }

  /** Takes one free key at once (no promise, no microtask); false when held or at the bound. */
  tryAcquireOne(key: string): boolean {
    if (this.held.has(key) || this.held.size >= this.options.keysMax) return false;
    this.held.set(key, []);
    return true;
  }

  /**
   * Takes every key (sorted, deduplicated by the caller or here). Resolves true once all are
   * held, false (holding none) when a bound refused it.
   */
  async acquire(keys: readonly string[]): Promise<boolean> {
    const sorted = keys.length === 1 ? keys : [...new Set(keys)].sort();
    for (let i = 0; i < sorted.length; i++) {
      const key = sorted[i]!;
      const waiters = this.held.get(key);
      if (waiters === undefined) {
        if (this.held.size >= this.options.keysMax) {
          this.release(sorted.slice(0, i));
          return false;
        }
        this.held.set(key, []);
        continue;
      }
      if (waiters.length >= this.options.waitersPerKeyMax) {
        this.release(sorted.slice(0, i));
        return false;
      }
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
    return true;
  }

  /** Releases keys taken by `acquire`, handing each to its next waiter if any. */
  release(keys: readonly string[]): void {
    const unique = keys.length === 1 ? keys : new Set(keys);
    for (const key of unique) {
      const waiters = this.held.get(key);
      assert(waiters !== undefined, "released a key lock that was not held");
      const next = waiters.shift();
      if (next === undefined) this.held.delete(key);
      else next();
    }
  }
}
