import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FaultNode, type StartOptions } from "./fault-node.js";
import { httpCall } from "./http-call.js";
import { NamespaceNetwork } from "./namespace-network.js";
import { Partitions } from "./partitions.js";
import { waitFor } from "./wait-for.js";

/**
 * A Shoal cluster of real processes, one per network namespace: build the network, start the
 * first node alone and the others with `--join` to it, wait for one ring with every member up,
 * create the tables. `destroy()` kills every node, removes the network and the data, and is
 * safe to call after any failure (and twice).
 */
export interface FaultClusterOptions {
  nodes: number;
  /** Namespaces made ready for nodes that join later (not started). */
  spares?: number;
  cliPath: string;
  formDeadlineMs?: number;
}

export interface TableSpec {
  name: string;
  consistency: "eventual" | "strong";
  conflicts?: "siblings" | "lww";
  replication?: { n: number; r: number; w: number };
}

interface ClusterView {
  ringVersion: number;
  members: Array<{ id: string; state: string }>;
}

export class FaultCluster {
  readonly nodes: FaultNode[];
  readonly partitions: Partitions;
  private constructor(readonly network: NamespaceNetwork, readonly dataRoot: string, cliPath: string, founders: number) {
    this.partitions = new Partitions(network.namespaces, network.addresses);
    this.nodes = network.namespaces.map((namespace, index) => new FaultNode({
      index,
      nodeId: `n${index + 1}`,
      namespace,
      address: network.addresses[index]!,
      dataDir: join(dataRoot, `n${index + 1}`),
      cliPath,
      join: network.addresses.slice(0, founders).filter((address) => address !== network.addresses[index]).map((address) => `${address}:9000`),
    }));
  }

  static async start(options: FaultClusterOptions): Promise<FaultCluster> {
    const network = NamespaceNetwork.create({ nodes: options.nodes + (options.spares ?? 0) });
    const cluster = new FaultCluster(network, mkdtempSync(join(tmpdir(), `${network.tag}-data-`)), options.cliPath, options.nodes);
    try {
      // Every founding node starts at once with the others as seeds, so none claims a ring of
      // one and the first ring places them all: the node does not settle a ring in transition
      // yet (no ownership leader runs), so a join after the first ring change waits for good.
      await Promise.all(cluster.nodes.slice(0, options.nodes).map((node) => node.start()));
      await cluster.waitForRing(options.formDeadlineMs ?? 30_000);
      return cluster;
    } catch (error) {
      await cluster.destroy();
      throw error;
    }
  }

  /** Nodes started at least once (spares join later). */
  get members(): FaultNode[] {
    return this.nodes.filter((node) => node.everStarted);
  }

  get urls(): string[] {
    return this.members.map((node) => node.url);
  }

  async view(node: FaultNode): Promise<ClusterView | undefined> {
    const outcome = await httpCall({ method: "GET", url: `${node.url}/v1/cluster`, timeoutMs: 2000 });
    if (outcome.kind !== "answer" || outcome.status !== 200) return undefined;
    return JSON.parse(outcome.body) as ClusterView;
  }

  /** Waits until every member answers and sees every member up in one ring version. */
  async waitForRing(deadlineMs: number): Promise<number> {
    let last = "";
    const members = this.members;
    const ids = members.map((node) => node.spec.nodeId);
    const { elapsedMs } = await waitFor("every node to see one ring with all members up", async () => {
      const views = await Promise.all(members.map((node) => this.view(node)));
      last = JSON.stringify(views.map((v) => v && { ring: v.ringVersion, members: v.members.map((m) => `${m.id}:${m.state}`) }));
      if (views.some((v) => v === undefined)) return false;
      const version = views[0]!.ringVersion;
      return views.every((v) => v!.ringVersion === version && ids.every((id) => v!.members.find((m) => m.id === id)?.state === "up"));
    }, { deadlineMs, describe: () => last });
    return elapsedMs;
  }

  /** Creates a table through the first node and waits until every node knows it. */
  async createTable(spec: TableSpec, deadlineMs = 20_000): Promise<void> {
    const body = JSON.stringify({ name: spec.name, consistency: spec.consistency, ...(spec.conflicts ? { conflicts: spec.conflicts } : {}), replication: spec.replication ?? { n: 3, r: 2, w: 2 } });
    const outcome = await httpCall({ method: "POST", url: `${this.nodes[0]!.url}/v1/tables`, headers: { "content-type": "application/json" }, body, timeoutMs: 10_000 });
    if (outcome.kind !== "answer" || outcome.status >= 300) throw new Error(`creating table ${spec.name} failed: ${JSON.stringify(outcome)}`);
    await waitFor(`every node to know table ${spec.name}`, async () => {
      const answers = await Promise.all(this.members.map((node) => httpCall({ method: "GET", url: `${node.url}/v1/tables/${spec.name}`, timeoutMs: 2000 })));
      return answers.every((a) => a.kind === "answer" && a.status === 200);
    }, { deadlineMs });
  }

  async restart(node: FaultNode, options: StartOptions = {}): Promise<void> {
    await node.kill();
    await node.start(options);
  }

  /** Heals partitions and resumes paused nodes; starts nothing. */
  heal(): void {
    this.partitions.heal();
    for (const node of this.nodes) if (node.running && node.stopped) node.signal("SIGCONT");
  }

  async destroy(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.kill().catch(() => undefined)));
    this.network.destroy();
    rmSync(this.dataRoot, { recursive: true, force: true });
  }
}
