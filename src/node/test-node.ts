import { pino } from "pino";
import { defaultLimits, type Limits } from "../limits.js";
import { MemoryStorageEngine } from "../storage/memory-storage-engine.js";
import type { StorageEngine } from "../storage/storage-engine.js";
import { nodeConfigDefaults, type NodeConfig } from "./node-config.js";
import { ShoalNode } from "./shoal-node.js";
import { createTestRuntime } from "./test-runtime.js";
import type { ManualClock } from "./manual-clock.js";

/**
 * A ShoalNode for tests: port 0 on loopback, memory storage unless given, a manual clock (move
 * it instead of sleeping), silent logs. `close()` stops the node but leaves storage open, so a
 * test can start another node over the same storage (a restart).
 */
export interface TestNode {
  node: ShoalNode;
  url: string;
  clock: ManualClock;
  storage: StorageEngine;
  close(): Promise<void>;
}

export async function startTestNode(
  options: { storage?: StorageEngine; limits?: Partial<Limits>; config?: Partial<NodeConfig>; nowMs?: number; tombstoneGraceMs?: number; antiEntropyIntervalMs?: number } = {},
): Promise<TestNode> {
  const storage = options.storage ?? new MemoryStorageEngine();
  const config: NodeConfig = {
    ...nodeConfigDefaults,
    port: 0,
    peerPort: 0,
    nodeId: "n1",
    dataDir: "",
    shutdownGraceMs: 2000,
    ...options.config,
    limits: { ...defaultLimits, ...options.limits },
  };
  const runtime = createTestRuntime({ storage, nodeId: config.nodeId, ...(options.nowMs !== undefined ? { nowMs: options.nowMs } : {}) });
  const node = await ShoalNode.start(config, {
    storage,
    logger: pino({ level: "silent" }),
    runtime,
    ...(options.tombstoneGraceMs !== undefined ? { tombstoneGraceMs: options.tombstoneGraceMs } : {}),
    ...(options.antiEntropyIntervalMs !== undefined ? { antiEntropyIntervalMs: options.antiEntropyIntervalMs } : {}),
  });
  return { node, url: node.url, clock: runtime.clock, storage, close: () => node.close() };
}
