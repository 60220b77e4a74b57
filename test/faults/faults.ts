import type { FaultCluster } from "./fault-cluster.js";

/**
 * The faults a run applies one after another to one cluster (issue 6, item 2; Jepsen's
 * nemeses): each injects, holds while the load runs, then recovers. A fault names the nodes it
 * needs; `note` puts a line on the run's timeline. Nodes are 0-based here, n1.. in reports.
 */
export interface Fault {
  readonly name: string;
  readonly summary: string;
  /** Started nodes the fault needs. */
  readonly nodesMin: number;
  /** Spare namespaces it starts nodes in. */
  readonly sparesNeeded?: number;
  inject(cluster: FaultCluster, note: (line: string) => void): Promise<void>;
  recover(cluster: FaultCluster, note: (line: string) => void): Promise<void>;
}

const skew = "+40s";
const backSkew = "-35s";

export const faults: Readonly<Record<string, Fault>> = {
  kill: {
    name: "kill",
    summary: "SIGKILL n2, restart it on the same data directory",
    nodesMin: 3,
    async inject(cluster, note) {
      await cluster.nodes[1]!.kill();
      note("n2 killed with SIGKILL");
    },
    async recover(cluster, note) {
      await cluster.nodes[1]!.start();
      note("n2 restarted");
    },
  },
  isolate: {
    name: "isolate",
    summary: "iptables DROP between n1 and every other node (clients still reach n1)",
    nodesMin: 3,
    async inject(cluster, note) {
      cluster.partitions.split([[0], cluster.members.slice(1).map((n) => n.spec.index)]);
      note(`partitioned: ${cluster.partitions.describe()}`);
    },
    async recover(cluster, note) {
      cluster.partitions.heal();
      note("partition healed");
    },
  },
  split: {
    name: "split",
    summary: "majority/minority: {n1,n2} | {n3,n4,n5}",
    nodesMin: 5,
    async inject(cluster, note) {
      cluster.partitions.split([[0, 1], [2, 3, 4]]);
      note(`partitioned: ${cluster.partitions.describe()}`);
    },
    async recover(cluster, note) {
      cluster.partitions.heal();
      note("partition healed");
    },
  },
  bridge: {
    name: "bridge",
    summary: "bridge: {n1,n2} | {n4,n5}, n3 sees both halves",
    nodesMin: 5,
    async inject(cluster, note) {
      cluster.partitions.split([[0, 1], [3, 4]]);
      note(`partitioned: ${cluster.partitions.describe()}`);
    },
    async recover(cluster, note) {
      cluster.partitions.heal();
      note("partition healed");
    },
  },
  loss: {
    name: "loss",
    summary: "every node drops 20% of the packets it receives from other nodes",
    nodesMin: 3,
    async inject(cluster, note) {
      cluster.partitions.lossy(0.2);
      note(`lossy links: ${cluster.partitions.describe()}`);
    },
    async recover(cluster, note) {
      cluster.partitions.heal();
      note("loss healed");
    },
  },
  pause: {
    name: "pause",
    summary: "SIGSTOP n3 (it accepts TCP handshakes and answers nothing), then SIGCONT",
    nodesMin: 3,
    async inject(cluster, note) {
      cluster.nodes[2]!.signal("SIGSTOP");
      note("n3 paused with SIGSTOP");
    },
    async recover(cluster, note) {
      cluster.nodes[2]!.signal("SIGCONT");
      note("n3 resumed with SIGCONT");
    },
  },
  skew: {
    name: "skew",
    summary: `restart n2 under libfaketime ${skew} and n3 under ${backSkew}; they stay skewed to the end`,
    nodesMin: 3,
    async inject(cluster, note) {
      await cluster.restart(cluster.nodes[1]!, { faketime: skew });
      note(`n2 restarted with its clock at ${skew}`);
      await cluster.restart(cluster.nodes[2]!, { faketime: backSkew });
      note(`n3 restarted with its clock at ${backSkew}`);
    },
    async recover(_cluster, note) {
      note("clocks stay skewed");
    },
  },
  join: {
    name: "join",
    summary: "start a new node that joins the cluster under load",
    nodesMin: 3,
    sparesNeeded: 1,
    async inject(cluster, note) {
      const spare = cluster.nodes.find((node) => !node.everStarted);
      if (spare === undefined) throw new Error("the join fault needs a spare namespace; the cluster has none");
      await spare.start();
      note(`${spare.spec.nodeId} started, joining the founders`);
    },
    async recover(_cluster, note) {
      note("the joined node stays");
    },
  },
};

/** Leave is not in the node yet (no CLI command or endpoint); the runner reports it skipped. */
export const skippedFaults: Readonly<Record<string, string>> = {
  leave: "skipped: Shoal has no leave/decommission command or endpoint yet (src/cli has start, no leave)",
};
