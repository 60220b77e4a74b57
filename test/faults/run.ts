import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { closeHttp } from "./http-call.js";
import { formatReport, writeReport } from "./fault-report.js";
import { runFaultPlan, type FaultPlan, type FaultRunResult } from "./fault-run.js";
import { skippedFaults } from "./faults.js";
import { removeLeftovers, removeOwnNetwork } from "./namespace-network.js";

/**
 * `npm run test:faults` (issue 6): fault runs on real `shoal` processes in network namespaces.
 * Needs root, iptables and faketime, and a build (dist/src/cli/main.js).
 *
 *   node dist/test/faults/run.js            the full set: two plans, every fault
 *   node dist/test/faults/run.js --short    the CI version: 3 nodes, kill -9 then isolate (< 60 s)
 *   node dist/test/faults/run.js --faults pause,skew --nodes 3 --seed 7
 *
 * Exit code 0 when every plan passed, 1 when a check failed, 2 when it could not run.
 */
function findRepoRoot(start: string): string {
  let dir = start;
  for (let depth = 0; depth < 8; depth++) {
    if (existsSync(join(dir, "package.json"))) return dir;
    dir = dirname(dir);
  }
  throw new Error(`no package.json above ${start}`);
}

const base = {
  warmupMs: 3000,
  holdMs: 8000,
  settleMs: 3000,
  ringDeadlineMs: 45_000,
  convergenceDeadlineMs: 60_000,
  requestTimeoutMs: 2000,
  eventual: { clients: 6, keys: 16, opsMax: 20_000 },
  strong: { clients: 4, keys: 6, opsMax: 3000 },
  teeth: true,
};

function plans(args: { short: boolean; faults?: string; nodes?: string; seed: number }, cliPath: string): FaultPlan[] {
  const common = { ...base, seed: args.seed, cliPath };
  if (args.faults !== undefined) {
    return [{ ...common, name: "custom", nodes: Number(args.nodes ?? 3), faults: args.faults.split(",").filter((f) => f !== "") }];
  }
  if (args.short) {
    return [{ ...common, name: "short", nodes: 3, faults: ["kill", "isolate"], warmupMs: 2000, holdMs: 4000, settleMs: 1500, strong: { ...base.strong, opsMax: 1000 } }];
  }
  return [
    { ...common, name: "three", nodes: 3, faults: ["kill", "isolate", "pause", "loss", "skew", "join", "leave"] },
    { ...common, name: "five", nodes: 5, faults: ["split", "bridge", "kill"] },
  ];
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { short: { type: "boolean", default: false }, faults: { type: "string" }, nodes: { type: "string" }, seed: { type: "string" } } });
  if (process.getuid?.() !== 0) {
    console.error("the fault tests need root (ip netns, iptables); run them as root or skip them");
    return 2;
  }
  const root = findRepoRoot(dirname(fileURLToPath(import.meta.url)));
  const cliPath = join(root, "dist", "src", "cli", "main.js");
  if (!existsSync(cliPath)) {
    console.error(`${cliPath} is missing: run npm run build first`);
    return 2;
  }
  const removed = removeLeftovers();
  if (removed.length > 0) console.log(`removed leftovers of dead runs: ${removed.join(", ")}`);
  const seed = values.seed !== undefined ? Number(values.seed) : Date.now() % 100_000;
  const results: FaultRunResult[] = [];
  for (const plan of plans({ short: values.short ?? false, faults: values.faults, nodes: values.nodes, seed }, cliPath)) {
    console.log(`running plan ${plan.name}: ${plan.nodes} nodes, faults ${plan.faults.join(", ")}, seed ${plan.seed}`);
    results.push(await runFaultPlan(plan));
  }
  await closeHttp();
  const skipped = values.faults === undefined && !values.short ? Object.entries(skippedFaults).map(([name, why]) => `fault ${name} ${why}`) : [];
  const text = formatReport(results, skipped);
  const dir = writeReport(text, results);
  console.log(text);
  console.log(`report written to ${join(dir, "report.txt")} (raw results in results.json)`);
  return results.every((r) => r.passed) ? 0 : 1;
}

const stop = () => {
  console.error("interrupted: removing the fault network");
  removeOwnNetwork();
  process.exit(130);
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);

main().then((code) => process.exit(code), (error: unknown) => {
  console.error(error);
  process.exit(2);
});
