import { formatOps, formatUs } from "./bench-report.js";
import type { HealResult } from "./elastic-heal.js";
import type { JoinResult, OnOffRow } from "./elastic-benchmark.js";

/** The elastic benchmark's tables (markdown) from its results; pure, so the smoke test can check them. */
export interface ElasticResults {
  heal: HealResult | { skipped: string };
  onOff: OnOffRow[];
  join: JoinResult | { skipped: string };
}

const seconds = (ms: number | null) => (ms === null ? "not reached" : `${(ms / 1000).toFixed(1)} s`);

export function formatHeal(heal: HealResult | { skipped: string }): string {
  if ("skipped" in heal) return `Heal time: skipped (${heal.skipped}).`;
  const lines = [
    "| figure | value |",
    "|---|---|",
    `| keys loaded (100-byte values, n=3, lww) | ${heal.keysLoaded} in ${seconds(heal.loadMs)} |`,
    `| partition (one node of three isolated by iptables) | ${seconds(heal.partitionMs)} |`,
    `| writes acknowledged on the majority side (W=2) | ${heal.writesOk} (${heal.keysWritten} distinct keys), ${heal.writesFailed} failed${heal.firstWriteError ? `: ${heal.firstWriteError.slice(0, 100)}` : ""} |`,
    `| trees whose replicas differed at the heal | ${heal.treesDifferingAtHeal} of ${heal.trees} |`,
    `| heal until the isolated node is seen up by all | ${seconds(heal.seenUpMs)} |`,
    `| **heal until every tree's replicas report equal Merkle roots** | **${seconds(heal.rootsEqualMs)}** |`,
    `| heal until no node holds hints | ${seconds(heal.hintsDrainedMs)} |`,
    `| hints held at the heal / delivered over the run | ${heal.hintsHeldAtHeal} / ${heal.hintsDelivered} |`,
    `| keys repaired by anti-entropy over the run | ${heal.keysRepairedByAntiEntropy} |`,
    `| exchanges over the run (failed), their traffic | ${heal.exchanges} (${heal.exchangesFailed}), ${(heal.exchangeBytes / 1024).toFixed(0)} KiB |`,
  ];
  if (heal.lastDifference !== undefined) lines.push(`| last difference seen | ${heal.lastDifference} |`);
  return lines.join("\n");
}

export function formatOnOff(rows: readonly OnOffRow[]): string {
  if (rows.length === 0) return "Anti-entropy on and off: skipped (left out).";
  const lines = ["| op | anti-entropy | ops/s (median) | runs (min-max) | p50 | p99 | p99.9 | servers' CPU | errors |", "|---|---|---|---|---|---|---|---|---|"];
  const ratios: string[] = [];
  for (const op of ["put", "get"] as const) {
    const medians: Partial<Record<"on" | "off", OnOffRow>> = {};
    for (const mode of ["on", "off"] as const) {
      const group = rows.filter((row) => row.op === op && row.mode === mode).sort((a, b) => a.result.opsPerSec - b.result.opsPerSec);
      if (group.length === 0) continue;
      const median = group[Math.floor((group.length - 1) / 2)]!;
      medians[mode] = median;
      const m = median.result;
      lines.push(`| ${op} (${op === "put" ? "W=2" : "R=2"}) | ${mode} | ${formatOps(m.opsPerSec)} | ${group.length} (${formatOps(group[0]!.result.opsPerSec)}-${formatOps(group.at(-1)!.result.opsPerSec)}) | ${formatUs(m.latency.p50Us)} | ${formatUs(m.latency.p99Us)} | ${formatUs(m.latency.p999Us)} | ${m.serverCpuPct === null ? "n/a" : `${Math.round(m.serverCpuPct)}%`} | ${group.reduce((sum, row) => sum + row.result.errors, 0)} |`);
    }
    if (medians.on && medians.off && medians.off.result.opsPerSec > 0) ratios.push(`- ${op}: on/off throughput ${(medians.on.result.opsPerSec / medians.off.result.opsPerSec).toFixed(2)}`);
  }
  return [...lines, "", ...ratios].join("\n");
}

export function formatJoin(join: JoinResult | { skipped: string }): string {
  if ("skipped" in join) return `A fourth node joins: skipped (${join.skipped}).`;
  const mib = (bytes: number) => `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
  const lines = [
    "| figure | value |",
    "|---|---|",
    `| items in the 3-node cluster (n=3, 100-byte values) | ${join.items} (loaded in ${seconds(join.loadMs)}) |`,
    `| **4th node start until 4 members up and pendingTransfers 0 on every node** | **${seconds(join.settleMs)}** |`,
    `| partitions the 4th node owns | ${join.joinerPartitions} of ${join.partitionCount} |`,
    `| partitions (trees with keys) the 4th node replicates / holds without replicating / of all holding keys | ${join.joinerTreesOwned} / ${join.joinerTreesNotOwned} / ${join.treesTotal} |`,
    `| items the 4th node holds after the handoff (key+value bytes) | ${join.itemsMoved} (${mib(join.bytesMoved)}); its replicated share of the items: about ${join.treesTotal > 0 ? Math.round((join.items * join.joinerTreesOwned) / join.treesTotal) : "?"} |`,
    `| storage size: 4th node / old nodes' average | ${mib(join.joinerStorageBytes)} / ${mib(join.othersStorageBytes)} |`,
    `| pendingTransfers, largest seen | ${join.pendingSeenMax} |`,
    "",
    "| reads (R=2) | ops | ops/s | p50 | p99 | p99.9 | max | errors |",
    "|---|---|---|---|---|---|---|---|",
  ];
  for (const phase of join.reads) {
    lines.push(`| ${phase.phase} (${seconds(phase.durationMs)}) | ${phase.ops} | ${formatOps(phase.opsPerSec)} | ${formatUs(phase.p50Us)} | ${formatUs(phase.p99Us)} | ${formatUs(phase.p999Us)} | ${formatUs(phase.maxUs)} | ${phase.errors}${phase.firstError ? `: ${phase.firstError.slice(0, 100)}` : ""} |`);
  }
  return lines.join("\n");
}

export function formatElastic(results: ElasticResults): string {
  return [
    "### Heal time after a partition",
    "",
    formatHeal(results.heal),
    "",
    "### Throughput with anti-entropy on and off",
    "",
    formatOnOff(results.onOff),
    "",
    "### A fourth node joins",
    "",
    formatJoin(results.join),
  ].join("\n");
}
