import { serverCpu, runLoadProcess } from "./single-node-benchmark.js";
import { ElasticCluster } from "./elastic-cluster.js";
import { antiEntropyView, clusterView, createTable, loadKeys, metricSum, metricsText } from "./elastic-http.js";
import { ReadLoad, type PhaseResult } from "./elastic-read-load.js";
import type { LoadResult, LoadSpec } from "./load-spec.js";
import { LmdbStorageEngine } from "../src/storage/lmdb-storage-engine.js";
import { Namespace } from "../src/storage/keyspace.js";
import { join } from "node:path";

/**
 * The elastic benchmark's loopback parts (issue 6, "Benchmark additions"):
 * - anti-entropy on against off: PUT and GET at W=2/R=2, concurrency 64, 100-byte values, on
 *   3 `shoal start` processes (pinned to the server core), load from a separate process on the
 *   load core; the modes alternate within one session.
 * - a fourth node joins a 3-node cluster holding `items` items while a read load (R=2) runs:
 *   the data it received (items and bytes, counted in its LMDB after the run, and its storage
 *   size), the time until every node shows 4 members up with pendingTransfers 0, and the read
 *   latency before and during the handoff.
 */
export const valueBytes = 100;
const startDeadlineMs = 60_000;

export interface OnOffOptions {
  keys: number;
  concurrency: number;
  durationS: number;
  warmupS: number;
  runs: number;
  log: (line: string) => void;
}

export interface OnOffRow {
  mode: "on" | "off";
  op: "put" | "get";
  run: number;
  result: LoadResult;
}

export async function runOnOff(options: OnOffOptions): Promise<OnOffRow[]> {
  const rows: OnOffRow[] = [];
  for (let run = 1; run <= options.runs; run++) {
    const modes: ("on" | "off")[] = run % 2 === 1 ? ["on", "off"] : ["off", "on"];
    for (const mode of modes) {
      const cluster = await ElasticCluster.start({ members: 3, cpu: serverCpu, deadlineMs: startDeadlineMs, env: { SHOAL_ANTI_ENTROPY: mode } });
      try {
        const table = "elastic_onoff";
        await createTable(cluster.urls[0]!, { name: table, consistency: "eventual", conflicts: "lww", replication: { n: 3, r: 2, w: 2 } });
        await waitForTable(cluster.urls, table);
        const enabled = (await Promise.all(cluster.urls.map(antiEntropyView))).map((view) => view?.enabled);
        if (enabled.some((value) => value !== (mode === "on"))) throw new Error(`anti-entropy ${mode} asked, nodes report enabled=${JSON.stringify(enabled)}`);
        await loadKeys({ urls: cluster.urls, table, prefix: "o-", from: 0, to: options.keys, valueBytes, tag: "onoff" });
        for (const op of ["put", "get"] as const) {
          const spec: LoadSpec = {
            target: { kind: "shoal-cluster", urls: cluster.urls, table, r: 2 },
            op,
            valueBytes,
            concurrency: options.concurrency,
            keyPrefix: "o-",
            keyCount: options.keys,
            preload: false,
            warmupMs: options.warmupS * 1000,
            durationMs: options.durationS * 1000,
            opsMax: Math.ceil(options.durationS * 1_000_000),
            serverPids: cluster.pids,
            seed: run * 1000 + (op === "put" ? 1 : 2),
          };
          const result = await runLoadProcess(spec, { durationS: options.durationS, warmupS: options.warmupS, keyCount: options.keys });
          options.log(`  anti-entropy ${mode} run ${run}: ${op} ${Math.round(result.opsPerSec)} ops/s, p50 ${result.latency.p50Us} us, p99.9 ${result.latency.p999Us} us${result.errors > 0 ? `, ${result.errors} errors (${result.firstError})` : ""}`);
          rows.push({ mode, op, run, result });
        }
      } finally {
        await cluster.stop();
      }
    }
  }
  return rows;
}

export interface JoinOptions {
  items: number;
  readConcurrency: number;
  baselineMs: number;
  deadlineMs: number;
  log: (line: string) => void;
}

export interface JoinResult {
  items: number;
  loadMs: number;
  /** Spawn of the fourth node until every node shows 4 members up, one ring, pendingTransfers 0. */
  settleMs: number | null;
  /** Items (and their key + value bytes) in the fourth node's storage after the handoff. */
  itemsMoved: number;
  bytesMoved: number;
  /** The fourth node's storage size (LMDB pages in use) and the average of the other three. */
  joinerStorageBytes: number;
  othersStorageBytes: number;
  /** Partitions the fourth node owns, of the ring's partitionCount. */
  joinerPartitions: number;
  partitionCount: number;
  /** Trees (partitions holding keys) on the 4th node that list it as a replica, and those that do not (kept, not owned). */
  joinerTreesOwned: number;
  joinerTreesNotOwned: number;
  /** Trees (partitions holding keys) anywhere: what items spread over. */
  treesTotal: number;
  reads: PhaseResult[];
  pendingSeenMax: number;
}

