import { eventualScenario } from "./eventual-scenario.js";
import { pingScenario } from "./ping-scenario.js";
import type { Scenario } from "./scenario.js";

/**
 * The scenarios `npm run sim` can run, by name. The cluster scenario (coordinators and
 * replicas under faults, with the no-lost-writes and convergence checkers) joins here and
 * becomes the default once it exists; "ping" is the engine's own demo workload.
 */
export const scenarios: ReadonlyMap<string, Scenario> = new Map<string, Scenario>([
  ["ping", (seed) => pingScenario(seed)],
  ["eventual", (seed) => eventualScenario(seed)],
]);

export const defaultScenarioName = "ping";
