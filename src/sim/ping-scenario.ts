import type { FaultKind } from "./fault-plan.js";
import { planFaults } from "./fault-plan.js";
import { FaultSchedule } from "./fault-schedule.js";
import { PingNode } from "./ping-node.js";
import type { DrainMode } from "./microtask-drain.js";
import type { ScenarioResult } from "./scenario.js";
import { Simulation } from "./simulation.js";

/**
 * The simulator's demo scenario (a stand-in until the cluster workload lands): three to five
 * PingNodes under a seed's swarm of faults for a safety phase, then healed; the liveness phase
 * requires every node up and acknowledged by a peer again, and no error from simulated code.
 */
export interface PingScenarioOptions {
  safetyPhaseMs?: number;
  livenessPhaseMs?: number;
  kinds?: readonly FaultKind[];
  /** How the scheduler drains microtasks (microtask-drain.ts); every mode gives one trace. */
  drain?: DrainMode;
  /** Called with the simulation before it runs (tests use it to look inside). */
  inspect?: (sim: Simulation) => void;
}

export async function pingScenario(seed: number, options: PingScenarioOptions = {}): Promise<ScenarioResult> {
  const sim = new Simulation({ seed, ...(options.drain ? { scheduler: { drain: options.drain } } : {}) });
  options.inspect?.(sim);
  const sizeRandom = sim.fork("cluster size");
  const nodeIds = Array.from({ length: 3 + sizeRandom.int(3) }, (_, i) => `n${i + 1}`);
  const nodeOptions = { peers: nodeIds, pingIntervalMs: 50, requestTimeoutMs: 200, durableEvery: 4 };
  for (const id of nodeIds) sim.addNode(id, (runtime) => PingNode.open(runtime, nodeOptions));
  await sim.bootAll();
  const safetyPhaseMs = options.safetyPhaseMs ?? 10_000;
  const plan = planFaults(seed, { nodeIds, safetyPhaseMs, ...(options.kinds ? { kinds: options.kinds } : {}) });
  const faults = FaultSchedule.start(plan, sim);
  await sim.runUntil(sim.now() + safetyPhaseMs);
  await faults.heal();
  const acknowledgedAtHeal = new Map(nodeIds.map((id) => [id, sim.node<PingNode>(id).instance?.acknowledgedSinceStart ?? 0]));
  const livenessEndMs = sim.now() + (options.livenessPhaseMs ?? 2_000);
  await sim.runUntil(livenessEndMs);
  const stalled = nodeIds.filter((id) => {
    const node = sim.node<PingNode>(id).instance;
    return node === undefined || node.acknowledgedSinceStart <= (acknowledgedAtHeal.get(id) ?? 0);
  });
  const summary = `${nodeIds.length} nodes, faults [${plan.enabled.join(", ")}], ${plan.events.length} fault events, ${sim.scheduler.steps} events`;
  if (sim.errors.length > 0) return { ok: false, reason: `simulated code failed: ${sim.errors[0]}`, traceHash: sim.traceHash(), summary };
  if (stalled.length > 0) return { ok: false, reason: `no pong after healing for ${stalled.join(", ")}`, traceHash: sim.traceHash(), summary };
  return { ok: true, traceHash: sim.traceHash(), summary };
}
