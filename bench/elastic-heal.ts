import { spawnSync } from "node:child_process";
import { Agent, request } from "undici";
import { FaultCluster } from "../test/faults/fault-cluster.js";
import { removeOwnNetwork } from "../test/faults/namespace-network.js";
import { antiEntropyView, clusterView, compareRoots, createTable, loadKeys, metricSum, metricsText, valueOf, type AntiEntropyView } from "./elastic-http.js";
import { shoalCliPath } from "./paths.js";

/**
 * Heal time (issue 6, "Benchmark additions"): three `shoal start` processes, each in its own
 * network namespace on a private bridge (test/faults/namespace-network.ts); `keys` items loaded;
 * one node isolated by iptables DROP rules for `partitionMs` while writes go on through the two
 * others; then the rules are flushed and the clock runs until every tree's replicas report one
 * Merkle root (GET /v1/internal/anti-entropy on every node). Hinted handoff repairs too: the
 * hints delivered and the keys anti-entropy repaired are both reported, as deltas over the run.
 */
export interface HealOptions {
  keys: number;
  partitionMs: number;
  valueBytes: number;
  writers: number;
  healDeadlineMs: number;
  log: (line: string) => void;
}

export interface HealResult {
  keysLoaded: number;
  loadMs: number;
  partitionMs: number;
  writesOk: number;
  writesFailed: number;
  /** Distinct keys the writes touched (overwrites of loaded keys, in order). */
  keysWritten: number;
  firstWriteError: string | null;
  /** After the heal: the isolated node seen up by every node. */
  seenUpMs: number | null;
  /** After the heal: every tree's replicas report one root. null: not within the deadline. */
  rootsEqualMs: number | null;
  /** After the heal: no node holds hints any more. */
  hintsDrainedMs: number | null;
  trees: number;
  treesDifferingAtHeal: number;
  hintsDelivered: number;
  hintsHeldAtHeal: number;
  keysRepairedByAntiEntropy: number;
  exchanges: number;
  exchangesFailed: number;
  /** Exchange traffic over the run, both directions, summed over the nodes. */
  exchangeBytes: number;
  lastDifference?: string;
}

export const table = "elastic_heal";
const pollMs = 250;

/** Why the partition part cannot run here, or undefined when it can. */
export function healUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "not root (network namespaces need root)";
  if (spawnSync("ip", ["-V"]).status !== 0) return "no `ip` (apt-get install iproute2)";
  if (spawnSync("iptables", ["-V"]).status !== 0) return "no `iptables` (apt-get install iptables)";
  return undefined;
}

