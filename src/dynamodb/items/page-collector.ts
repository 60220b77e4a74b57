import type { ItemKeyParts, ListedItem } from "../../coordinator/item-operations.js";
import { evaluateCondition } from "../expressions/evaluate-condition.js";
import type { ResolvedCondition, ResolvedProjection } from "../expressions/expression-ast.js";
import { projectItem } from "../expressions/project-item.js";
import type { Item } from "../model/attribute-value.js";
import { itemToJson } from "../model/attribute-value-json.js";
import { decodeItem } from "../model/item-codec.js";
import { itemSize } from "../model/item-size.js";
import type { JsonObject } from "../protocol/request-reader.js";
import type { DynamoTable } from "../tables/dynamo-table.js";
import { newestOf } from "./stored-item.js";
import { keyAttributesOf } from "./table-key.js";
import { isExpired } from "./time-to-live-expiry.js";

/**
 * One page of a Query or Scan (developer guide, "Paginating table query results"): items are
 * evaluated in key order; each evaluated item counts toward ScannedCount, its size toward the
 * 1 MB page bound and the read capacity; the filter then decides Count and Items. The page
 * stops after Limit evaluated items, or once the data read reaches the page bound (the item
 * that crosses it is included, as in DynamoDB), and then names the last evaluated key.
 * Expired items (TTL) are invisible: not evaluated, not counted.
 */
export type Select = "ALL_ATTRIBUTES" | "ALL_PROJECTED_ATTRIBUTES" | "SPECIFIC_ATTRIBUTES" | "COUNT";

export interface PageOptions {
  table: DynamoTable;
  nowMs: number;
  limit: number | undefined;
  filter: ResolvedCondition | undefined;
  projection: ResolvedProjection | undefined;
  select: Select;
  pageBytesMax: number;
  pageItemsMax: number;
}

export class PageCollector {
  readonly items: Item[] = [];
  count = 0;
  scannedCount = 0;
  bytesRead = 0;
  private lastItem: Item | undefined;
  private stopped = false;

  constructor(private readonly options: PageOptions) {}

  get full(): boolean {
    return this.stopped;
  }

  /** Offers the next item in key order; false once the page is full (offer no more). */
  offer(listed: ListedItem): boolean {
    if (this.stopped) return false;
    const version = newestOf(listed.siblings);
    if (version === undefined) return true;
    const item = decodeItem(version.value);
    if (isExpired(this.options.table, item, this.options.nowMs)) return true;
    this.scannedCount++;
    this.bytesRead += itemSize(item);
    this.lastItem = item;
    const { filter, projection, select } = this.options;
    if (filter === undefined || evaluateCondition(filter, item)) {
      this.count++;
      if (select !== "COUNT") this.items.push(projection === undefined ? item : projectItem(item, projection));
    }
    const { limit, pageBytesMax, pageItemsMax } = this.options;
    this.stopped = (limit !== undefined && this.scannedCount >= limit) || this.bytesRead >= pageBytesMax || this.items.length >= pageItemsMax;
    return !this.stopped;
  }

  /** The answer's members; `more` says whether items may follow the last one evaluated. */
  output(more: boolean): JsonObject {
    const output: JsonObject = {};
    if (this.options.select !== "COUNT") output.Items = this.items.map(itemToJson);
    output.Count = this.count;
    output.ScannedCount = this.scannedCount;
    if (this.stopped && more && this.lastItem !== undefined) output.LastEvaluatedKey = itemToJson(keyAttributesOf(this.options.table, this.lastItem));
    return output;
  }
}

/** Whether a fetched page left items behind the one the collector stopped at. */
export function moreAfter(index: number, fetched: number, resumeAfter: ItemKeyParts | null): boolean {
  return index + 1 < fetched || resumeAfter !== null;
}
