import { replayCommand } from "./run-seeds.js";
import { strongScenario, type StrongScenarioOptions } from "./strong-scenario.js";

/** Runs the strong scenario on seeds [from, to) and describes each failure with its replay command. */
export async function strongSeedFailures(from: number, to: number, options: StrongScenarioOptions = {}): Promise<string[]> {
  const failures: string[] = [];
  for (let seed = from; seed < to; seed++) {
    const result = await strongScenario(seed, options);
    if (!result.ok) failures.push(`seed ${seed}: ${result.reason}\n(${result.summary}); replay: ${replayCommand("strong", seed, false)}`);
  }
  return failures;
}
