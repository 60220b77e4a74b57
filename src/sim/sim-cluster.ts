import { planRing, type RingPlanChange } from "../ring/ring-plan.js";
import { preferenceList } from "../ring/preference-list.js";
import type { RingState } from "../ring/ring-state.js";
import type { NodeId } from "../runtime/network.js";
import { ClusterNode, type ClusterNodeOptions } from "./cluster-node.js";
import type { FaultTarget } from "./fault-schedule.js";
import type { RingChange } from "./ring-changes.js";
import type { Simulation } from "./simulation.js";

/**
 * The simulated cluster as its membership changes (issue 6): which nodes are live (the
 * workload's and the checks' nodes), which left or were replaced for good (retired: never
 * restarted, not checked), and the ring change of the seed, applied the way an operator and the
 * real node apply it (ring-changes.ts). The fault schedule gets `faultTarget()`, which leaves
 * retired nodes alone (a crash-and-restart episode must not bring back a node that left).
 */
export interface SimClusterOptions {
  sim: Simulation;
  /** A node's options; `joining` for a node that starts after the cluster formed (no ring). */
  nodeOptions: (id: NodeId, joining: boolean) => Omit<ClusterNodeOptions, "leaving" | "committed">;
}

/** How often a ring change looks again whether it can go on (virtual ms). */
const ringChangePollMs = 100;
/** How long a leaver hands its hints on before it stops regardless (virtual ms). */
const leaveDrainMaxMs = 20_000;

export class SimCluster {
  /** Live nodes, in the order they joined: what the workload may call and the checks cover. */
  readonly live: NodeId[] = [];
  readonly retired = new Set<NodeId>();
  private readonly leaving = new Set<NodeId>();
  /**
   * The plan changes committed so far, as every node's copy of the plan record would hold them
   * (node/cluster-plan.ts): each leader's claim hook builds those its ring does not show yet.
   */
  private readonly committed: RingPlanChange[] = [];
  /** The ring change's progress, for the summary. */
  ringChangeStatus = "none";
  /** Hints a leaver still held when it stopped (its drain timed out): undefined when none. */
  abandonedHints: number | string | undefined;

  constructor(private readonly options: SimClusterOptions) {}

  get sim(): Simulation {
    return this.options.sim;
  }

  /** Adds a machine running a ClusterNode (not booted). */
  add(id: NodeId, joining: boolean): void {
    this.sim.addNode(id, (runtime) => ClusterNode.open(runtime, { ...this.options.nodeOptions(id, joining), leaving: () => this.leaving.has(id), committed: () => this.committed }));
    this.live.push(id);
  }

  nodeOf(id: NodeId): ClusterNode | undefined {
    return !this.retired.has(id) && this.sim.isUp(id) ? this.sim.node<ClusterNode>(id).instance : undefined;
  }

  /** The simulation as a fault target that never restarts (or crashes) a retired node. */
  faultTarget(): FaultTarget {
    const { sim } = this;
    return {
      scheduler: sim.scheduler,
      network: sim.network,
      nodeIds: () => sim.nodeIds().filter((id) => !this.retired.has(id)),
      isUp: (id) => sim.isUp(id),
      crash: (id) => (this.retired.has(id) ? undefined : sim.crash(id)),
      restart: (id) => (this.retired.has(id) ? Promise.resolve() : sim.restart(id)),
      clock: (id) => sim.clock(id),
    };
  }

  /** Stops a node for good. */
  retire(id: NodeId): void {
    this.sim.crash(id);
    this.retired.add(id);
    const at = this.live.indexOf(id);
    if (at >= 0) this.live.splice(at, 1);
  }

  /**
   * Applies `change` from now until it is done or `deadlineMs` (virtual) passes; resolves with
   * a problem, or undefined. Runs inside the simulation (give it to sim.guard).
   */
  async applyRingChange(change: RingChange, deadlineMs: number): Promise<string | undefined> {
    this.ringChangeStatus = "started";
    if (change.kind === "join") {
      this.add(change.node, true);
      await this.sim.restart(change.node);
      this.ringChangeStatus = "joiner started";
      return undefined;
    }
    if (change.kind === "replace") {
      this.retire(change.node);
      const published = await this.commit({ replace: [change.node, change.by] }, deadlineMs);
      if (published !== undefined) return published;
      this.add(change.by, true);
      await this.sim.restart(change.by);
      this.ringChangeStatus = "replacement started";
      return undefined;
    }
    const published = await this.commit({ leave: change.node }, deadlineMs);
    if (published !== undefined) return published;
    this.leaving.add(change.node);
    this.nodeOf(change.node)?.leave();
    for (;;) {
      if (this.settledWithout(change.node)) return this.drainAndRetire(change.node);
      if (this.sim.now() >= deadlineMs) return `the ring never settled without the leaver ${change.node}`;
      await this.sleep(ringChangePollMs);
    }
  }

