import { assert } from "../assert.js";
import type { StorageEngine } from "../storage/storage-engine.js";
import type { SimClock } from "./sim-clock.js";
import { createSimRuntime, killSimRuntime, type SimRuntime, type SimRuntimeOptions } from "./sim-runtime.js";

/**
 * A simulated machine: a clock and a disk that persist, and a process (an incarnation) that
 * can crash and be started again from what the disk kept. `start` is the product's own
 * constructor path (e.g. `ShoalNode.open(runtime)`): the simulator builds the node the way a
 * real process would, and a restarted node has only its durable storage to recover from.
 */
export type StartNode<N> = (runtime: SimRuntime) => N | Promise<N>;

/** A storage engine that can lose what was not durable (MemoryStorageEngine). */
export interface CrashableEngine extends StorageEngine {
  crash?(): void;
}

export interface SimNodeParts {
  clock: SimClock;
  engine: CrashableEngine;
  runtimeOptions: Omit<SimRuntimeOptions, "nodeId" | "incarnation" | "clock" | "engine">;
}

export class SimNode<N = unknown> {
  private runtimeValue: SimRuntime | undefined;
  private instanceValue: N | undefined;
  private incarnations = 0;
  private upValue = false;

  constructor(
    readonly id: string,
    private readonly start: StartNode<N>,
    private readonly parts: SimNodeParts,
  ) {}

  get clock(): SimClock {
    return this.parts.clock;
  }

  /** The machine's disk, across incarnations. */
  get engine(): CrashableEngine {
    return this.parts.engine;
  }

  /** Whether a process is running (started and not crashed). */
  get up(): boolean {
    return this.upValue;
  }

  /** Incarnations started so far (1 after the first boot). */
  get incarnation(): number {
    return this.incarnations;
  }

  /** The running incarnation's runtime. */
  get runtime(): SimRuntime | undefined {
    return this.upValue ? this.runtimeValue : undefined;
  }

  /** The running incarnation's node object (undefined while down or still starting). */
  get instance(): N | undefined {
    return this.upValue ? this.instanceValue : undefined;
  }

  /** Boots a new incarnation from the disk. */
  async boot(): Promise<N> {
    assert(!this.upValue, `node ${this.id} is already running`);
    this.incarnations++;
    const runtime = createSimRuntime({
      ...this.parts.runtimeOptions,
      nodeId: this.id,
      incarnation: this.incarnations,
      clock: this.parts.clock,
      engine: this.parts.engine,
    });
    this.runtimeValue = runtime;
    this.instanceValue = undefined;
    this.upValue = true;
    const instance = await this.start(runtime);
    if (this.runtimeValue === runtime && this.upValue) this.instanceValue = instance;
    return instance;
  }

  /**
   * Kills the process (kill -9 and a power cut together): timers dropped, endpoint down,
   * pending storage acknowledgements lost, and the disk rolled back to what was durable.
   */
  crash(): void {
    if (!this.upValue || this.runtimeValue === undefined) return;
    killSimRuntime(this.runtimeValue);
    this.parts.engine.crash?.();
    this.upValue = false;
    this.instanceValue = undefined;
  }
}
