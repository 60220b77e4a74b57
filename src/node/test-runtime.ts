import type { Runtime } from "../runtime/runtime.js";
import { NodeTimers } from "../runtime/node-runtime.js";
import { SeededRandom } from "../runtime/seeded-random.js";
import type { StorageEngine } from "../storage/storage-engine.js";
import { HybridLogicalClock } from "../versioning/hybrid-logical-clock.js";
import { ManualClock } from "./manual-clock.js";

/**
 * A runtime for tests: a ManualClock (moved by the test, so expiry needs no sleeping), real
 * timers (background steps still run), a fixed seed.
 */
export function createTestRuntime(options: { storage: StorageEngine; nodeId?: string; nowMs?: number }): Runtime & { clock: ManualClock; timers: NodeTimers } {
  const clock = new ManualClock(options.nowMs ?? Date.UTC(2026, 0, 1));
  return {
    nodeId: options.nodeId ?? "n1",
    clock,
    hlc: new HybridLogicalClock(clock, 60_000),
    timers: new NodeTimers(),
    random: new SeededRandom(42),
    storage: options.storage,
  };
}
