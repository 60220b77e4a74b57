import type { Runtime } from "../runtime/runtime.js";
import type { StorageEngine } from "../storage/storage-engine.js";
import { HybridLogicalClock } from "../versioning/hybrid-logical-clock.js";
import { defaultLimits } from "../limits.js";
import { forkRandom } from "./fork-random.js";
import type { Scheduler } from "./scheduler.js";
import type { SimClock } from "./sim-clock.js";
import type { SimEndpoint } from "./sim-endpoint.js";
import type { SimNetwork } from "./sim-network.js";
import { SimStorage, type SimStorageOptions } from "./sim-storage.js";
import { SimTimers } from "./sim-timers.js";
import { SeededRandom } from "../runtime/seeded-random.js";

/**
 * The Runtime one incarnation of a simulated node runs on (DESIGN.md, "The runtime seam"):
 * the machine's drifting clock and an HLC over it, timers on the scheduler, a random stream
 * of its own, its network endpoint, and its view of the machine's disk. Product code receives
 * it exactly as it would receive the node runtime. `kill` is the process dying.
 */
export interface SimRuntime extends Runtime {
  readonly clock: SimClock;
  readonly timers: SimTimers;
  readonly random: SeededRandom;
  readonly network: SimEndpoint;
  readonly storage: SimStorage;
  readonly incarnation: number;
}

export interface SimRuntimeOptions {
  nodeId: string;
  incarnation: number;
  /** The run seed: the incarnation's random stream is forked from it. */
  seed: number;
  scheduler: Scheduler;
  network: SimNetwork;
  clock: SimClock;
  /** The machine's disk; outlives incarnations. */
  engine: StorageEngine;
  clockSkewMaxMs?: number;
  storage?: Omit<SimStorageOptions, "random" | "nodeId">;
}

export function createSimRuntime(options: SimRuntimeOptions): SimRuntime {
  const { nodeId, incarnation, seed, scheduler, clock } = options;
  const name = `node ${nodeId} #${incarnation}`;
  return {
    nodeId,
    incarnation,
    clock,
    hlc: new HybridLogicalClock(clock, options.clockSkewMaxMs ?? defaultLimits.clockSkewMaxMs),
    timers: new SimTimers(scheduler, { nodeId, rate: () => clock.rate }),
    random: forkRandom(seed, name),
    network: options.network.attach(nodeId),
    storage: new SimStorage(options.engine, scheduler, { ...options.storage, random: forkRandom(seed, `${name} disk`), nodeId }),
  };
}

/**
 * The process behind `runtime` dies: its timers are gone, its endpoint is down (messages to
 * it are dropped, its waiting requests never resolve), and its disk view is fenced. The
 * caller then crashes the engine itself, losing what was not durable.
 */
export function killSimRuntime(runtime: SimRuntime): void {
  runtime.timers.close();
  runtime.network.kill();
  runtime.storage.fence();
}
