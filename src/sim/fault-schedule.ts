import { unreachable } from "../assert.js";
import type { NodeId } from "../runtime/network.js";
import type { FaultEvent, FaultPlan } from "./fault-plan.js";
import type { EventHandle, Scheduler } from "./scheduler.js";
import type { SimClock } from "./sim-clock.js";
import type { SimNetwork } from "./sim-network.js";

/**
 * Puts a FaultPlan on the scheduler for the safety phase, and `heal()` ends it for the
 * liveness phase (TESTING.md: "heal everything, keep the workload light, and require
 * convergence"): pending fault events are cancelled, cuts and clogs are lifted (held messages
 * go on), loss, duplication and jitter stop, and every crashed node is restarted. Clocks keep
 * their drift and the offsets their jumps left, as real clocks would.
 */
export interface FaultTarget {
  readonly scheduler: Scheduler;
  readonly network: SimNetwork;
  nodeIds(): NodeId[];
  isUp(nodeId: NodeId): boolean;
  crash(nodeId: NodeId): void;
  restart(nodeId: NodeId): Promise<void>;
  clock(nodeId: NodeId): SimClock;
}

export class FaultSchedule {
  private readonly pending: EventHandle[] = [];
  /** Fault events applied so far (for the failure report). */
  applied = 0;

  private constructor(
    readonly plan: FaultPlan,
    private readonly target: FaultTarget,
  ) {}

  /** Starts the plan now: its event times are relative to the current virtual time. */
  static start(plan: FaultPlan, target: FaultTarget): FaultSchedule {
    const schedule = new FaultSchedule(plan, target);
    target.network.setFaults(plan.network);
    const startMs = target.scheduler.now();
    for (const event of plan.events) {
      schedule.pending.push(target.scheduler.at(startMs + event.atMs, () => schedule.apply(event), `fault ${event.kind}`));
    }
    return schedule;
  }

  /** Ends the safety phase: no more faults, everything mended, crashed nodes restarted. */
  async heal(): Promise<void> {
    for (const handle of this.pending) this.target.scheduler.cancel(handle);
    this.pending.length = 0;
    this.target.network.heal();
    for (const nodeId of this.target.nodeIds()) if (!this.target.isUp(nodeId)) await this.target.restart(nodeId);
  }

  private apply(event: FaultEvent): void {
    this.applied++;
    const { network } = this.target;
    switch (event.kind) {
      case "partition": return network.partition(event.a, event.b);
      case "partitionOneWay": return network.partitionOneWay(event.from, event.to);
      case "bridge": return network.bridge(event.left, event.right, event.bridgeNode);
      case "healPartition": return network.links.healCuts();
      case "clogLink": return network.clogLink(event.from, event.to);
      case "unclogLink": return network.unclogLink(event.from, event.to);
      case "crash": return this.target.crash(event.nodeId);
      case "restart": return void this.target.restart(event.nodeId);
      case "clockJump": return this.target.clock(event.nodeId).jump(event.deltaMs);
      case "clockDrift": return this.target.clock(event.nodeId).setDriftPpm(event.driftPpm);
      default: return unreachable(event);
    }
  }
}