  /**
   * As the real node does before it exits (node-cluster.ts, beforeLeave): the leaver hands its
   * hints on (HintDelivery draining, every incarnation of it) until it holds none, then stops
   * for good; after leaveDrainMaxMs it stops anyway and what it still held is `abandonedHints`.
   */
  private async drainAndRetire(id: NodeId): Promise<undefined> {
    const untilMs = this.sim.now() + leaveDrainMaxMs;
    for (;;) {
      const node = this.nodeOf(id);
      node?.delivery.startDraining();
      const held = node === undefined ? undefined : [...node.hints.countByTarget().values()].reduce((sum, count) => sum + count, 0);
      if (held === 0 || this.sim.now() >= untilMs) {
        if (held !== 0) this.abandonedHints = held ?? "unknown (the leaver was down at the drain's deadline)";
        this.retire(id);
        this.ringChangeStatus = held === 0 ? "leaver drained its hints and stopped" : "leaver stopped with hints left";
        return undefined;
      }
      await this.sleep(ringChangePollMs);
    }
  }

  /**
   * Commits one planned change as an operator would (POST /v1/cluster/plan, then commit): the
   * ring leader plans it on its settled ring and publishes the ring in transition as its own.
   */
  private async commit(change: RingPlanChange, deadlineMs: number): Promise<string | undefined> {
    for (;;) {
      const leader = this.live.map((id) => this.nodeOf(id)).find((node) => node !== undefined && node.membership.leader() === node.membership.self.id);
      const ring = leader?.membership.ring();
      if (leader !== undefined && ring !== undefined && ring.previous === undefined) {
        const planned = planRing(ring, [change]);
        if (!planned.ok) return `the plan ${JSON.stringify(change)} failed on ring ${ring.version}: ${planned.error}`;
        const self = leader.membership.self.id;
        this.committed.push(change);
        // Decided by the ring's members first; a lost or failed round leaves it to the claim hook (committed).
        void leader.membership.publish(planned.ring);
        this.ringChangeStatus = `committed as ring ${planned.ring.version} by ${self}`;
        return undefined;
      }
      if (this.sim.now() >= deadlineMs) return `no leader with a settled ring to commit ${JSON.stringify(change)} before ${deadlineMs} ms`;
      await this.sleep(ringChangePollMs);
    }
  }

  /** Every other live node runs a settled ring without `id`. */
  private settledWithout(id: NodeId): boolean {
    return this.live.every((other) => {
      if (other === id) return true;
      const ring = this.nodeOf(other)?.membership.ring();
      return ring !== undefined && ring.previous === undefined && !ring.members.some((m) => m.id === id);
    });
  }

  /**
   * Undefined when every live node runs and holds the same settled ring (no `previous`) whose
   * members are exactly the live nodes; else what is not so.
   */
  ringProblem(): string | undefined {
    let first: RingState | undefined;
    for (const id of this.live) {
      const ring = this.nodeOf(id)?.membership.ring();
      if (ring === undefined) return `${id} is down or has no ring`;
      if (ring.previous !== undefined) return `${id} still holds ring ${ring.version} in transition`;
      first ??= ring;
      if (ring.version !== first.version) return `${id} holds ring ${ring.version}, ${this.live[0]} ring ${first.version}`;
    }
    if (first === undefined) return "no live node";
    const members = first.members.map((m) => m.id).sort();
    const live = [...this.live].sort();
    if (members.join(",") !== live.join(",")) return `ring ${first.version} places [${members.join(", ")}], the live nodes are [${live.join(", ")}]`;
    return undefined;
  }

  /** The settled ring every live node holds (call after ringProblem() is undefined). */
  settledRing(): RingState {
    return this.nodeOf(this.live[0]!)!.membership.ring()!;
  }

  /**
   * Undefined when, for every partition of `ring`, its n replicas report equal Merkle roots
   * for the tree (partition, n); else the first partition that differs.
   */
  rootsProblem(ring: RingState, n: number): string | undefined {
    for (let partition = 0; partition < ring.partitionCount; partition++) {
      const replicas = preferenceList(ring, partition, Math.min(n, ring.members.length));
      const roots = replicas.map((id) => {
        const ae = this.nodeOf(id)?.antiEntropy;
        return ae === undefined ? undefined : Buffer.from(ae.rootOf({ partition, n })).toString("hex");
      });
      if (roots.some((root) => root === undefined)) return `partition ${partition}: a replica of [${replicas.join(", ")}] is down or runs no anti-entropy`;
      if (roots.some((root) => root !== roots[0])) return `partition ${partition}: roots differ on [${replicas.join(", ")}]: ${roots.join(" ")}`;
    }
    return undefined;
  }

  private sleep(delayMs: number): Promise<void> {
    return new Promise((resolve) => this.sim.scheduler.at(this.sim.now() + delayMs, resolve, "ring change wait"));
  }
}
