import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { clusterView, type ClusterView } from "./elastic-http.js";
import { shoalCliPath } from "./paths.js";
import { freePort } from "./redis-system.js";
import { startListeningProcess, type ServerProcess } from "./server-process.js";

/**
 * `shoal start` processes on loopback for the elastic benchmark: a founding node, others
 * joining it, and later joiners (the fourth node). Settings the benchmark varies (anti-entropy
 * on or off) reach the nodes through their environment (SHOAL_ANTI_ENTROPY*), as an operator's
 * would. Every node is pinned to `cpu` when given; `stop()` ends them all and removes the data.
 */
export interface ElasticNode {
  readonly index: number;
  readonly url: string;
  readonly peer: string;
  readonly pid: number;
  readonly dataDir: string;
  readonly process: ServerProcess;
}

export interface ElasticClusterOptions {
  members: number;
  env?: Record<string, string>;
  cpu?: number;
  deadlineMs: number;
}

const pollMs = 200;

export class ElasticCluster {
  readonly nodes: ElasticNode[] = [];
  private constructor(readonly dir: string, private readonly options: ElasticClusterOptions) {}

  static async start(options: ElasticClusterOptions): Promise<ElasticCluster> {
    const cluster = new ElasticCluster(mkdtempSync(join(tmpdir(), "shoal-bench-elastic-")), options);
    try {
      for (let i = 0; i < options.members; i++) await cluster.spawn();
      await cluster.waitSettled(options.deadlineMs);
      return cluster;
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }

  get urls(): string[] {
    return this.nodes.map((node) => node.url);
  }

  get pids(): number[] {
    return this.nodes.map((node) => node.pid);
  }

  /** Starts one more node joining the first; resolves once it listens (not once it holds data). */
  async spawn(): Promise<ElasticNode> {
    const index = this.nodes.length;
    const peerPort = await freePort();
    const dataDir = join(this.dir, `node-${index + 1}`);
    const args = [shoalCliPath, "start", "--port", "0", "--peer-port", String(peerPort), "--data-dir", dataDir, "--node-id", `e${index + 1}`, "--log-level", "info"];
    if (index > 0) args.push("--join", this.nodes[0]!.peer);
    // The child inherits the environment at spawn, which happens synchronously in the call.
    const saved = new Map(Object.keys(this.options.env ?? {}).map((key) => [key, process.env[key]]));
    Object.assign(process.env, this.options.env ?? {});
    let started: Promise<ServerProcess>;
    try {
      started = startListeningProcess({ ...(this.options.cpu !== undefined ? { cpu: this.options.cpu } : {}), command: process.execPath, args, deadlineMs: this.options.deadlineMs });
    } finally {
      for (const [key, value] of saved) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
    const server = await started;
    const node = { index, url: server.url, peer: `127.0.0.1:${peerPort}`, pid: server.pid, dataDir, process: server };
    this.nodes.push(node);
    return node;
  }

  /** Every node answers, sees every node up in one ring version, and no partition is moving. */
  async settled(): Promise<{ settled: boolean; views: (ClusterView | undefined)[] }> {
    const views = await Promise.all(this.urls.map((url) => clusterView(url)));
    const count = this.nodes.length;
    const settled = views.every((view) => view !== undefined && view.members.length === count && view.members.every((m) => m.state === "up") && view.ringVersion === views[0]!.ringVersion && view.pendingTransfers === 0 && view.members.every((m) => m.partitions > 0));
    return { settled, views };
  }

  async waitSettled(deadlineMs: number): Promise<number> {
    const started = performance.now();
    for (;;) {
      const { settled, views } = await this.settled();
      if (settled) return performance.now() - started;
      if (performance.now() - started > deadlineMs) throw new Error(`the ${this.nodes.length}-node cluster did not settle within ${deadlineMs} ms: ${JSON.stringify(views)}`);
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.process.stop()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
