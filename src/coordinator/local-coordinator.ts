import type { TableDefinition } from "../catalog/table-definition.js";
import type { ItemWrite, WriteCondition } from "../replica/item-write.js";
import type { StoreResult } from "../replica/store-result.js";
import type { BatchWrite, ItemStore } from "../replica/item-store.js";
import { decodeItemKey, encodeItemKey, itemKeyPrefix } from "../storage/item-key.js";
import type {
  BatchItemWrite,
  BatchResult,
  ItemOperations,
  ItemVersion,
  ListPage,
  ListRequest,
  PutResult,
} from "./item-operations.js";

/**
 * The single-node coordinator: every key's preference list is this node alone, so each
 * operation is one call on the local replica's ItemStore. The quorum coordinator of the
 * cluster issue implements the same ItemOperations.
 */
export class LocalCoordinator implements ItemOperations {
  constructor(private readonly store: ItemStore) {}

  get(table: TableDefinition, key: Uint8Array): Promise<StoreResult<ItemVersion | undefined>> {
    return Promise.resolve({ ok: true, value: this.store.read(encodeItemKey(table.id, key)) });
  }

  put(table: TableDefinition, key: Uint8Array, write: ItemWrite, condition: WriteCondition): Promise<StoreResult<PutResult>> {
    return this.store.put(encodeItemKey(table.id, key), write, condition).then(toPutResult);
  }

  delete(table: TableDefinition, key: Uint8Array, condition: WriteCondition): Promise<StoreResult<ItemVersion>> {
    return this.store.delete(encodeItemKey(table.id, key), condition);
  }

  list(table: TableDefinition, request: ListRequest): Promise<StoreResult<ListPage>> {
    const page = this.store.scan({
      prefix: itemKeyPrefix(table.id, request.prefix),
      limit: request.limit,
      ...(request.after !== undefined ? { after: encodeItemKey(table.id, request.after) } : {}),
    });
    const items = page.entries.map((e) => ({ key: decodeItemKey(e.itemKey).partitionKey, item: e.record }));
    const resumeAfter = page.resumeAfter === null ? null : decodeItemKey(page.resumeAfter).partitionKey;
    return Promise.resolve({ ok: true, value: { items, resumeAfter } });
  }

  async batch(table: TableDefinition, gets: readonly Uint8Array[], writes: readonly BatchItemWrite[]): Promise<StoreResult<BatchResult>> {
    const storeWrites: BatchWrite[] = writes.map((w) =>
      w.type === "put" ? { type: "put", itemKey: encodeItemKey(table.id, w.key), write: w.write } : { type: "delete", itemKey: encodeItemKey(table.id, w.key) },
    );
    const result = await this.store.batch(
      gets.map((key) => encodeItemKey(table.id, key)),
      storeWrites,
    );
    if (!result.ok) return result;
    const outcome: BatchResult = {
      gets: result.value.gets,
      writes: result.value.writes.map((w) => (w.type === "put" ? { type: "put", item: w.record } : w)),
    };
    return { ok: true, value: outcome };
  }
}

function toPutResult(result: StoreResult<{ record: ItemVersion; created: boolean }>): StoreResult<PutResult> {
  return result.ok ? { ok: true, value: { item: result.value.record, created: result.value.created } } : result;
}