export async function runJoin(options: JoinOptions): Promise<JoinResult> {
  const cluster = await ElasticCluster.start({ members: 3, cpu: serverCpu, deadlineMs: startDeadlineMs });
  let stopped = false;
  try {
    const table = "elastic_join";
    await createTable(cluster.urls[0]!, { name: table, consistency: "eventual", conflicts: "lww", replication: { n: 3, r: 2, w: 2 } });
    await waitForTable(cluster.urls, table);
    const loadStarted = performance.now();
    const items = await loadKeys({ urls: cluster.urls, table, prefix: "j-", from: 0, to: options.items, valueBytes, tag: "join" });
    const loadMs = performance.now() - loadStarted;
    options.log(`  join: ${items} items loaded in ${(loadMs / 1000).toFixed(1)} s`);
    const reads = new ReadLoad({ urls: cluster.urls, table, prefix: "j-", keyCount: options.items, concurrency: options.readConcurrency, r: 2, valueBytes, seed: 77 });
    reads.phase("before the join");
    await new Promise((resolve) => setTimeout(resolve, options.baselineMs));
    reads.phase("during the handoff");
    const joinStarted = performance.now();
    const joiner = await cluster.spawn();
    let settleMs: number | null = null;
    let pendingSeenMax = 0;
    while (performance.now() - joinStarted < options.deadlineMs) {
      const { settled, views } = await cluster.settled();
      for (const view of views) pendingSeenMax = Math.max(pendingSeenMax, view?.pendingTransfers ?? 0);
      if (settled) {
        settleMs = performance.now() - joinStarted;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const readResults = await reads.stop();
    const view = await clusterView(joiner.url);
    const joinerTrees = (await antiEntropyView(joiner.url))?.trees ?? [];
    const treesTotal = new Set((await Promise.all(cluster.urls.map(antiEntropyView))).flatMap((v) => v?.trees ?? []).map((t) => `${t.partition}/${t.n}`)).size;
    const selfId = view?.self ?? "";
    const sizes = await Promise.all(cluster.urls.map(async (url) => metricSum(await metricsText(url), "shoal_storage_size_bytes")));
    options.log(`  join: ${settleMs === null ? `not settled within ${options.deadlineMs} ms` : `settled in ${(settleMs / 1000).toFixed(1)} s`}`);
    // Count what the joiner holds from its own LMDB once it has stopped.
    await Promise.all(cluster.nodes.map((node) => node.process.stop()));
    stopped = true;
    const moved = await countItems(join(joiner.dataDir, "lmdb"));
    return {
      items,
      loadMs,
      settleMs,
      itemsMoved: moved.items,
      bytesMoved: moved.bytes,
      joinerStorageBytes: sizes[3] ?? 0,
      othersStorageBytes: Math.round((sizes[0]! + sizes[1]! + sizes[2]!) / 3),
      joinerPartitions: view?.members.find((m) => m.id === view.self)?.partitions ?? 0,
      partitionCount: (view as { partitionCount?: number } | undefined)?.partitionCount ?? 0,
      joinerTreesOwned: joinerTrees.filter((t) => t.replicas.includes(selfId)).length,
      joinerTreesNotOwned: joinerTrees.filter((t) => !t.replicas.includes(selfId)).length,
      treesTotal,
      reads: readResults,
      pendingSeenMax,
    };
  } finally {
    if (stopped) await cluster.stop().catch(() => undefined);
    else await cluster.stop();
  }
}

async function countItems(path: string): Promise<{ items: number; bytes: number }> {
  const storage = await LmdbStorageEngine.open({ path });
  try {
    let items = 0;
    let bytes = 0;
    for (const entry of storage.range({ start: Uint8Array.of(Namespace.items), end: Uint8Array.of(Namespace.items + 1) })) {
      items++;
      bytes += entry.key.byteLength + entry.value.byteLength;
    }
    return { items, bytes };
  } finally {
    await storage.close();
  }
}

async function waitForTable(urls: readonly string[], table: string): Promise<void> {
  const started = performance.now();
  for (;;) {
    const found = await Promise.all(urls.map(async (url) => (await fetch(`${url}/v1/tables/${table}`).catch(() => undefined))?.status === 200));
    if (found.every(Boolean)) return;
    if (performance.now() - started > 20_000) throw new Error(`table ${table} did not reach every node within 20 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
