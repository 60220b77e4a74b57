import { assert } from "../assert.js";
import type { ClientId } from "./history.js";

/**
 * The eventual path's safety checks (TESTING.md, "Checkers"; the Jepsen Riak finding that
 * last-writer-wins lost acknowledged writes while siblings kept them):
 *
 * - No acknowledged write lost: every acknowledged put is among the final siblings of its key,
 *   or was causally superseded: some recorded write carried a causal context covering the
 *   put's dot (it saw the put), and either the final causal context still covers that dot or
 *   the superseding write is an acknowledged delete (whose tombstone may since have been
 *   collected).
 * - No resurrection: no final sibling is covered by the causal context of an acknowledged
 *   delete (a delete removes exactly what its context saw; that must never come back).
 *
 * Dots and contexts stay opaque: the caller passes `covers(context, dot)` and `dotKey(dot)`, so
 * the checker works with whatever the versioning module represents them as (dotted version
 * vector sets today: `coversDot` and a "node:counter" string).
 */

export interface EventualWrite<Dot, Context> {
  readonly id: number | string;
  readonly client?: ClientId;
  readonly key: string;
  readonly kind: "put" | "delete";
  /** Shown in reports only. */
  readonly value?: unknown;
  /** The event the coordinator created for this write; required for acknowledged puts. */
  readonly dot?: Dot;
  /** The causal context the write carried: what it saw, and so what it supersedes. */
  readonly context: Context;
  /** The client was told it succeeded. Unacknowledged writes may or may not have landed. */
  readonly acknowledged: boolean;
}

export interface EventualSibling<Dot> {
  readonly dot: Dot;
  readonly value?: unknown;
  /** A delete's tombstone still held as a sibling; never a resurrection. */
  readonly tombstone?: boolean;
}

/** One key after the liveness phase converged it: its siblings and its causal context. */
export interface EventualFinalState<Dot, Context> {
  readonly siblings: ReadonlyArray<EventualSibling<Dot>>;
  readonly context: Context;
}

export interface EventualCheckOptions<Dot, Context> {
  covers(context: Context, dot: Dot): boolean;
  /** Equal dots give equal strings; also how reports print a dot. */
  dotKey(dot: Dot): string;
  /** Violations kept in the result; the rest are only counted. Default 100. */
  readonly violationsMax?: number;
}

export type EventualViolation<Dot, Context> =
  | { readonly kind: "lost-write"; readonly key: string; readonly write: EventualWrite<Dot, Context>; readonly reason: string }
  | {
      readonly kind: "resurrection";
      readonly key: string;
      readonly sibling: EventualSibling<Dot>;
      readonly deletedBy: EventualWrite<Dot, Context>;
    };

export interface EventualCheckStats {
  readonly keys: number;
  readonly writes: number;
  readonly acknowledged: number;
}

export type EventualCheckResult<Dot, Context> =
  | { readonly ok: true; readonly stats: EventualCheckStats }
  | {
      readonly ok: false;
      readonly violations: ReadonlyArray<EventualViolation<Dot, Context>>;
      /** All violations found, including those beyond `violationsMax`. */
      readonly violationsTotal: number;
      readonly stats: EventualCheckStats;
    };

export const eventualCheckDefaults = Object.freeze({ violationsMax: 100 });

/**
 * @example
 * const result = checkEventualHistory(writes, finalStates, {
 *   covers: coversDot,
 *   dotKey: ([node, counter]) => `${node}:${counter}`,
 * });
 * if (!result.ok) console.error(formatEventualViolations(result, ([node, counter]) => `${node}:${counter}`));
 */
export function checkEventualHistory<Dot, Context>(
  writes: ReadonlyArray<EventualWrite<Dot, Context>>,
  finalStates: ReadonlyMap<string, EventualFinalState<Dot, Context>>,
  options: EventualCheckOptions<Dot, Context>,
): EventualCheckResult<Dot, Context> {
  const violationsMax = options.violationsMax ?? eventualCheckDefaults.violationsMax;
  assert(Number.isSafeInteger(violationsMax) && violationsMax > 0, `violationsMax must be a positive integer, got ${violationsMax}`);
  const violations: Array<EventualViolation<Dot, Context>> = [];
  let violationsTotal = 0;
  const report = (violation: EventualViolation<Dot, Context>) => {
    violationsTotal += 1;
    if (violations.length < violationsMax) violations.push(violation);
  };
  const byKey = groupByKey(writes);
  for (const [key, keyWrites] of byKey) {
    const final = finalStates.get(key);
    for (const write of keyWrites) {
      if (!write.acknowledged) continue;
      if (write.kind === "put") {
        const reason = lostReason(write, keyWrites, final, options);
        if (reason !== null) report({ kind: "lost-write", key, write, reason });
      } else if (final !== undefined) {
        for (const sibling of resurrected(write, final, options)) report({ kind: "resurrection", key, sibling, deletedBy: write });
      }
    }
  }
  const stats = { keys: byKey.size, writes: writes.length, acknowledged: writes.filter((w) => w.acknowledged).length };
  return violationsTotal === 0 ? { ok: true, stats } : { ok: false, violations, violationsTotal, stats };
}

