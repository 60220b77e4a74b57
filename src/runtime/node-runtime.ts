import { randomBytes } from "node:crypto";
import type { Clock, Random, Runtime, TimerHandle, Timers } from "./runtime.js";
import type { StorageEngine } from "../storage/storage-engine.js";
import type { Network } from "./network.js";
import { SeededRandom } from "./seeded-random.js";
import { HybridLogicalClock } from "../versioning/hybrid-logical-clock.js";

/** The real world: wall clock, Node timers, a PRNG seeded from the OS. */
export class SystemClock implements Clock {
  /** Fault injection: a fixed offset added to every reading (`--clock-offset-ms`). */
  constructor(private readonly offsetMs = 0) {}
  nowMs(): number {
    return Date.now() + this.offsetMs;
  }
}

export class NodeTimers implements Timers {
  private nextId = 1;
  private readonly live = new Map<number, NodeJS.Timeout>();

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const id = this.nextId++;
    const timer = setTimeout(() => {
      this.live.delete(id);
      callback();
    }, delayMs);
    timer.unref();
    this.live.set(id, timer);
    return { id };
  }

  clearTimeout(handle: TimerHandle): void {
    const timer = this.live.get(handle.id);
    if (timer !== undefined) {
      clearTimeout(timer);
      this.live.delete(handle.id);
    }
  }

  /** Cancels every pending timer (shutdown). */
  clearAll(): void {
    for (const timer of this.live.values()) clearTimeout(timer);
    this.live.clear();
  }
}

export interface NodeRuntimeOptions {
  nodeId: string;
  storage: StorageEngine;
  network?: Network;
  clockOffsetMs?: number;
  clockSkewMaxMs: number;
  seed?: number;
}

export function createNodeRuntime(options: NodeRuntimeOptions): Runtime & { timers: NodeTimers } {
  const clock = new SystemClock(options.clockOffsetMs ?? 0);
  const seed = options.seed ?? randomBytes(6).readUIntBE(0, 6);
  const random: Random = new SeededRandom(seed);
  return {
    nodeId: options.nodeId,
    clock,
    hlc: new HybridLogicalClock(clock, options.clockSkewMaxMs),
    timers: new NodeTimers(),
    random,
    storage: options.storage,
    ...(options.network ? { network: options.network } : {}),
  };
}
