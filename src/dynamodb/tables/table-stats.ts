import type { Logger } from "pino";
import type { ItemKeyParts } from "../../coordinator/item-operations.js";
import type { TimerHandle, Timers } from "../../runtime/runtime.js";
import type { DynamoContext } from "../dynamo-context.js";
import { itemSize } from "../model/item-size.js";
import { liveItem, newestOf } from "../items/stored-item.js";
import type { DynamoTable } from "./dynamo-table.js";

/**
 * DescribeTable's ItemCount and TableSizeBytes (DynamoDB refreshes them "approximately every
 * six hours"; they are approximations there too). Shoal counts them with a paced pass over the
 * table through ItemOperations.list with consistency "eventual": the cluster-wide listing
 * (every up member's records merged, each key once), so no per-node counter and no division by
 * the replica count. ItemCount counts live items (TTL-expired ones not yet swept are left
 * out); TableSizeBytes sums DynamoDB's item sizes (model/item-size.ts).
 *
 * How approximate: the figures are those of the last completed pass, which started at most
 * `statsMaxAgeMs` (six hours by default) before it was asked for; an item written or deleted
 * while a pass walks the table is counted or not depending on where the pass was; an eventual
 * listing can miss a write a lagging majority has not yet seen. A pass only runs for a table
 * someone describes: DescribeTable on figures older than statsMaxAgeMs (or none: the first
 * answer is 0) queues one. One pass runs at a time on a node, one page (fetchItemsMax items)
 * per step, steps statsStepIntervalMs apart through the Runtime's timers, so it costs a bounded
 * share of the cluster. A pass whose page fails is abandoned and retried on the next request.
 */
export interface TableFigures {
  itemCount: number;
  sizeBytes: number;
  /** When the pass that counted them started. */
  countedAtMs: number;
}

interface Pass {
  tableId: number;
  name: string;
  startedAtMs: number;
  after: ItemKeyParts | undefined;
  itemCount: number;
  sizeBytes: number;
}

export class TableStats {
  /** Last completed figures per table id; bounded by the live tables (dropped ones are removed). */
  private readonly figures = new Map<number, TableFigures>();
  /** Tables waiting for a pass, in request order; at most one entry per table. */
  private readonly queue: { tableId: number; name: string }[] = [];
  private pass: Pass | undefined;
  private timer: TimerHandle | undefined;
  private stepping: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly context: DynamoContext,
    private readonly timers: Timers,
    private readonly logger?: Logger,
  ) {}

  /** The table's last figures (zero before the first pass); queues a pass when they are missing or stale. */
  describe(table: DynamoTable): TableFigures {
    const id = table.definition.id;
    const known = this.figures.get(id);
    const stale = known === undefined || this.context.clock.nowMs() - known.countedAtMs >= this.context.limits.statsMaxAgeMs;
    if (stale) this.request(id, table.definition.name);
    return known ?? { itemCount: 0, sizeBytes: 0, countedAtMs: 0 };
  }

  /** The last figures without asking for a pass. */
  peek(tableId: number): TableFigures | undefined {
    return this.figures.get(tableId);
  }

  /** Runs the queued passes to the end now (tests and tools); resolves when none is left. */
  async drain(): Promise<void> {
    for (let steps = 0; (this.pass !== undefined || this.queue.length > 0) && !this.stopped; steps++) await this.step();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    await this.stepping;
  }

  private request(tableId: number, name: string): void {
    if (this.stopped || this.pass?.tableId === tableId || this.queue.some((queued) => queued.tableId === tableId)) return;
    this.queue.push({ tableId, name });
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped || this.timer !== undefined || this.stepping !== undefined) return;
    if (this.pass === undefined && this.queue.length === 0) return;
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      void this.step().then(() => this.schedule());
    }, this.context.limits.statsStepIntervalMs);
  }

  /** One page of the current pass (starting the next queued one if none runs). */
  private step(): Promise<void> {
    this.stepping ??= this.stepNow()
      .catch((error: unknown) => {
        this.logger?.warn({ err: error, table: this.pass?.name }, "table statistics pass failed; it runs again on the next DescribeTable");
        this.pass = undefined;
      })
      .finally(() => (this.stepping = undefined));
    return this.stepping;
  }

  private async stepNow(): Promise<void> {
    this.forgetDropped();
    if (this.pass === undefined) {
      const next = this.queue.shift();
      if (next === undefined) return;
      this.pass = { ...next, startedAtMs: this.context.clock.nowMs(), after: undefined, itemCount: 0, sizeBytes: 0 };
    }
    const pass = this.pass;
    const table = this.context.tables.get(pass.name);
    if (table === undefined || table.definition.id !== pass.tableId) {
      this.pass = undefined;
      return;
    }
    const page = await this.context.items.list(table.definition, { prefix: new Uint8Array(0), limit: this.context.limits.fetchItemsMax, consistency: "eventual", ...(pass.after !== undefined ? { after: pass.after } : {}) });
    if (!page.ok) throw new Error(`listing table ${pass.name} failed: ${page.error.code}: ${page.error.message}`);
    const nowMs = this.context.clock.nowMs();
    for (const listed of page.value.items) {
      const item = liveItem(table, newestOf(listed.siblings), nowMs);
      if (item === undefined) continue;
      pass.itemCount++;
      pass.sizeBytes += itemSize(item);
    }
    if (page.value.resumeAfter !== null) {
      pass.after = page.value.resumeAfter;
      return;
    }
    this.figures.set(pass.tableId, { itemCount: pass.itemCount, sizeBytes: pass.sizeBytes, countedAtMs: pass.startedAtMs });
    this.pass = undefined;
  }

  private forgetDropped(): void {
    const live = new Set(this.context.tables.names().map((name) => this.context.tables.get(name)?.definition.id));
    for (const id of this.figures.keys()) if (!live.has(id)) this.figures.delete(id);
  }
}
