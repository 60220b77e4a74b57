import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { formatCounterexample } from "../../src/checker/counterexample.js";
import { isUnknownOutput, type RegisterOperation } from "../../src/checker/history.js";
import { checkLinearizability } from "../../src/checker/linearizability-checker.js";
import { registerModel } from "../../src/checker/register-model.js";

/**
 * Re-checks a recorded strong history offline, without re-running the faults:
 *
 *   node dist/test/faults/replay-strong.js /tmp/shoal-faults-report-XXXX/short-histories.json [--steps N] [--key st-5]
 *
 * Reads a `<plan>-histories.json` the fault runner wrote (or a bare JSON array of operations),
 * and prints the verdict, the checker's steps per key and its CPU time.
 */
export function loadStrongHistory(text: string): RegisterOperation[] {
  const parsed = JSON.parse(text) as { strong?: unknown } | unknown[];
  const raw = Array.isArray(parsed) ? parsed : parsed.strong;
  if (!Array.isArray(raw)) throw new Error("expected a histories file with a \"strong\" array, or an array of operations");
  // JSON writes +Infinity as null: an unknown outcome returns at +Infinity.
  return (raw as RegisterOperation[]).map((op) => (isUnknownOutput(op.output) ? { ...op, returnAt: Infinity } : op));
}

function main(): void {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { steps: { type: "string" }, key: { type: "string" } } });
  const path = positionals[0];
  if (path === undefined) throw new Error("usage: replay-strong <histories.json> [--steps N] [--key KEY]");
  let history = loadStrongHistory(readFileSync(path, "utf8"));
  if (values.key !== undefined) history = history.filter((op) => op.key === values.key);
  const stepsMax = values.steps === undefined ? 20_000_000 : Number(values.steps);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const result = checkLinearizability(history, registerModel, { stepsMax });
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const unknown = history.filter((op) => isUnknownOutput(op.output)).length;
  console.log(`${path}: ${history.length} operations, ${unknown} indeterminate; stepsMax ${stepsMax}`);
  console.log(`verdict: ${String(result.ok)}; ${result.stats.steps} steps; ${wallMs.toFixed(0)} ms wall, ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms CPU`);
  for (const key of result.stats.perKey ?? []) console.log(`  ${key.key}: ${key.operations} operations searched, ${key.steps} steps, ${String(key.ok)}`);
  if (result.ok === false) console.log(formatCounterexample(result.counterexample));
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, ""))) main();
