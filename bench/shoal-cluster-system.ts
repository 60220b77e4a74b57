import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ShoalHttpClient } from "../src/client/http-client.js";
import { ShoalError } from "../src/errors.js";
import { freePort } from "./redis-system.js";
import { shoalCliPath } from "./paths.js";
import { startListeningProcess, type ServerProcess } from "./server-process.js";

/**
 * A local Shoal cluster for the cluster benchmark: `members` separate `shoal start` processes
 * on loopback (node 2.. joining node 1), each with its own data directory, waited on until every
 * node's /v1/cluster shows every member up with one ring version; then the benchmark tables.
 */
export interface ShoalCluster {
  urls: string[];
  /** host:peerPort of every node: the ShoalClient's seeds. */
  peers: string[];
  pids: number[];
  stop(): Promise<void>;
}

export interface BenchTableSpec {
  name: string;
  consistency: "eventual" | "strong";
  conflicts: "siblings" | "lww";
  replication: { n: number; r: number; w: number };
}

const pollIntervalMs = 100;

export async function startShoalCluster(options: { members: number; cpu?: number; deadlineMs: number; tables: readonly BenchTableSpec[] }): Promise<ShoalCluster> {
  const dir = mkdtempSync(join(tmpdir(), "shoal-bench-cluster-"));
  const nodes: ServerProcess[] = [];
  const stop = async () => {
    await Promise.all(nodes.map((node) => node.stop()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const firstPeerPort = await freePort();
    const peers: string[] = [];
    for (let i = 1; i <= options.members; i++) {
      const peerPort = i === 1 ? firstPeerPort : await freePort();
      peers.push(`127.0.0.1:${peerPort}`);
      const args = [shoalCliPath, "start", "--port", "0", "--peer-port", String(peerPort), "--data-dir", join(dir, `node-${i}`), "--log-level", "info"];
      if (i > 1) args.push("--join", `127.0.0.1:${firstPeerPort}`);
      nodes.push(await startListeningProcess({ ...(options.cpu !== undefined ? { cpu: options.cpu } : {}), command: process.execPath, args, deadlineMs: options.deadlineMs }));
    }
    const urls = nodes.map((node) => node.url);
    await waitFormed(urls, options.deadlineMs);
    for (const table of options.tables) await createTable(urls[0]!, table);
    return { urls, peers, pids: nodes.map((node) => node.pid), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

interface ClusterView {
  ringVersion: number;
  pendingTransfers: number;
  members: { state: string }[];
}

async function waitFormed(urls: readonly string[], deadlineMs: number): Promise<void> {
  const deadline = performance.now() + deadlineMs;
  for (;;) {
    const views = await Promise.all(urls.map((url) => clusterView(url)));
    const formed = views.every((view) => view !== undefined && view.members.length === urls.length && view.members.every((m) => m.state === "up") && view.ringVersion === views[0]!.ringVersion && view.pendingTransfers === 0);
    if (formed) return;
    if (performance.now() > deadline) throw new Error(`the ${urls.length}-node cluster did not form within ${deadlineMs} ms: ${JSON.stringify(views)}`);
    await new Promise((resolve) => setTimeout(resolve, pollIntervalMs));
  }
}

async function clusterView(url: string): Promise<ClusterView | undefined> {
  try {
    const answer = await fetch(`${url}/v1/cluster`, { signal: AbortSignal.timeout(1000) });
    return answer.status === 200 ? ((await answer.json()) as ClusterView) : undefined;
  } catch {
    return undefined;
  }
}

async function createTable(url: string, table: BenchTableSpec): Promise<void> {
  const client = new ShoalHttpClient({ url });
  try {
    await client.createTable({ name: table.name, consistency: table.consistency, conflicts: table.conflicts, replication: table.replication });
  } catch (error) {
    if (!(error instanceof ShoalError && error.status === 409)) throw error;
  } finally {
    await client.close();
  }
}
