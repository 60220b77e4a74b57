import type { FaultCluster } from "./fault-cluster.js";
import { httpCall } from "./http-call.js";
import { waitFor } from "./wait-for.js";

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
/** How long the leave fault waits for the ring to settle (commit) and for the leaver to exit. */
const leaveDeadlineMs = 90_000;

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
  leave: {
    name: "leave",
    summary: "the last member to join leaves through a committed plan under load, then exits by itself",
    nodesMin: 3,
    async inject(cluster, note) {
      // Three members must stay for the n=3 tables: run it after "join".
      const running = cluster.members.filter((node) => node.running);
      const leaver = running.at(-1);
      if (leaver === undefined || running.length < 4) throw new Error(`the leave fault needs four running members (three stay for n=3); ${running.length} run: schedule it after join`);
      const via = running[0]!;
      const id = leaver.spec.nodeId;
      const staged = await httpCall({ method: "POST", url: `${via.url}/v1/cluster/plan`, headers: { "content-type": "application/json" }, body: JSON.stringify({ leave: id }), timeoutMs: 5000 });
      if (staged.kind !== "answer" || staged.status !== 200) throw new Error(`staging the leave of ${id} failed: ${JSON.stringify(staged)}`);
      note(`leave of ${id} staged through ${via.spec.nodeId}`);
      // A join just before may still be moving partitions: the commit is refused (409) until it settled.
      const { value: ringVersion, elapsedMs } = await waitFor(`the leave of ${id} to be committed`, async () => {
        const outcome = await httpCall({ method: "POST", url: `${via.url}/v1/cluster/commit`, timeoutMs: 5000 });
        return outcome.kind === "answer" && outcome.status === 200 ? (JSON.parse(outcome.body) as { ringVersion: number }).ringVersion : undefined;
      }, { deadlineMs: leaveDeadlineMs, pollMs: 500 });
      note(`leave of ${id} committed after ${elapsedMs} ms: ring version ${ringVersion}`);
      const exited = await waitFor(`${id} to hand off and exit`, () => Promise.resolve(!leaver.running), { deadlineMs: leaveDeadlineMs, pollMs: 200 });
      const logged = leaver.logs.some((line) => line.includes("left the cluster"));
      if (!logged) throw new Error(`${id} exited without logging that it left the cluster; last logs:\n${leaver.logs.slice(-10).join("\n")}`);
      note(`${id} handed off and exited ${exited.elapsedMs} ms after the commit`);
      // No longer a member: the ring checks and the convergence check leave it out, and a later
      // join may start it again as a spare (it rejoins from its data directory).
      leaver.everStarted = false;
    },
    async recover(_cluster, note) {
      note("the leaver stays gone");
    },
  },
};

/** Faults the full run cannot apply (none now); the runner reports them as skipped. */
export const skippedFaults: Readonly<Record<string, string>> = {};
