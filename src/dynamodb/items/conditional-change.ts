import type { ItemChangeDecision } from "../../coordinator/item-operations.js";
import type { DynamoContext } from "../dynamo-context.js";
import type { Item } from "../model/attribute-value.js";
import { decodeItem } from "../model/item-codec.js";
import type { DynamoTable } from "../tables/dynamo-table.js";
import { storeException } from "./store-failure.js";
import { itemWrite, liveItem } from "./stored-item.js";
import type { TableKey } from "./table-key.js";

/**
 * A read-modify-write of one item through ItemOperations.modify, which on a strong table runs
 * `decide` inside the CASPaxos round: the condition check and the write are one atomic step,
 * so two conditional writers cannot both pass (DynamoDB's conditional writes). `decide` sees
 * the live item (an expired one counts as absent) and must be pure: the protocol may run it
 * more than once.
 */
export type ItemDecision = { type: "put"; item: Item } | { type: "delete" } | { type: "fail"; reason: "condition" } | { type: "fail"; reason: "invalid"; message: string };

export interface ChangeOutcome {
  /** The live item before the change (undefined when there was none). */
  previous: Item | undefined;
  /** The item after the change (undefined after a delete). */
  item: Item | undefined;
}

export async function changeItem(context: DynamoContext, table: DynamoTable, key: TableKey, decide: (current: Item | undefined) => ItemDecision): Promise<ChangeOutcome> {
  const nowMs = context.clock.nowMs();
  const result = await context.items.modify(table.definition, key.parts, (version): ItemChangeDecision => {
    const decision = decide(liveItem(table, version, nowMs));
    if (decision.type === "put") return { type: "put", write: itemWrite(decision.item) };
    if (decision.type === "delete") return { type: "delete" };
    if (decision.reason === "condition") return { type: "abort", code: "PreconditionFailed", message: "The conditional request failed" };
    return { type: "abort", code: "BadRequest", message: decision.message };
  });
  if (!result.ok) throw storeException(result.error);
  const previous = liveItem(table, result.value.previous, nowMs);
  const item = result.value.item === undefined ? undefined : decodeItem(result.value.item.value);
  return { previous, item };
}
