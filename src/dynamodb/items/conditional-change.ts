import type { ItemChangeDecision, ItemVersion, WriteOptions } from "../../coordinator/item-operations.js";
import type { StoreResult } from "../../replica/store-result.js";
import type { DynamoContext } from "../dynamo-context.js";
import type { Item } from "../model/attribute-value.js";
import { decodeItem } from "../model/item-codec.js";
import type { DynamoTable } from "../tables/dynamo-table.js";
import { DynamoException } from "../protocol/dynamo-exception.js";
import { storeException } from "./store-failure.js";
import { itemWrite, liveItem, newestVersion } from "./stored-item.js";
import type { TableKey } from "./table-key.js";

/**
 * A read-modify-write of one item through ItemOperations.modify, which on a strong table runs
 * `decide` inside the CASPaxos round: the condition check and the write are one atomic step,
 * so two conditional writers cannot both pass (DynamoDB's conditional writes). `decide` sees
 * the live item (an expired one counts as absent) and must be pure: the protocol may run it
 * more than once.
 *
 * Eventual tables (a node that does not serve strong tables yet, or an operator's choice) have
 * no atomic read-modify-write: the change reads at quorum, decides, and writes with the
 * versions it read as If-Match (If-None-Match: * when there were none). The coordinator checks
 * that against a quorum read just before writing, which catches most races but not all (two
 * coordinators can both pass); a lost check re-reads and decides again, at most
 * `eventualChangeAttemptsMax` times.
 */
export const eventualChangeAttemptsMax = 3;

export type ItemDecision = { type: "put"; item: Item } | { type: "delete" } | { type: "fail"; reason: "condition" } | { type: "fail"; reason: "invalid"; message: string };

export interface ChangeOutcome {
  /** The live item before the change (undefined when there was none). */
  previous: Item | undefined;
  /** The item after the change (undefined after a delete). */
  item: Item | undefined;
}

export async function changeItem(context: DynamoContext, table: DynamoTable, key: TableKey, decide: (current: Item | undefined) => ItemDecision): Promise<ChangeOutcome> {
  if (table.definition.consistency === "eventual") return changeEventualItem(context, table, key, decide);
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

async function changeEventualItem(context: DynamoContext, table: DynamoTable, key: TableKey, decide: (current: Item | undefined) => ItemDecision): Promise<ChangeOutcome> {
  for (let attempt = 0; attempt < eventualChangeAttemptsMax; attempt++) {
    const nowMs = context.clock.nowMs();
    const read = await context.items.get(table.definition, key.parts, { quorum: {}, consistency: "eventual" });
    if (!read.ok) throw storeException(read.error);
    const version = newestVersion(read.value);
    const previous = liveItem(table, version, nowMs);
    const decision = decide(previous);
    if (decision.type === "fail") throw decision.reason === "condition" ? storeException({ code: "PreconditionFailed", message: "" }) : storeException({ code: "BadRequest", message: decision.message });
    const options: WriteOptions = { quorum: {}, condition: versionCondition(read.value.siblings, version), ...(read.value.context !== "" ? { context: read.value.context } : {}) };
    const written: StoreResult<unknown> =
      decision.type === "put"
        ? await context.items.put(table.definition, key.parts, itemWrite(decision.item), options)
        : await context.items.delete(table.definition, key.parts, options);
    if (written.ok) return { previous, item: decision.type === "put" ? decision.item : undefined };
    if (written.error.code !== "PreconditionFailed") throw storeException(written.error);
  }
  throw new DynamoException("ThrottlingException", `the item changed under ${eventualChangeAttemptsMax} read-modify-write attempts in a row; retry the request`);
}

function versionCondition(siblings: readonly ItemVersion[], version: ItemVersion | undefined): WriteOptions["condition"] {
  if (version === undefined) return { ifNoneMatch: "*" };
  return { ifMatch: siblings.map((s) => s.version) };
}