/** Why an acknowledged put counts as lost, or null when it is present or superseded. */
function lostReason<Dot, Context>(
  put: EventualWrite<Dot, Context>,
  keyWrites: ReadonlyArray<EventualWrite<Dot, Context>>,
  final: EventualFinalState<Dot, Context> | undefined,
  options: EventualCheckOptions<Dot, Context>,
): string | null {
  assert(put.dot !== undefined, `acknowledged put ${String(put.id)} on "${put.key}" has no dot; record the dot its coordinator created`);
  const dot = put.dot;
  const key = options.dotKey(dot);
  const siblings = final?.siblings ?? [];
  if (siblings.some((sibling) => options.dotKey(sibling.dot) === key)) return null;
  const sawIt = keyWrites.filter((other) => other !== put && options.covers(other.context, dot));
  if (sawIt.length === 0) return `not among the ${siblings.length} final siblings, and no recorded write saw it`;
  if (final !== undefined && options.covers(final.context, dot)) return null;
  if (sawIt.some((other) => other.kind === "delete" && other.acknowledged)) return null;
  return `not among the ${siblings.length} final siblings; write ${String(sawIt[0]!.id)} saw it, but the final causal context does not cover its dot`;
}

/** Final siblings that an acknowledged delete's context covered: deleted values come back. */
function resurrected<Dot, Context>(
  del: EventualWrite<Dot, Context>,
  final: EventualFinalState<Dot, Context>,
  options: EventualCheckOptions<Dot, Context>,
): Array<EventualSibling<Dot>> {
  return final.siblings.filter((sibling) => sibling.tombstone !== true && options.covers(del.context, sibling.dot));
}

function groupByKey<W extends { readonly key: string }>(writes: readonly W[]): Map<string, W[]> {
  const byKey = new Map<string, W[]>();
  for (const write of writes) {
    const list = byKey.get(write.key);
    if (list === undefined) byKey.set(write.key, [write]);
    else list.push(write);
  }
  return byKey;
}

/** One violation per line, e.g. `lost write: key "x", put #4 by c1 "v3" at dot a:7: ...`. */
export function formatEventualViolations<Dot, Context>(
  result: Extract<EventualCheckResult<Dot, Context>, { ok: false }>,
  dotKey: (dot: Dot) => string,
): string {
  const { stats } = result;
  const lines = [
    `eventual history: ${result.violationsTotal} violations among ${stats.writes} writes (${stats.acknowledged} acknowledged) on ${stats.keys} keys`,
  ];
  for (const violation of result.violations) {
    if (violation.kind === "lost-write") {
      lines.push(`lost write: key ${JSON.stringify(violation.key)}, ${describeWrite(violation.write, dotKey)}: ${violation.reason}`);
    } else {
      const { sibling, deletedBy } = violation;
      const value = sibling.value === undefined ? "" : ` (${JSON.stringify(sibling.value)})`;
      lines.push(
        `resurrection: key ${JSON.stringify(violation.key)}, sibling at dot ${dotKey(sibling.dot)}${value} is back although acknowledged ${describeWrite(deletedBy, dotKey)} covered it`,
      );
    }
  }
  if (result.violations.length < result.violationsTotal) lines.push(`... ${result.violationsTotal - result.violations.length} more`);
  return lines.join("\n");
}

function describeWrite<Dot, Context>(write: EventualWrite<Dot, Context>, dotKey: (dot: Dot) => string): string {
  const client = write.client === undefined ? "" : ` by ${String(write.client)}`;
  const value = write.value === undefined ? "" : ` ${JSON.stringify(write.value)}`;
  const dot = write.dot === undefined ? "" : ` at dot ${dotKey(write.dot)}`;
  return `${write.kind} #${String(write.id)}${client}${value}${dot}`;
}
