import type { StorageEngine } from "../storage/storage-engine.js";
import type { Network } from "./network.js";
import type { HybridLogicalClock } from "../versioning/hybrid-logical-clock.js";

/**
 * The seam between Shoal's deterministic core and the world (DESIGN.md, "The runtime seam").
 * Every source of nondeterminism reaches core code through one of these members; the node
 * runtime wires real ones, the simulator wires virtual ones, and both construct the same
 * classes. Core folders may not touch Date, Math.random, timers, sockets or files directly
 * (eslint.config.js enforces it).
 */
export interface Runtime {
  readonly nodeId: string;
  readonly clock: Clock;
  readonly hlc: HybridLogicalClock;
  readonly timers: Timers;
  readonly random: Random;
  readonly storage: StorageEngine;
  /** Absent on a node that has no peers yet (the single-node foundation). */
  readonly network?: Network;
}

/** Wall-clock time in milliseconds since the Unix epoch; may jump (the simulator drifts it). */
export interface Clock {
  nowMs(): number;
}

export interface TimerHandle {
  readonly id: number;
}

export interface Timers {
  /** Runs `callback` once after `delayMs` of (possibly virtual) time. */
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** A seeded source of randomness. Never Math.random in core code. */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, maxExclusive). */
  int(maxExclusive: number): number;
  /** `length` random bytes. */
  bytes(length: number): Uint8Array;
}