export async function runHeal(options: HealOptions): Promise<HealResult> {
  const onSignal = () => {
    removeOwnNetwork();
    process.exit(130);
  };
  process.once("SIGINT", onSignal);
  const cluster = await FaultCluster.start({ nodes: 3, cliPath: shoalCliPath, formDeadlineMs: 60_000 });
  try {
    const urls = cluster.urls;
    const ids = cluster.nodes.map((node) => node.spec.nodeId);
    await createTable(urls[0]!, { name: table, consistency: "eventual", conflicts: "lww", replication: { n: 3, r: 2, w: 2 } });
    await waitUntil(async () => (await Promise.all(urls.map((url) => request(`${url}/v1/tables/${table}`).then(async (a) => (await a.body.dump(), a.statusCode === 200), () => false)))).every(Boolean), 20_000, "the table on every node");
    const loadStarted = performance.now();
    const keysLoaded = await loadKeys({ urls, table, prefix: "h-", from: 0, to: options.keys, valueBytes: options.valueBytes, tag: "load" });
    const loadMs = performance.now() - loadStarted;
    options.log(`  heal: ${keysLoaded} keys loaded in ${(loadMs / 1000).toFixed(1)} s`);
    await waitUntil(async () => rootsEqual(urls, ids).then((c) => c.differing === 0 && c.answered), 300_000, "equal roots after the load");
    const before = await figures(urls);

    // Isolate the third node from the other two (clients on the host still reach everyone).
    cluster.partitions.split([[0, 1], [2]]);
    const writes = await writeFor({ urls: urls.slice(0, 2), keys: options.keys, valueBytes: options.valueBytes, writers: options.writers, durationMs: options.partitionMs });
    options.log(`  heal: ${writes.ok} writes acknowledged (${writes.keys} distinct keys), ${writes.failed} failed during a ${options.partitionMs / 1000} s partition of ${ids[2]}`);
    const atHeal = await rootsEqual(urls, ids);
    const hintsHeldAtHeal = metricSum(await Promise.all(urls.slice(0, 2).map(metricsText)).then((texts) => texts.join("\n")), "shoal_hints_pending");
    cluster.partitions.heal();
    const healed = performance.now();

    let seenUpMs: number | null = null;
    let rootsEqualMs: number | null = null;
    let hintsDrainedMs: number | null = null;
    let last = atHeal;
    while (performance.now() - healed < options.healDeadlineMs && (rootsEqualMs === null || hintsDrainedMs === null)) {
      const now = () => performance.now() - healed;
      if (seenUpMs === null) {
        const views = await Promise.all(urls.map(clusterView));
        if (views.every((view) => view !== undefined && view.members.every((m) => m.state === "up"))) seenUpMs = now();
      }
      if (rootsEqualMs === null) {
        last = await rootsEqual(urls, ids);
        if (last.differing === 0 && last.answered) rootsEqualMs = now();
      }
      if (hintsDrainedMs === null) {
        const texts = await Promise.all(urls.map(metricsText));
        if (texts.every((text) => text !== undefined) && metricSum(texts.join("\n"), "shoal_hints_pending") === 0) hintsDrainedMs = now();
      }
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
    const after = await figures(urls);
    return {
      keysLoaded,
      loadMs,
      partitionMs: options.partitionMs,
      writesOk: writes.ok,
      writesFailed: writes.failed,
      keysWritten: writes.keys,
      firstWriteError: writes.firstError,
      seenUpMs,
      rootsEqualMs,
      hintsDrainedMs,
      trees: last.trees,
      treesDifferingAtHeal: atHeal.differing,
      hintsDelivered: after.hintsDelivered - before.hintsDelivered,
      hintsHeldAtHeal,
      keysRepairedByAntiEntropy: after.keysRepaired - before.keysRepaired,
      exchanges: after.exchanges - before.exchanges,
      exchangesFailed: after.exchangesFailed - before.exchangesFailed,
      exchangeBytes: after.bytes - before.bytes,
      ...(last.example !== undefined && rootsEqualMs === null ? { lastDifference: last.example } : {}),
    };
  } finally {
    process.off("SIGINT", onSignal);
    await cluster.destroy();
  }
}

async function rootsEqual(urls: readonly string[], ids: readonly string[]): Promise<{ trees: number; differing: number; answered: boolean; example?: string }> {
  const views = await Promise.all(urls.map(antiEntropyView));
  const byId = new Map<string, AntiEntropyView>();
  views.forEach((view, i) => {
    if (view !== undefined && view.loaded) byId.set(ids[i]!, view);
  });
  return { ...compareRoots(byId), answered: byId.size === urls.length };
}

async function figures(urls: readonly string[]): Promise<{ hintsDelivered: number; keysRepaired: number; exchanges: number; exchangesFailed: number; bytes: number }> {
  const texts = (await Promise.all(urls.map(metricsText))).join("\n");
  const views = await Promise.all(urls.map(antiEntropyView));
  const sum = (pick: (view: AntiEntropyView) => number) => views.reduce((total, view) => total + (view === undefined ? 0 : pick(view)), 0);
  return { hintsDelivered: metricSum(texts, "shoal_hints_delivered"), keysRepaired: sum((v) => v.keysRepaired), exchanges: sum((v) => v.exchanges), exchangesFailed: sum((v) => v.exchangesFailed), bytes: sum((v) => v.bytes) };
}

/** PUTs overwriting keys h-0, h-1, ... in order through `urls` for `durationMs`, `writers` at a time. */
async function writeFor(options: { urls: readonly string[]; keys: number; valueBytes: number; writers: number; durationMs: number }): Promise<{ ok: number; failed: number; keys: number; firstError: string | null }> {
  const agent = new Agent({ connections: options.writers, keepAliveTimeout: 2000, connect: { timeout: 2000 } });
  const value = valueOf(options.valueBytes, "partition");
  const end = performance.now() + options.durationMs;
  let next = 0;
  let ok = 0;
  let failed = 0;
  let firstError: string | null = null;
  const worker = async (index: number) => {
    while (performance.now() < end) {
      const key = `h-${next++ % options.keys}`;
      try {
        const answer = await request(`${options.urls[index % options.urls.length]}/v1/tables/${table}/items/${key}`, { method: "PUT", dispatcher: agent, body: value, headersTimeout: 5000, bodyTimeout: 5000 });
        const text = await answer.body.text();
        if (answer.statusCode === 201 || answer.statusCode === 200 || answer.statusCode === 204) ok++;
        else {
          failed++;
          firstError ??= `${answer.statusCode} ${text.slice(0, 200)}`;
        }
      } catch (error) {
        failed++;
        firstError ??= String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: options.writers }, (_, i) => worker(i)));
  await agent.close();
  return { ok, failed, keys: Math.min(next, options.keys), firstError };
}

async function waitUntil(condition: () => Promise<boolean>, deadlineMs: number, what: string): Promise<void> {
  const started = performance.now();
  while (!(await condition())) {
    if (performance.now() - started > deadlineMs) throw new Error(`${what} did not happen within ${deadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
