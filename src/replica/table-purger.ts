import type { Timers } from "../runtime/runtime.js";
import type { TableCatalog } from "../catalog/table-catalog.js";
import { tableItemsPrefix } from "../storage/item-key.js";
import { BackgroundTask } from "./background-task.js";

/**
 * Deletes the items of dropped tables in the background, `batchMax` keys per step
 * (limits.dropTableBatchMax), so dropping a big table never blocks the event loop. The list of
 * dropped ids is persisted by the catalog, so a purge interrupted by a restart resumes.
 */
export interface TablePurgerOptions {
  timers: Timers;
  /** The replica (ReplicaService.purgeStep). */
  store: { purgeStep(prefix: Uint8Array, limit: number): Promise<number> };
  catalog: TableCatalog;
  batchMax: number;
  /** How often to look for work when idle; a drop also kicks the purger at once. */
  idleDelayMs: number;
  onError: (error: unknown) => void;
}

export class TablePurger {
  private readonly task: BackgroundTask;

  constructor(private readonly options: TablePurgerOptions) {
    this.task = new BackgroundTask({
      timers: options.timers,
      step: () => this.step(),
      idleDelayMs: options.idleDelayMs,
      busyDelayMs: 0,
      onError: options.onError,
    });
  }

  start(): void {
    this.task.start();
  }

  /** A table was just dropped: start removing its items now. */
  kick(): void {
    this.task.kick();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  /** Removes one chunk of the oldest dropped table; true while dropped tables remain. */
  async step(): Promise<boolean> {
    const { catalog, store, batchMax } = this.options;
    const tableId = catalog.droppedIds()[0];
    if (tableId === undefined) return false;
    const removed = await store.purgeStep(tableItemsPrefix(tableId), batchMax);
    if (removed < batchMax) await catalog.forgetDropped(tableId);
    return catalog.droppedIds().length > 0;
  }
}
