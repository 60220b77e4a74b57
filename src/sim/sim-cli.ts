import { randomInt } from "node:crypto";
import { parseArgs } from "node:util";
import { defaultScenarioName, scenarios } from "./scenarios.js";
import { loadRegressionSeeds, runSeeds } from "./run-seeds.js";

/**
 * `npm run sim -- [--scenario NAME] (--seeds N [--from S] | --seed S) [--fail-fast]`
 *
 *   npm run sim -- --seeds 1000          1000 seeds from a random start (printed)
 *   npm run sim -- --seeds 200 --from 0  seeds 0..199
 *   npm run sim -- --seed 1234           replay one seed
 *
 * The regression seeds of the scenario (src/sim/regression-seeds.json) always run first.
 * Exits 1 if any seed failed, printing each failure and the command that replays it.
 */
/** Random start seeds are drawn below this (crypto.randomInt's range is under 2^48). */
const seedsSpanMax = 2 ** 47;

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      scenario: { type: "string", default: defaultScenarioName },
      seeds: { type: "string" },
      seed: { type: "string" },
      from: { type: "string" },
      "fail-fast": { type: "boolean", default: false },
    },
  });
  const scenarioName = values.scenario;
  const scenario = scenarios.get(scenarioName);
  if (scenario === undefined) return usage(`unknown scenario "${scenarioName}"; known: ${[...scenarios.keys()].join(", ")}`);
  const seeds = chooseSeeds(values);
  if (typeof seeds === "string") return usage(seeds);
  const started = performance.now();
  const report = await runSeeds({
    scenarioName,
    scenario,
    seeds,
    regressions: loadRegressionSeeds(),
    isDefaultScenario: scenarioName === defaultScenarioName,
    failFast: values["fail-fast"],
    log: (line) => console.log(line),
  });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (report.failures.length === 0) console.log(`${scenarioName}: ${report.passed} seeds passed in ${seconds} s`);
  else console.log(`${scenarioName}: ${report.failures.length} of ${report.ran} seeds failed in ${seconds} s`);
  return report.failures.length === 0 ? 0 : 1;
}

function chooseSeeds(values: { seeds?: string | undefined; seed?: string | undefined; from?: string | undefined }): number[] | string {
  const parse = (text: string, what: string): number | string => {
    const n = text.trim() === "" ? NaN : Number(text);
    return Number.isSafeInteger(n) && n >= 0 ? n : `${what} must be a non-negative integer, got "${text}"`;
  };
  if (values.seed !== undefined) {
    const seed = parse(values.seed, "--seed");
    return typeof seed === "string" ? seed : [seed];
  }
  if (values.seeds === undefined) return "give --seeds N or --seed S";
  const count = parse(values.seeds, "--seeds");
  if (typeof count === "string") return count;
  const from = values.from === undefined ? randomInt(0, seedsSpanMax) : parse(values.from, "--from");
  if (typeof from === "string") return from;
  console.log(`seeds ${from}..${from + count - 1}`);
  return Array.from({ length: count }, (_, i) => from + i);
}

function usage(problem: string): number {
  console.error(`${problem}\nusage: npm run sim -- [--scenario NAME] (--seeds N [--from S] | --seed S) [--fail-fast]`);
  return 2;
}

process.exitCode = await main(process.argv.slice(2));
