import type { TableDefinition } from "../catalog/table-definition.js";
import type { StrongChange, StrongCoordinator, StrongDecision, StrongResult, StrongValue, StrongVersioned } from "../paxos/strong-coordinator.js";
import type { ItemWrite, WriteCondition } from "../replica/item-write.js";
import { storeFailure, type StoreFailure, type StoreResult } from "../replica/store-result.js";
import type { Clock } from "../runtime/runtime.js";
import type {
  DeleteResult,
  ItemChange,
  ItemKeyParts,
  ItemOperations,
  ItemRead,
  ItemVersion,
  ListPage,
  ModifyResult,
  PutResult,
  QueryRequest,
  ReadOptions,
  WriteOptions,
} from "./item-operations.js";
import { encodedKey } from "./scan-ranges.js";
import { writeConditionRefusal } from "./write-condition-check.js";

/**
 * ItemOperations of strong tables over CASPaxos (DESIGN.md, "The strong path"): a get is the
 * protocol's read (the identity change, accept phase included; linearizable), or with
 * consistency "eventual" this node's acceptor record alone; put, delete and modify are changes
 * whose decision (the If-Match / If-None-Match check, the caller's ItemChange) runs inside the
 * round on the current value, so conditions are atomic. A decision may run more than once (a
 * lost race retries), so it only records what it decided, and the last run's record is the
 * answer. No causal contexts (context is ""), no siblings: one version at most.
 *
 * Failures: "unavailable" -> Unavailable (nothing happened), "indeterminate" -> Indeterminate
 * (it may have happened), "overloaded" -> Overloaded.
 */
export interface StrongItemOperationsOptions {
  strong: Pick<StrongCoordinator, "change" | "read" | "readLocal">;
  clock: Clock;
  /** The ring's member count (n is capped at it, like the eventual quorums). */
  members: () => number;
}

type Failure = { ok: false; error: StoreFailure };
type Refusal = { code: "PreconditionFailed" | "BadRequest"; message: string } | undefined;

export class StrongItemOperations implements Pick<ItemOperations, "get" | "put" | "delete" | "modify" | "list" | "query"> {
  constructor(private readonly options: StrongItemOperationsOptions) {}

  async get(table: TableDefinition, key: ItemKeyParts, options: ReadOptions): Promise<StoreResult<ItemRead>> {
    if (options.consistency === "eventual") {
      const local = this.options.strong.readLocal(encodedKey(table, key));
      return { ok: true, value: { siblings: this.versions(local.value), context: "" } };
    }
    const read = await this.options.strong.read(encodedKey(table, key), this.n(table));
    if (!read.ok) return strongFailure(read, "read");
    return { ok: true, value: { siblings: this.versions(read.value), context: "" } };
  }

  async put(table: TableDefinition, key: ItemKeyParts, write: ItemWrite, options: WriteOptions): Promise<StoreResult<PutResult>> {
    const changed = await this.change(table, key, (current) => {
      const refusal = conditionRefusal(current, options.condition);
      return refusal !== undefined ? { decision: { type: "keep" }, refusal } : { decision: { type: "set", value: strongValueOf(write) } };
    });
    if (!changed.ok) return changed;
    const item = this.live(changed.value.after);
    if (item === undefined) return storeFailure("Indeterminate", "the write was accepted but its value did not come back");
    return { ok: true, value: { item, created: this.live(changed.value.before) === undefined, context: "" } };
  }

  async delete(table: TableDefinition, key: ItemKeyParts, options: WriteOptions): Promise<StoreResult<DeleteResult>> {
    const changed = await this.change(table, key, (current) => {
      const refusal = conditionRefusal(current, options.condition);
      if (refusal !== undefined) return { decision: { type: "keep" }, refusal };
      return { decision: current === undefined ? { type: "keep" } : { type: "delete" } };
    });
    if (!changed.ok) return changed;
    return { ok: true, value: { existed: this.live(changed.value.before) !== undefined } };
  }

  async modify(table: TableDefinition, key: ItemKeyParts, change: ItemChange): Promise<StoreResult<ModifyResult>> {
    const changed = await this.change(table, key, (current) => {
      const decided = change(current);
      if (decided.type === "abort") return { decision: { type: "keep" }, refusal: { code: decided.code, message: decided.message } };
      return { decision: decided.type === "put" ? { type: "set", value: strongValueOf(decided.write) } : { type: "delete" } };
    });
    if (!changed.ok) return changed;
    return { ok: true, value: { item: this.live(changed.value.after), previous: this.live(changed.value.before) } };
  }

  list(table: TableDefinition): Promise<StoreResult<ListPage>> {
    return Promise.resolve(storeFailure("BadRequest", `listing strong table "${table.name}" is not supported yet`));
  }

  query(table: TableDefinition, _request: QueryRequest): Promise<StoreResult<ListPage>> {
    return Promise.resolve(storeFailure("BadRequest", `querying strong table "${table.name}" is not supported yet`));
  }

  /** One CASPaxos change whose decision sees the live version (expired reads as absent). */
  private async change(
    table: TableDefinition,
    key: ItemKeyParts,
    decide: (current: ItemVersion | undefined) => { decision: StrongDecision; refusal?: Refusal },
  ): Promise<{ ok: true; value: StrongChange } | Failure> {
    let refusal: Refusal;
    const result = await this.options.strong.change(encodedKey(table, key), this.n(table), (current) => {
      const decided = decide(this.live(current));
      refusal = decided.refusal;
      return decided.decision;
    });
    if (!result.ok) return strongFailure(result, "write");
    const refused = refusal as Refusal;
    if (refused !== undefined) return storeFailure(refused.code, refused.message);
    return result;
  }

  private live(value: StrongVersioned | undefined): ItemVersion | undefined {
    if (value === undefined || (value.expiresAtMs !== null && value.expiresAtMs <= this.options.clock.nowMs())) return undefined;
    return { value: value.value, contentType: value.contentType, metadata: Object.fromEntries(value.metadata), version: value.version, timestamp: value.timestamp, expiresAtMs: value.expiresAtMs };
  }

  private versions(value: StrongVersioned | undefined): ItemVersion[] {
    const live = this.live(value);
    return live === undefined ? [] : [live];
  }

  private n(table: TableDefinition): number {
    return Math.max(1, Math.min(table.replication.n, this.options.members()));
  }
}

function conditionRefusal(current: ItemVersion | undefined, condition: WriteCondition): Refusal {
  const refusal = writeConditionRefusal(current === undefined ? [] : [current], condition);
  return refusal === null ? undefined : { code: "PreconditionFailed", message: refusal };
}

function strongValueOf(write: ItemWrite): StrongValue {
  const metadata = Object.entries(write.metadata).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return { value: write.value, contentType: write.contentType, metadata, expiresAtMs: write.expiresAtMs };
}

function strongFailure(result: Extract<StrongResult<unknown>, { ok: false }>, action: string): Failure {
  switch (result.error) {
    case "unavailable":
      return storeFailure("Unavailable", `cannot ${action}: ${result.message}`);
    case "indeterminate":
      return storeFailure("Indeterminate", `the ${action} may or may not have happened: ${result.message}`);
    case "overloaded":
      return storeFailure("Overloaded", `cannot ${action}: ${result.message}`);
  }
}
