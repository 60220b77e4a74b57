import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { planVerdict, type FaultRunResult } from "./fault-run.js";

/**
 * The written report of a fault run (issue 6, item 4): per plan, the timeline, the operations
 * by outcome (acknowledged, failed, indeterminate), what the checks found (lost, resurrected,
 * phantom; linearizable or the counterexample) and the convergence time. Printed, and written
 * with the raw results as JSON to a fresh temp directory.
 */
export function formatReport(results: readonly FaultRunResult[], skipped: readonly string[]): string {
  const lines: string[] = ["Shoal fault run report", ""];
  for (const r of results) {
    lines.push(`== plan ${r.plan}: ${r.nodes} nodes, faults ${r.faults.join(", ")}, seed ${r.seed}: ${planVerdict(r)} (${(r.durationMs / 1000).toFixed(1)} s)`);
    lines.push(...r.timeline.map((line) => `   ${line}`));
    const e = r.eventual;
    if (e !== undefined) {
      lines.push(`   siblings table: ${e.writes} writes: ${e.acknowledged} acknowledged, ${e.failed} failed, ${e.unknown} indeterminate; reads ${e.reads.ok} answered, ${e.reads.failed} not`);
      lines.push(`   lost ${e.lost}, resurrected ${e.resurrected}, phantom ${e.phantoms}; replicas agreed ${r.convergenceMs} ms after the load stopped`);
      for (const finding of e.findings.slice(0, 20)) lines.push(`     ${finding.kind} ${finding.key}=${finding.value}: ${finding.detail}`);
    }
    const s = r.strong;
    if (s !== undefined) {
      lines.push(`   strong table: ${s.operations} operations: ${s.ok} definite, ${s.failed} failed, ${s.unknown} indeterminate; linearizable: ${s.linearizable} (${s.linearizable === false ? "counterexample below" : s.detail})`);
      if (s.linearizable === false) lines.push(...s.detail.split("\n").map((line) => `     ${line}`));
    }
    if (r.teeth !== undefined) {
      const verdict = r.teeth.lost > 0 ? "as expected: the check sees losses" : "NONE: the lost-write check found nothing where losses are certain";
      lines.push(`   teeth: the last-writer-wins table lost ${r.teeth.lost} of ${r.teeth.acknowledged} acknowledged writes (${verdict})`);
    }
    for (const error of r.errors) lines.push(`   ERROR ${error}`);
    for (const [node, logs] of Object.entries(r.nodeLogs)) {
      lines.push(`   last log lines of ${node}:`);
      lines.push(...logs.slice(-15).map((line) => `     ${line.slice(0, 300)}`));
    }
    lines.push("");
  }
  for (const line of skipped) lines.push(line);
  const passed = results.filter((r) => r.passed).length;
  const unknown = results.filter((r) => planVerdict(r) === "UNKNOWN").length;
  const undecided = unknown === 0 ? "" : ` (${unknown} UNKNOWN: a strong history the checker could not decide, which fails the run)`;
  lines.push(`${passed} of ${results.length} plans passed${undecided}`);
  return lines.join("\n");
}

/** Writes report.txt, results.json and each plan's histories to a new temp directory; returns its path. */
export function writeReport(text: string, results: readonly FaultRunResult[]): string {
  const dir = mkdtempSync(join(tmpdir(), "shoal-faults-report-"));
  writeFileSync(join(dir, "report.txt"), `${text}\n`);
  writeFileSync(join(dir, "results.json"), `${JSON.stringify(results.map(({ histories: _, ...rest }) => rest), null, 2)}\n`);
  for (const result of results) {
    if (result.histories !== undefined) writeFileSync(join(dir, `${result.plan}-histories.json`), `${JSON.stringify(result.histories)}\n`);
  }
  return dir;
}
