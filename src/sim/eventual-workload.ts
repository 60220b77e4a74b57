import type { EventualWrite } from "../checker/eventual-checker.js";
import type { EventualCoordinator } from "../coordinator/eventual-coordinator.js";
import type { Quorum } from "../coordinator/quorum-options.js";
import type { NodeId } from "../runtime/network.js";
import type { Random } from "../runtime/runtime.js";
import { encodeItemKey } from "../storage/item-key.js";
import type { Dot, VersionVector } from "../versioning/version-vector.js";
import type { Simulation } from "./simulation.js";

/**
 * The eventual scenario's clients (TESTING.md, "The workload is concurrent clients doing
 * put/get/delete with contexts"): each loops until its end time, through a random running node:
 * read-then-write with the read's context, blind writes (no context: a sibling), read-then-
 * delete, and plain reads. Every write is recorded for the checker with the context it carried;
 * an acknowledged put also with the dot its coordinator assigned. A write is recorded (as
 * unacknowledged) when it is sent, and marked acknowledged when its answer comes. A request that gets no answer
 * within `clientTimeoutMs` (its node crashed, or it is still waiting on replicas) is recorded
 * as unacknowledged: it may or may not have landed.
 */
export interface EventualWorkloadOptions {
  sim: Simulation;
  coordinatorOf: (node: NodeId) => EventualCoordinator | undefined;
  /** The nodes a client may call (the caller may change the array as nodes join and leave). */
  nodeIds: readonly NodeId[];
  /** Whether a client may call `node` now (default: any running node). */
  eligible?: (node: NodeId) => boolean;
  keys: readonly string[];
  quorum: Quorum;
  thinkMsMax: number;
  clientTimeoutMs: number;
}

export const EVENTUAL_TABLE_ID = 1;

const encoder = new TextEncoder();

export function itemKeyOf(key: string): Uint8Array {
  return encodeItemKey(EVENTUAL_TABLE_ID, encoder.encode(key));
}

export class EventualWorkload {
  readonly writes: EventualWrite<Dot, VersionVector>[] = [];
  reads = 0;
  readsOk = 0;
  /** Writes sent whose outcome (acknowledgement, failure or client timeout) is not known yet. */
  writesInFlight = 0;
  private sequence = 0;

  constructor(private readonly options: EventualWorkloadOptions) {}

  /** One client's loop; resolves at `endMs` (virtual). */
  async client(clientId: string, random: Random, endMs: number): Promise<void> {
    const { sim } = this.options;
    while (sim.now() < endMs) {
      await this.sleep(1 + random.int(this.options.thinkMsMax));
      if (sim.now() >= endMs) return;
      const eligible = this.options.eligible ?? (() => true);
      const running = this.options.nodeIds.filter((id) => sim.isUp(id) && eligible(id));
      if (running.length === 0) continue;
      const coordinator = this.options.coordinatorOf(running[random.int(running.length)]!);
      if (coordinator === undefined) continue;
      const key = this.options.keys[random.int(this.options.keys.length)]!;
      const roll = random.next();
      if (roll < 0.4) await this.readThenWrite(coordinator, clientId, key, "put");
      else if (roll < 0.7) await this.write(coordinator, clientId, key, "put", undefined);
      else if (roll < 0.85) await this.readThenWrite(coordinator, clientId, key, "delete");
      else await this.read(coordinator, key);
    }
  }

  private async readThenWrite(coordinator: EventualCoordinator, clientId: string, key: string, kind: "put" | "delete"): Promise<void> {
    const context = await this.read(coordinator, key);
    if (context === undefined) return;
    await this.write(coordinator, clientId, key, kind, context);
  }

  /** A quorum read; the context it returned, or undefined when it failed. */
  private async read(coordinator: EventualCoordinator, key: string): Promise<VersionVector | undefined> {
    this.reads++;
    const result = await this.withDeadline(coordinator.get(itemKeyOf(key), this.options.quorum, false));
    if (result === undefined || !result.ok) return undefined;
    this.readsOk++;
    return result.context;
  }

  private async write(coordinator: EventualCoordinator, clientId: string, key: string, kind: "put" | "delete", context: VersionVector | undefined): Promise<void> {
    const id = ++this.sequence;
    const value = `${clientId}#${id}`;
    const request = { key: itemKeyOf(key), context, quorum: this.options.quorum, lww: false };
    const proposal = { value: encoder.encode(value), contentType: "text/plain", metadata: [], tombstone: false, expiresAtMs: null };
    const work = kind === "put" ? coordinator.put({ ...request, proposal }) : coordinator.delete(request);
    // Recorded before it is sent, as unacknowledged: a check that runs while it is still in
    // flight must know it exists (it may land, and a later write may have seen it).
    const record: EventualWrite<Dot, VersionVector> = { id, client: clientId, key, kind, ...(kind === "put" ? { value } : {}), context: context ?? [], acknowledged: false };
    const at = this.writes.push(record) - 1;
    this.writesInFlight++;
    const result = await this.withDeadline(work);
    this.writesInFlight--;
    if (result !== undefined && result.ok) this.writes[at] = { ...record, dot: result.dot, acknowledged: true };
  }

  private sleep(delayMs: number): Promise<void> {
    return new Promise((resolve) => this.options.sim.scheduler.at(this.options.sim.now() + delayMs, resolve, "client think"));
  }

  /** The outcome, or undefined when no answer came within the client's timeout. */
  private withDeadline<T>(work: Promise<T>): Promise<T | undefined> {
    const { scheduler } = this.options.sim;
    return new Promise((resolve) => {
      const timer = scheduler.at(scheduler.now() + this.options.clientTimeoutMs, () => resolve(undefined), "client timeout");
      void work.then((value) => {
        scheduler.cancel(timer);
        resolve(value);
      });
    });
  }
}
