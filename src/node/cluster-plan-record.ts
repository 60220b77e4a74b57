import { parsePlanChange, ringPlanChangesMax, type RingPlanChange } from "../ring/ring-plan.js";
import type { NodeId } from "../runtime/network.js";

/**
 * The cluster's plan as data (issue 6, item 2): the plan mode and the staged ring changes, one
 * small record every node keeps a copy of (cluster-plan.ts). Only the ring leader changes it;
 * each change raises `seq` and signs it with the leader's id, and a node adopts a record whose
 * stamp (seq, then `by`) is newer than its own, so copies converge whichever way they travel.
 * A record at seq 0 is a node's default (nothing heard yet): it never replaces another record.
 *
 * Peer messages ("plan." prefix):
 *   { type: "plan.sync", record }          request or one-way: here is my record; the reply is yours
 *   { type: "plan.op", op, forwarded? }    request: apply `op` (only the ring leader does; a node
 *                                          that is not forwards it to its leader once)
 */
export type PlanMode = "auto" | "manual";
export const planModes: readonly PlanMode[] = ["auto", "manual"];

export interface PlanRecord {
  readonly seq: number;
  readonly by: NodeId;
  readonly mode: PlanMode;
  readonly changes: readonly RingPlanChange[];
  /**
   * Changes committed whose ring may not have won yet (claim-ring.ts, "Committed plan changes"):
   * every leader's claim hook builds those the settled ring does not show, and the leader drops
   * them once a settled ring shows them all. Absent: none.
   */
  readonly committed?: readonly RingPlanChange[];
}

/** A commit with `force` goes ahead even when it would lose data (ownership-plan.ts lostTablesOfPlan). */
export type PlanOp = { kind: "stage"; change: RingPlanChange } | { kind: "clear" } | { kind: "mode"; mode: PlanMode } | { kind: "commit"; force?: boolean };

/** What an op answers: the leader's record after it, and for a commit the new ring version. */
export type PlanOpResult = { ok: true; record: PlanRecord; ringVersion?: number } | { ok: false; status: number; code: string; message: string };

export const planMessagePrefix = "plan.";

export function defaultPlanRecord(self: NodeId, mode: PlanMode = "auto"): PlanRecord {
  return { seq: 0, by: self, mode, changes: [] };
}

/** Positive when `a` is newer than `b`. */
export function comparePlanRecords(a: PlanRecord, b: PlanRecord): number {
  if (a.seq !== b.seq) return a.seq - b.seq;
  return a.by < b.by ? -1 : a.by > b.by ? 1 : 0;
}

/** Whether `candidate` should replace `current`: newer, and not a default (seq 0). */
export function isNewerPlan(candidate: PlanRecord, current: PlanRecord): boolean {
  return candidate.seq > 0 && comparePlanRecords(candidate, current) > 0;
}

/** The ids a change names (a join's, a leave's, both of a replace). */
export function changeIds(change: RingPlanChange): NodeId[] {
  if ("join" in change) return [change.join];
  if ("leave" in change) return [change.leave];
  return [...change.replace];
}

/**
 * Whether a node a committed leave or replace takes out, in `state` at the leader (undefined: no
 * longer known), is a departure (ring-state.ts `departing`: it is running, hands its data on and
 * reports clean; tombstone GC waits for it) rather than the removal of a node believed dead or
 * failing (suspect or down: its data is rebuilt from the survivors). One view, the leader's,
 * decides for every member: each member deciding from its own failure detector let a member that
 * had not yet noticed a death wait forever for a report that never came.
 */
export function departsFrom(state: string | undefined): boolean {
  return state === "up" || state === "leaving";
}

/** A record from a peer or from disk, checked; undefined when malformed. */
export function parsePlanRecord(value: unknown): PlanRecord | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (!Number.isSafeInteger(v.seq) || (v.seq as number) < 0) return undefined;
  if (typeof v.by !== "string" || v.by.length === 0 || v.by.length > 256) return undefined;
  if (v.mode !== "auto" && v.mode !== "manual") return undefined;
  const changes = parseChanges(v.changes);
  if (changes === undefined) return undefined;
  if (v.committed === undefined) return { seq: v.seq as number, by: v.by, mode: v.mode, changes };
  const committed = parseChanges(v.committed);
  if (committed === undefined) return undefined;
  return { seq: v.seq as number, by: v.by, mode: v.mode, changes, ...(committed.length > 0 ? { committed } : {}) };
}

function parseChanges(value: unknown): RingPlanChange[] | undefined {
  if (!Array.isArray(value) || value.length > ringPlanChangesMax) return undefined;
  const changes: RingPlanChange[] = [];
  for (const raw of value as unknown[]) {
    const parsed = parsePlanChange(raw);
    if (!parsed.ok) return undefined;
    changes.push(parsed.change);
  }
  return changes;
}

export function parsePlanOp(value: unknown): PlanOp | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const v = value as Record<string, unknown>;
  switch (v.kind) {
    case "clear":
      return { kind: v.kind };
    case "commit":
      return v.force === true ? { kind: "commit", force: true } : { kind: "commit" };
    case "mode":
      return v.mode === "auto" || v.mode === "manual" ? { kind: "mode", mode: v.mode } : undefined;
    case "stage": {
      const parsed = parsePlanChange(v.change);
      return parsed.ok ? { kind: "stage", change: parsed.change } : undefined;
    }
    default:
      return undefined;
  }
}

export function parsePlanOpResult(value: unknown): PlanOpResult | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (v.ok === true) {
    const record = parsePlanRecord(v.record);
    if (record === undefined) return undefined;
    return Number.isSafeInteger(v.ringVersion) ? { ok: true, record, ringVersion: v.ringVersion as number } : { ok: true, record };
  }
  if (v.ok === false && Number.isSafeInteger(v.status) && typeof v.code === "string" && typeof v.message === "string") {
    return { ok: false, status: v.status as number, code: v.code, message: v.message };
  }
  return undefined;
}
