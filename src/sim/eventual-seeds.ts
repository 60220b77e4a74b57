import { eventualScenario } from "./eventual-scenario.js";
import { replayCommand } from "./run-seeds.js";

/** Runs the eventual scenario on seeds [from, to) and describes each failure with its replay command. */
export async function eventualSeedFailures(from: number, to: number): Promise<string[]> {
  const failures: string[] = [];
  for (let seed = from; seed < to; seed++) {
    const result = await eventualScenario(seed);
    if (!result.ok) failures.push(`seed ${seed}: ${result.reason} (${result.summary}); replay: ${replayCommand("eventual", seed, false)}`);
  }
  return failures;
}
