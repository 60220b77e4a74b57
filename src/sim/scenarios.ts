import { eventualScenario } from "./eventual-scenario.js";
import { pingScenario } from "./ping-scenario.js";
import { strongScenario } from "./strong-scenario.js";
import type { Scenario } from "./scenario.js";

/**
 * The scenarios `npm run sim` can run, by name. "eventual" (the default) is the cluster on the
 * eventual path under a seed's faults, checked for no lost acknowledged write, no resurrection
 * and convergence; "strong" is the cluster on the strong path (CASPaxos) under a seed's faults,
 * checked for linearizability and for liveness after healing; "ping" is the engine's own demo
 * workload.
 */
export const scenarios: ReadonlyMap<string, Scenario> = new Map<string, Scenario>([
  ["ping", (seed) => pingScenario(seed)],
  ["eventual", (seed) => eventualScenario(seed)],
  ["strong", (seed) => strongScenario(seed)],
]);

export const defaultScenarioName = "eventual";
