import { performance } from "node:perf_hooks";
import { setTimeout as delay } from "node:timers/promises";
import { formatCounterexample } from "../../src/checker/counterexample.js";
import { isFailedOutput, isUnknownOutput, type RegisterOperation } from "../../src/checker/history.js";
import { checkLinearizability } from "../../src/checker/linearizability-checker.js";
import { registerModel } from "../../src/checker/register-model.js";
import { waitForConvergence } from "./convergence.js";
import { checkEventualWrites, type EventualCheckSummary } from "./eventual-check.js";
import { EventualWorkload, type EventualWriteRecord } from "./eventual-workload.js";
import { FaultCluster } from "./fault-cluster.js";
import { faults, type Fault } from "./faults.js";
import { StrongWorkload } from "./strong-workload.js";

/**
 * One fault run (issue 6, item 3): start a cluster, create a siblings table and a strong table,
 * run both workloads while the plan's faults are injected, held and recovered one after
 * another, then stop the load, wait for every node to agree (the convergence bound), and check
 * the histories: no acknowledged write lost, no resurrection, no phantom on the siblings table;
 * linearizability on the strong table. The cluster is destroyed whatever happens.
 */
export interface FaultPlan {
  name: string;
  nodes: number;
  faults: readonly string[];
  seed: number;
  cliPath: string;
  /** Load before the first fault, each fault's hold, and load after each recovery. */
  warmupMs: number;
  holdMs: number;
  settleMs: number;
  ringDeadlineMs: number;
  convergenceDeadlineMs: number;
  requestTimeoutMs: number;
  eventual: { clients: number; keys: number; opsMax: number };
  strong: { clients: number; keys: number; opsMax: number };
  /**
   * Also load a last-writer-wins table with the same workload and require the lost-write check
   * to find losses there (blind puts overwrite what they never saw): proof on real processes
   * that the check can fail.
   */
  teeth: boolean;
}

export interface StrongSummary {
  operations: number;
  ok: number;
  failed: number;
  unknown: number;
  linearizable: boolean | "unknown";
  detail: string;
}

export interface FaultRunResult {
  plan: string;
  seed: number;
  nodes: number;
  faults: string[];
  timeline: string[];
  errors: string[];
  eventual?: EventualCheckSummary & { reads: { ok: number; failed: number } };
  convergenceMs?: number;
  strong?: StrongSummary;
  teeth?: { acknowledged: number; lost: number };
  /** The recorded histories, written beside the report for replaying the checks. */
  histories?: { siblings: readonly EventualWriteRecord[]; strong: readonly RegisterOperation[] };
  passed: boolean;
  durationMs: number;
  nodeLogs: Record<string, string[]>;
}

export const eventualTable = "faults_siblings";
export const strongTable = "faults_strong";
export const lwwTable = "faults_lww";

