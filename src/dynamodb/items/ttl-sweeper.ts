import type { Logger } from "pino";
import type { TimerHandle, Timers } from "../../runtime/runtime.js";
import type { ItemKeyParts } from "../../coordinator/item-operations.js";
import type { DynamoContext } from "../dynamo-context.js";
import { decodeItem } from "../model/item-codec.js";
import { changeItem } from "./conditional-change.js";
import { newestOf } from "./stored-item.js";
import { isExpired } from "./time-to-live-expiry.js";
import { keyAttributesOf } from "./table-key.js";

/**
 * Removes expired items in the background (developer guide, "Time to Live": DynamoDB deletes
 * expired items within a few days; reads hide them meanwhile). Each step walks one page of one
 * TTL-enabled table (at most fetchItemsMax items listed, ttlSweepBatchMax deleted), resuming
 * where the last step stopped, and each delete re-checks expiry inside the atomic change, so an
 * item rewritten with a new TTL in between survives. Steps run ttlSweepIntervalMs apart through
 * the Runtime's timers; one step at a time.
 */
export class TtlSweeper {
  /** Resume points per table id, bounded by the number of tables (entries for dropped tables are removed). */
  private readonly cursors = new Map<number, ItemKeyParts | null>();
  private timer: TimerHandle | undefined;
  private running: Promise<number> | undefined;
  private stopped = true;
  private nextTable = 0;

  constructor(
    private readonly context: DynamoContext,
    private readonly timers: Timers,
    private readonly logger?: Logger,
  ) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One step: one page of the next TTL-enabled table. Resolves to the number of items deleted. */
  step(): Promise<number> {
    this.running ??= this.sweepPage().finally(() => (this.running = undefined));
    return this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      this.step().then(
        () => this.schedule(),
        (error: unknown) => {
          this.logger?.warn({ err: error }, "TTL sweep step failed; retrying at the next interval");
          this.schedule();
        },
      );
    }, this.context.limits.ttlSweepIntervalMs);
  }

  private async sweepPage(): Promise<number> {
    const tables = this.context.tables
      .names()
      .map((name) => this.context.tables.get(name))
      .filter((table) => table !== undefined && table.metadata.timeToLive?.enabled === true);
    const liveIds = new Set(tables.map((table) => table!.definition.id));
    for (const id of this.cursors.keys()) if (!liveIds.has(id)) this.cursors.delete(id);
    if (tables.length === 0) return 0;
    const table = tables[this.nextTable++ % tables.length]!;
    const { limits, clock, items } = this.context;
    const after = this.cursors.get(table.definition.id) ?? undefined;
    const page = await items.list(table.definition, { prefix: new Uint8Array(0), limit: limits.fetchItemsMax, consistency: "eventual", ...(after !== undefined ? { after } : {}) });
    if (!page.ok) return 0;
    const nowMs = clock.nowMs();
    let deleted = 0;
    let resumeAfter = page.value.resumeAfter;
    for (const [index, listed] of page.value.items.entries()) {
      if (deleted >= limits.ttlSweepBatchMax) {
        // Stop at the bound and resume right after the last item looked at.
        resumeAfter = page.value.items[index - 1]!.key;
        break;
      }
      const version = newestOf(listed.siblings);
      if (version === undefined) continue;
      const item = decodeItem(version.value);
      if (!isExpired(table, item, nowMs)) continue;
      const key = { attributes: keyAttributesOf(table, item), parts: listed.key };
      // liveItem hides expired items, so "current is undefined" means "still expired": delete it.
      await changeItem(this.context, table, key, (current) => (current === undefined ? { type: "delete" } : { type: "fail", reason: "condition" })).then(
        () => deleted++,
        () => undefined,
      );
    }
    this.cursors.set(table.definition.id, resumeAfter);
    return deleted;
  }
}
