import type { ItemKeyParts, ListedItem } from "../../coordinator/item-operations.js";
import { evaluateCondition } from "../expressions/evaluate-condition.js";
import type { ResolvedCondition, ResolvedProjection } from "../expressions/expression-ast.js";
import { projectItem } from "../expressions/project-item.js";
import type { Item } from "../model/attribute-value.js";
import { itemToJson } from "../model/attribute-value-json.js";
import { decodeItem, itemJsonBytes, storedItemSize } from "../model/item-codec.js";
import { itemSize } from "../model/item-size.js";
import { JsonText } from "../protocol/dynamo-response.js";
import type { JsonObject } from "../protocol/request-reader.js";
import { withCapacity } from "./consumed-capacity.js";
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
  count = 0;
  scannedCount = 0;
  bytesRead = 0;
  /** The answer's items as the model (pages with a filter, projection or TTL)... */
  private readonly items: Item[] = [];
  /** ...or as the stored JSON, UTF-8 bytes (`plain` pages: whole items, nothing to evaluate). */
  private readonly texts: Uint8Array[] = [];
  private readonly plain: boolean;
  private lastItem: Item | undefined;
  private lastStored: Uint8Array | undefined;
  private stopped = false;

  constructor(private readonly options: PageOptions) {
    this.plain = options.filter === undefined && options.projection === undefined && options.table.metadata.timeToLive?.enabled !== true;
  }

  get full(): boolean {
    return this.stopped;
  }

  /** Offers the next item in key order; false once the page is full (offer no more). */
  offer(listed: ListedItem): boolean {
    if (this.stopped) return false;
    const version = newestOf(listed.siblings);
    if (version === undefined) return true;
    const { select } = this.options;
    if (this.plain) {
      // No filter, projection or expiry: the stored text and size are the answer's (item-codec.ts).
      this.scannedCount++;
      this.bytesRead += storedItemSize(version.value);
      this.lastStored = version.value;
      this.count++;
      if (select !== "COUNT") this.texts.push(itemJsonBytes(version.value));
    } else {
      const item = decodeItem(version.value);
      if (isExpired(this.options.table, item, this.options.nowMs)) return true;
      this.scannedCount++;
      this.bytesRead += itemSize(item);
      this.lastItem = item;
      const { filter, projection } = this.options;
      if (filter === undefined || evaluateCondition(filter, item)) {
        this.count++;
        if (select !== "COUNT") this.items.push(projection === undefined ? item : projectItem(item, projection));
      }
    }
    const { limit, pageBytesMax, pageItemsMax } = this.options;
    const answered = this.plain ? this.texts.length : this.items.length;
    this.stopped = (limit !== undefined && this.scannedCount >= limit) || this.bytesRead >= pageBytesMax || answered >= pageItemsMax;
    return !this.stopped;
  }

  /**
   * The answer: Items, Count, ScannedCount, LastEvaluatedKey, then ConsumedCapacity when given;
   * `more` says whether items may follow the last one evaluated.
   */
  answer(more: boolean, capacity: JsonObject | undefined): JsonObject | JsonText {
    if (!this.plain) return withCapacity(this.output(more), capacity);
    const parts: (string | Uint8Array)[] = [];
    if (this.options.select !== "COUNT") {
      parts.push('{"Items":[');
      this.texts.forEach((json, index) => {
        if (index > 0) parts.push(",");
        parts.push(json);
      });
    }
    let text = this.options.select !== "COUNT" ? "]," : "{";
    text += `"Count":${this.count},"ScannedCount":${this.scannedCount}`;
    if (this.stopped && more && this.lastStored !== undefined) {
      text += `,"LastEvaluatedKey":${JSON.stringify(itemToJson(keyAttributesOf(this.options.table, decodeItem(this.lastStored))))}`;
    }
    if (capacity !== undefined) text += `,"ConsumedCapacity":${JSON.stringify(capacity)}`;
    parts.push(`${text}}`);
    return new JsonText(parts);
  }

  private output(more: boolean): JsonObject {
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
