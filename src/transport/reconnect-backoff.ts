import type { Random } from "../runtime/runtime.js";
import { assert } from "../assert.js";

export interface ReconnectBackoffOptions {
  /** Delay after the first failed attempt, before jitter. */
  backoffBaseMs: number;
  /** The delay never grows past this (the bound on how long a recovered peer stays unused). */
  backoffMaxMs: number;
}

/**
 * How long a peer link waits before dialing again after `failures` consecutive failed
 * attempts: exponential in the failure count, capped, with "equal jitter" (half fixed, half
 * random) so that nodes that lost the same peer at once do not redial it in lockstep, while
 * each still waits at least half the nominal delay.
 */
export function reconnectDelayMs(failures: number, options: ReconnectBackoffOptions, random: Random): number {
  assert(Number.isSafeInteger(failures) && failures >= 1, `failures must be a positive integer, got ${failures}`);
  assert(options.backoffBaseMs > 0 && options.backoffBaseMs <= options.backoffMaxMs, "backoffBaseMs must be positive and at most backoffMaxMs");
  // 2^30 is far past any cap; clamping the exponent keeps the arithmetic finite.
  const nominalMs = Math.min(options.backoffMaxMs, options.backoffBaseMs * 2 ** Math.min(failures - 1, 30));
  const halfMs = nominalMs / 2;
  return Math.round(halfMs + random.next() * halfMs);
}
