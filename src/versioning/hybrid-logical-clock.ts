import type { Clock } from "../runtime/runtime.js";
import { assert } from "../assert.js";

/**
 * Hybrid logical clock (Kulkarni et al., "Logical Physical Clocks", 2014).
 *
 * A timestamp is one safe integer: `physicalMs * 1024 + logical`. It orders like the pair,
 * survives JSON and MessagePack without BigInt, and stays below 2^53 until the year 2249.
 * When the logical counter would pass 1023 within one millisecond, the physical part is
 * advanced by one instead; the clock then runs at most a millisecond ahead of the wall, which
 * keeps every invariant of HLC (monotonic, bounded distance from physical time).
 *
 * Skew detection: a remote timestamp more than `maxSkewMs` ahead of our wall clock is refused
 * (`receive` returns ok: false) instead of dragging every later timestamp into the future.
 */
export type HlcTimestamp = number;

export const HLC_LOGICAL_BITS = 10;
const LOGICAL_SPAN = 1 << HLC_LOGICAL_BITS;

export function hlcPhysicalMs(ts: HlcTimestamp): number {
  return Math.floor(ts / LOGICAL_SPAN);
}

export function hlcLogical(ts: HlcTimestamp): number {
  return ts % LOGICAL_SPAN;
}

export function hlcFrom(physicalMs: number, logical: number): HlcTimestamp {
  if (!(logical >= 0 && logical < LOGICAL_SPAN)) assert(false, `logical part out of range: ${logical}`);
  return physicalMs * LOGICAL_SPAN + logical;
}

export type HlcReceiveResult = { ok: true; timestamp: HlcTimestamp } | { ok: false; skewMs: number };

export class HybridLogicalClock {
  private last: HlcTimestamp = 0;

  constructor(
    private readonly clock: Clock,
    private readonly maxSkewMs: number,
  ) {}

  /** A timestamp for a local event: greater than every timestamp this clock returned or saw. */
  now(): HlcTimestamp {
    const wall = hlcFrom(Math.floor(this.clock.nowMs()), 0);
    this.last = wall > this.last ? wall : this.last + 1;
    assert(Number.isSafeInteger(this.last), "hybrid logical clock overflowed");
    return this.last;
  }

  /** Merges a timestamp seen on a message; refuses one too far ahead of our wall clock. */
  receive(remote: HlcTimestamp): HlcReceiveResult {
    // A NaN or fractional timestamp would become `last` and make every later now() fail.
    assertTimestamp(remote, "receive");
    const wallMs = Math.floor(this.clock.nowMs());
    const skewMs = hlcPhysicalMs(remote) - wallMs;
    if (skewMs > this.maxSkewMs) return { ok: false, skewMs };
    const wall = hlcFrom(wallMs, 0);
    const top = Math.max(wall, remote, this.last);
    this.last = top === wall && wall > this.last && wall > remote ? wall : top + 1;
    return { ok: true, timestamp: this.last };
  }

  /** The last timestamp issued or seen (0 before any). */
  peek(): HlcTimestamp {
    return this.last;
  }

  /** Restores the floor after a restart so timestamps never go backwards across restarts. */
  advanceTo(floor: HlcTimestamp): void {
    assertTimestamp(floor, "advanceTo");
    if (floor > this.last) this.last = floor;
  }
}

function assertTimestamp(ts: HlcTimestamp, action: string): void {
  if (!(Number.isSafeInteger(ts) && ts >= 0)) assert(false, `${action}: timestamp ${ts} is not a non-negative safe integer`);
}
