import { assert } from "../assert.js";
import { originsMax, type AcceptedState, type Proposal } from "./acceptor-record.js";
import { ballotText, maxBallot, type Ballot } from "./ballot.js";
import type { StrongChange, StrongDecision, StrongVersioned } from "./strong-coordinator.js";

/**
 * One round's changes applied in order to the current value (CASPaxos, section 2.3: the
 * proposer applies the change function to the value it learned in phase 1). Combining the
 * changes queued on a hot key into one round keeps the key live: one prepare and one accept
 * serve many callers, each seeing the value the previous one left, as if they had run one
 * after another.
 *
 * A decide function may run more than once (a refused round is retried with a fresh current
 * value), so it must have no side effects. One that throws fails its own change only; the
 * others run on as if it had decided "keep".
 */
export interface PendingChange {
  decide(current: StrongVersioned | undefined): StrongDecision;
  /** A read (the identity change), which the test-only unsafe variant answers from phase 1. */
  read: boolean;
}

export type ChangeOutcome = { ok: true; change: StrongChange } | { ok: false; thrown: unknown };

export interface AppliedBatch {
  proposal: Proposal;
  outcomes: ChangeOutcome[];
  /** Whether the register's state differs from `current` (a set, or a delete of a value). */
  changed: boolean;
}

export interface ApplyChangesOptions {
  /** The highest-ballot accepted state of the majority that promised (undefined: nothing). */
  highest: AcceptedState | undefined;
  /** The highest collected floor among the promises: where a lineage from "nothing" starts. */
  collectedFloor: Ballot;
  changes: readonly PendingChange[];
  ballot: Ballot;
  nowMs: number;
  /** A hybrid-logical-clock timestamp above `after` (the value a set replaces). */
  stamp(after: number): number;
}

/** Whether `value` still exists at `nowMs` (TTL: an expired value reads as absent). */
export function isLive(value: StrongVersioned | undefined, nowMs: number): value is StrongVersioned {
  return value !== undefined && (value.expiresAtMs === null || value.expiresAtMs > nowMs);
}

export function applyChanges(options: ApplyChangesOptions): AppliedBatch {
  const start = isLive(options.highest?.value, options.nowMs) ? options.highest!.value : undefined;
  let value = start;
  let changed = false;
  const outcomes: ChangeOutcome[] = options.changes.map((change, index) => {
    const before = value;
    let decision: StrongDecision;
    try {
      decision = change.decide(before);
    } catch (thrown) {
      return { ok: false, thrown };
    }
    value = afterDecision(decision, before, options, index);
    if (value !== before) changed = true;
    return { ok: true, change: { before, after: value } };
  });
  const lineage = lineageOf(options.highest, options.collectedFloor);
  // An expired value kept as it is reads as absent: it is accepted as a tombstone, which the
  // GC step can then collect. Neither is a change of state, so the lineage stays as it was.
  const next = changed ? extendLineage(lineage, options.ballot) : lineage;
  const proposal: Proposal = { value: changed ? value : start, origins: next.origins, originsFloor: next.originsFloor };
  return { proposal, outcomes, changed };
}

export type Lineage = Pick<AcceptedState, "origins" | "originsFloor">;

/** The lineage of what phase 1 found; from "nothing", a new one above the collected history. */
export function lineageOf(highest: AcceptedState | undefined, collectedFloor: Ballot): Lineage {
  return highest === undefined ? { origins: [], originsFloor: collectedFloor } : { origins: highest.origins, originsFloor: highest.originsFloor };
}

/** The lineage with `ballot`'s round added: it replaces its node's entry, and is the newest. */
function extendLineage(lineage: Lineage, ballot: Ballot): Lineage {
  const origins = [...lineage.origins.filter((origin) => origin.node !== ballot.node), ballot];
  let originsFloor = lineage.originsFloor;
  while (origins.length > originsMax) originsFloor = maxBallot(originsFloor, origins.shift()!);
  return { origins, originsFloor };
}

function afterDecision(decision: StrongDecision, before: StrongVersioned | undefined, context: ApplyChangesOptions, index: number): StrongVersioned | undefined {
  switch (decision.type) {
    case "keep":
      return before;
    case "delete":
      return undefined;
    case "set": {
      const { value, contentType, metadata, expiresAtMs } = decision.value;
      assert(value instanceof Uint8Array, "decide: a set's value is not bytes");
      const base = ballotText(context.ballot);
      // Every value a round produces gets its own version: the first "counter.node", combined
      // later ones "counter.node#i", so an If-Match on one never matches another.
      const version = index === 0 ? base : `${base}#${index}`;
      return { value, contentType, metadata, expiresAtMs, timestamp: context.stamp(before?.timestamp ?? 0), version };
    }
  }
}