export async function runFaultPlan(plan: FaultPlan): Promise<FaultRunResult> {
  const started = Date.now();
  const timeline: string[] = [];
  const note = (line: string) => timeline.push(`${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s  ${line}`);
  const chosen = plan.faults.map((name) => faults[name] ?? unknownFault(name));
  const spares = Math.max(0, ...chosen.map((fault) => fault.sparesNeeded ?? 0));
  const result: FaultRunResult = { plan: plan.name, seed: plan.seed, nodes: plan.nodes, faults: [...plan.faults], timeline, errors: [], passed: false, durationMs: 0, nodeLogs: {} };
  let cluster: FaultCluster;
  try {
    cluster = await FaultCluster.start({ nodes: plan.nodes, spares, cliPath: plan.cliPath, formDeadlineMs: plan.ringDeadlineMs });
  } catch (error) {
    result.errors.push(`cluster did not form: ${error instanceof Error ? error.message : String(error)}`);
    result.durationMs = Date.now() - started;
    return result;
  }
  try {
    note(`cluster of ${plan.nodes} formed`);
    await cluster.createTable({ name: eventualTable, consistency: "eventual", conflicts: "siblings", replication: { n: 3, r: 2, w: 2 } });
    await cluster.createTable({ name: strongTable, consistency: "strong", replication: { n: 3, r: 2, w: 2 } });
    if (plan.teeth) await cluster.createTable({ name: lwwTable, consistency: "eventual", conflicts: "lww", replication: { n: 3, r: 2, w: 2 } });
    note("tables created");
    await runLoadAndFaults(plan, chosen, cluster, result, note);
  } catch (error) {
    result.errors.push(`run aborted: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    if (result.errors.length > 0 || !checksPassed(result)) {
      for (const node of cluster.nodes) result.nodeLogs[node.spec.nodeId] = node.logs.slice(-100);
    }
    await cluster.destroy();
  }
  result.passed = result.errors.length === 0 && checksPassed(result);
  result.durationMs = Date.now() - started;
  return result;
}

async function runLoadAndFaults(plan: FaultPlan, chosen: readonly Fault[], cluster: FaultCluster, result: FaultRunResult, note: (line: string) => void): Promise<void> {
  const urls = cluster.urls;
  const eventual = new EventualWorkload({ urls, table: eventualTable, seed: plan.seed, timeoutMs: plan.requestTimeoutMs, writeQuery: "w=2", readQuery: "r=2", ...plan.eventual });
  const strong = new StrongWorkload({ urls, table: strongTable, seed: plan.seed, timeoutMs: plan.requestTimeoutMs, ...plan.strong });
  const teeth = plan.teeth ? new EventualWorkload({ urls, table: lwwTable, seed: plan.seed + 1, timeoutMs: plan.requestTimeoutMs, writeQuery: "w=2", readQuery: "r=2", clients: 2, keys: 4, opsMax: plan.eventual.opsMax }) : undefined;
  const teethDone = teeth?.run();
  const eventualDone = eventual.run();
  const strongDone = strong.run();
  note("load started");
  try {
    await delay(plan.warmupMs);
    for (const fault of chosen) {
      note(`fault ${fault.name}: ${fault.summary}`);
      await fault.inject(cluster, note);
      await delay(plan.holdMs);
      await fault.recover(cluster, note);
      const ringMs = await cluster.waitForRing(plan.ringDeadlineMs);
      note(`ring whole again after ${ringMs} ms`);
      await delay(plan.settleMs);
    }
  } finally {
    cluster.heal();
    eventual.stop();
    strong.stop();
    teeth?.stop();
  }
  const [eventualRun, history, teethRun] = await Promise.all([eventualDone, strongDone, teethDone]);
  result.histories = { siblings: eventualRun.writes, strong: history };
  note(`load stopped: ${eventualRun.writes.length} eventual writes, ${history.length} strong operations`);
  const convergence = await waitForConvergence({ urls: cluster.members.filter((n) => n.running).map((n) => n.url), table: eventualTable, keys: eventualRun.keys, replicas: 3, deadlineMs: plan.convergenceDeadlineMs, timeoutMs: plan.requestTimeoutMs });
  result.convergenceMs = convergence.elapsedMs;
  note(`replicas agree after ${convergence.elapsedMs} ms`);
  result.eventual = { ...checkEventualWrites(eventualRun.writes, convergence.finals), reads: eventualRun.reads };
  result.strong = checkStrong(history);
  if (teethRun !== undefined) {
    const lww = await waitForConvergence({ urls: cluster.members.filter((n) => n.running).map((n) => n.url), table: lwwTable, keys: teethRun.keys, replicas: 3, deadlineMs: plan.convergenceDeadlineMs, timeoutMs: plan.requestTimeoutMs });
    const summary = checkEventualWrites(teethRun.writes, lww.finals);
    result.teeth = { acknowledged: summary.acknowledged, lost: summary.lost };
  }
  note("checks done");
}

function checkStrong(history: readonly RegisterOperation[]): StrongSummary {
  const counts = {
    operations: history.length,
    ok: history.filter((op) => !isUnknownOutput(op.output) && !isFailedOutput(op.output)).length,
    failed: history.filter((op) => isFailedOutput(op.output)).length,
    unknown: history.filter((op) => isUnknownOutput(op.output)).length,
  };
  const started = performance.now();
  const check = checkLinearizability(history, registerModel, { stepsMax: strongCheckStepsMax });
  const searched = `${check.stats.operations} operations over ${check.stats.keys} keys in ${check.stats.steps} steps, ${Math.round(performance.now() - started)} ms`;
  if (check.ok === true) return { ...counts, linearizable: true, detail: searched };
  if (check.ok === "unknown") return { ...counts, linearizable: "unknown", detail: `search budget (${strongCheckStepsMax} steps per key) spent on key${check.keys.length > 1 ? "s" : ""} ${check.keys.join(", ")}; ${searched}` };
  return { ...counts, linearizable: false, detail: formatCounterexample(check.counterexample) };
}

/**
 * Steps per key for the strong history's search. Since session 7 the recorded histories (about
 * 200 to 700 operations per key, up to 160 of them indeterminate) take under 50,000 steps per key, so
 * this budget is a bound, not a setting the verdict depends on.
 */
export const strongCheckStepsMax = 20_000_000;

/**
 * A plan passes only when every check passed: an "unknown" linearizability verdict (the search
 * spent its budget) is not a pass. It is reported as UNKNOWN and fails the run (exit code 1),
 * CI's short run included: an unchecked history proves nothing.
 */
function checksPassed(result: FaultRunResult): boolean {
  const e = result.eventual;
  const s = result.strong;
  const teethBite = result.teeth === undefined || result.teeth.lost > 0;
  return e !== undefined && s !== undefined && e.lost === 0 && e.resurrected === 0 && e.phantoms === 0 && s.linearizable === true && teethBite;
}

/** PASS, FAIL, or UNKNOWN when nothing failed but the strong history could not be decided. */
export function planVerdict(result: FaultRunResult): "PASS" | "FAIL" | "UNKNOWN" {
  if (result.passed) return "PASS";
  const s = result.strong;
  const e = result.eventual;
  const otherwiseClean = result.errors.length === 0 && e !== undefined && e.lost === 0 && e.resurrected === 0 && e.phantoms === 0 && (result.teeth === undefined || result.teeth.lost > 0);
  return otherwiseClean && s?.linearizable === "unknown" ? "UNKNOWN" : "FAIL";
}

function unknownFault(name: string): never {
  throw new Error(`unknown fault "${name}"; known: ${Object.keys(faults).join(", ")}`);
}
