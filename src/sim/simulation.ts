import { assert } from "../assert.js";
import { ShoalError } from "../errors.js";
import { MemoryStorageEngine } from "../storage/memory-storage-engine.js";
import type { NodeId } from "../runtime/network.js";
import type { SeededRandom } from "../runtime/seeded-random.js";
import { forkRandom } from "./fork-random.js";
import { Scheduler, schedulerDefaults, type RunOptions, type RunResult, type RunTarget, type SchedulerOptions } from "./scheduler.js";
import { SimClock, type SimClockOptions } from "./sim-clock.js";
import { SimNetwork, simNetworkDefaults, type SimNetworkOptions } from "./sim-network.js";
import { SimNode, type CrashableEngine, type StartNode } from "./sim-node.js";
import type { SimStorageOptions } from "./sim-storage.js";
import { Trace } from "./trace.js";

/**
 * One simulated world from one seed (TESTING.md, "The simulator"): the scheduler, the network,
 * and the machines (SimNode) of a cluster, each with its clock, disk and process. Every
 * random choice comes from a stream forked from the seed by name, so a run replays exactly.
 *
 * Example:
 *   const sim = new Simulation({ seed: 42 });
 *   for (const id of ["n1", "n2", "n3"]) sim.addNode(id, (runtime) => MyNode.open(runtime));
 *   await sim.bootAll();
 *   await sim.runUntil(60_000);
 *   sim.crash("n2"); await sim.restart("n2");
 *   console.log(sim.traceHash());
 */
export interface SimulationOptions {
  seed: number;
  scheduler?: Omit<SchedulerOptions, "trace">;
  network?: Omit<SimNetworkOptions, "random">;
  storage?: Omit<SimStorageOptions, "random" | "nodeId">;
  /** Trace lines kept for diffing two runs (0 by default). */
  traceLinesMax?: number;
  clockSkewMaxMs?: number;
  /** Errors recorded from simulated code before the run refuses more (they are kept, not thrown). */
  errorsMax?: number;
}

export interface AddNodeOptions {
  clock?: SimClockOptions;
  /** The machine's disk; a MemoryStorageEngine by default. */
  engine?: CrashableEngine;
}

export class Simulation {
  readonly seed: number;
  readonly scheduler: Scheduler;
  readonly network: SimNetwork;
  private readonly machines = new Map<NodeId, SimNode<unknown>>();
  private readonly errorsValue: string[] = [];
  private readonly errorsMax: number;

  constructor(private readonly options: SimulationOptions) {
    this.seed = options.seed;
    this.scheduler = new Scheduler({ ...options.scheduler, trace: new Trace({ linesMax: options.traceLinesMax ?? 0 }) });
    this.network = new SimNetwork(this.scheduler, { ...options.network, random: this.fork("network") });
    this.errorsMax = options.errorsMax ?? 100;
    const queuedMax = options.scheduler?.eventsQueuedMax ?? schedulerDefaults.eventsQueuedMax;
    const messagesMax = (options.network?.inFlightMax ?? simNetworkDefaults.inFlightMax) + (options.network?.heldMax ?? simNetworkDefaults.heldMax);
    assert(messagesMax < queuedMax, `the network may hold ${messagesMax} messages but the scheduler queues only ${queuedMax} events`);
  }

  /** A random stream of its own for a named part of the run (workload, faults, ...). */
  fork(label: string): SeededRandom {
    return forkRandom(this.seed, label);
  }

  /** Adds a machine; it runs nothing until `boot`. */
  addNode<N>(nodeId: NodeId, start: StartNode<N>, options: AddNodeOptions = {}): SimNode<N> {
    assert(!this.machines.has(nodeId), `node ${nodeId} already exists`);
    const node = new SimNode<N>(nodeId, start, {
      clock: new SimClock(this.scheduler, options.clock),
      engine: options.engine ?? new MemoryStorageEngine(),
      runtimeOptions: {
        seed: this.seed,
        scheduler: this.scheduler,
        network: this.network,
        ...(this.options.clockSkewMaxMs !== undefined ? { clockSkewMaxMs: this.options.clockSkewMaxMs } : {}),
        ...(this.options.storage !== undefined ? { storage: this.options.storage } : {}),
      },
    });
    this.machines.set(nodeId, node as SimNode<unknown>);
    return node;
  }

  node<N = unknown>(nodeId: NodeId): SimNode<N> {
    const node = this.machines.get(nodeId);
    assert(node !== undefined, `no simulated node ${nodeId}`);
    return node as SimNode<N>;
  }

  nodeIds(): NodeId[] {
    return [...this.machines.keys()];
  }

  /** Boots every machine that is not running, in the order they were added. */
  async bootAll(): Promise<void> {
    for (const node of this.machines.values()) if (!node.up) await this.drive(node.boot());
  }

  crash(nodeId: NodeId): void {
    this.node(nodeId).crash();
  }

  /** Boots a crashed machine again; failures are recorded as errors, not thrown. */
  async restart(nodeId: NodeId): Promise<void> {
    const node = this.node(nodeId);
    if (node.up) return;
    try {
      await this.drive(node.boot());
    } catch (error) {
      this.recordError(`node ${nodeId} failed to restart: ${String(error)}`);
    }
  }

  isUp(nodeId: NodeId): boolean {
    return this.node(nodeId).up;
  }

  clock(nodeId: NodeId): SimClock {
    return this.node(nodeId).clock;
  }

  /**
   * Watches a promise the workload does not await (a client loop, a background task): a
   * rejection becomes a recorded error instead of an unhandled rejection that kills the run.
   */
  guard(label: string, work: Promise<unknown>): void {
    work.catch((error: unknown) => this.recordError(`${label}: ${error instanceof Error ? error.message : String(error)}`));
  }

  /** Keeps an error from simulated code for the scenario's verdict (bounded). */
  recordError(message: string): void {
    if (this.errorsValue.length < this.errorsMax) this.errorsValue.push(`${this.scheduler.now()} ms: ${message}`);
  }

  get errors(): readonly string[] {
    return this.errorsValue;
  }

  /**
   * Runs the world until `work` settles and returns its outcome: how a test or a workload
   * awaits something that needs virtual time to pass (a request, a durable write).
   */
  async settle<T>(work: Promise<T>, options?: RunOptions): Promise<T> {
    let settled = false;
    work.then(
      () => (settled = true),
      () => (settled = true),
    );
    const result = await this.scheduler.runUntil(() => settled, options);
    if (!settled) {
      throw new ShoalError("SimNotSettled", 500, `cannot settle the awaited work: the run stopped (${result.reason}) at ${result.nowMs} ms after ${result.steps} events`);
    }
    return work;
  }

  /**
   * Work that may need virtual time (a node whose start writes to its disk): inside an event
   * the running scheduler will carry it; from outside, run the world until it settles.
   */
  private drive<T>(work: Promise<T>): Promise<T> {
    return this.scheduler.isRunning ? work : this.settle(work);
  }

  runUntil(target: RunTarget, options?: RunOptions): Promise<RunResult> {
    return this.scheduler.runUntil(target, options);
  }

  now(): number {
    return this.scheduler.now();
  }

  traceHash(): string {
    return this.scheduler.trace.hex();
  }
}
