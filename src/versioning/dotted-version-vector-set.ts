import { assert } from "../assert.js";
import { comparePlainData } from "./plain-data-order.js";
import { assertVersionVector, descends, mergeJoinByNodeId, type Dot, type VersionVector } from "./version-vector.js";

/**
 * Dotted version vector sets (Almeida, Baquero, Gonçalves, Preguiça, Fonte, "Scalable and
 * Accurate Causality Tracking for Eventually Consistent Stores", DAIS 2014; Riak's dvvset).
 * One set holds every concurrent version (sibling) of one key together with the causal
 * history of all of them, in space linear in the number of coordinating nodes, not clients.
 *
 * Each entry `[nodeId, counter, values]` says: the writes `nodeId` coordinated with dots
 * 1..counter are all known; `values[i]` is the still-live value of dot `counter - i` (newest
 * first), and every older dot of that node is known and superseded. Anonymous values carry no
 * dot: they are what a client proposes (`newValue`, `newWithContext`) before a coordinator's
 * `update` gives it one.
 *
 * Everything here is pure and plain data (arrays, strings, numbers, and the values), so a set
 * can be stored and sent with MessagePack as is. Entries are sorted by node id and anonymous
 * values by `comparePlainData`, so equal sets are structurally equal. Values must be plain
 * data (see plain-data-order.ts).
 *
 * Anonymous values never disappear by causality: no context can name them, so no write can
 * prove it saw one. `sync` and `update` keep them; only `lww` may drop one. Shoal's
 * coordinators always `update` before storing, so a siblings table's stored sets carry none;
 * on a last-writer-wins table `lww` may leave one winner anonymous (see there).
 *
 * Usage (the eventual path, DESIGN.md):
 *   read:   context = join(merged replies); show values(merged)
 *   write:  stored = update(newWithContext(context, sibling), local, coordinatorId)
 *   repair: local = sync(local, incoming)
 */
export interface DottedVersionVectorSet<T> {
  readonly entries: readonly DvvEntry<T>[];
  readonly anonymous: readonly T[];
}

export type DvvEntry<T> = readonly [nodeId: string, counter: number, values: readonly T[]];

export type ParseResult<T> = { ok: true; set: DottedVersionVectorSet<T> } | { ok: false; error: string };

export interface ParseBounds {
  /** Node ids in one set. */
  entriesMax: number;
  /** Values (siblings) in one set, dotted and anonymous together. */
  valuesMax: number;
}

export const defaultParseBounds: Readonly<ParseBounds> = Object.freeze({ entriesMax: 1024, valuesMax: 10_000 });

const noValues: readonly never[] = Object.freeze([]);

/** The set of a key nobody has written: no history, no values. */
export function empty<T>(): DottedVersionVectorSet<T> {
  return { entries: noValues, anonymous: noValues };
}

/** A client's proposal without a context: it will be concurrent with everything stored. */
export function newValue<T>(value: T): DottedVersionVectorSet<T> {
  return { entries: noValues, anonymous: [value] };
}

/** A client's proposal carrying the causal context of its read: it supersedes what that read saw. */
export function newWithContext<T>(context: VersionVector, value: T): DottedVersionVectorSet<T> {
  assertVersionVector(context, "newWithContext");
  return { entries: context.map(([nodeId, counter]): DvvEntry<T> => [nodeId, counter, noValues]), anonymous: [value] };
}

/**
 * Merges two replicas' sets (paper, "sync"): the union of both histories, keeping every value
 * that neither side has seen superseded. Commutative, associative and idempotent.
 */
export function sync<T>(a: DottedVersionVectorSet<T>, b: DottedVersionVectorSet<T>): DottedVersionVectorSet<T> {
  return { entries: mergeEntries(a.entries, b.entries), anonymous: unionAnonymous(a.anonymous, b.anonymous) };
}

/** The causal context of a set: the version vector of every dot it has seen. */
export function join<T>(set: DottedVersionVectorSet<T>): VersionVector {
  return set.entries.map(([nodeId, counter]) => [nodeId, counter] as const);
}

/**
 * The coordinator's event (paper, "update"): `proposal` (from `newValue` or `newWithContext`)
 * is merged into `server`, its context discards exactly the values it covers, and its value
 * gets the next dot of `nodeId`. The server's other values stay as siblings. `nodeId` must
 * never reuse a counter: it has to know every dot it issued for this key, which `server`
 * (its own stored set) guarantees as long as that set survives; after losing writes in a
 * crash, coordinate under a new id.
 */
export function update<T>(proposal: DottedVersionVectorSet<T>, server: DottedVersionVectorSet<T>, nodeId: string): DottedVersionVectorSet<T> {
  if (proposal.anonymous.length !== 1) assert(false, `update: a proposal holds one value, got ${proposal.anonymous.length}`);
  assert(proposal.entries.every((entry) => entry[2].length === 0), "update: a proposal's context carries no values");
  assert(nodeId.length > 0, "update: empty node id");
  const seen = mergeEntries(proposal.entries, server.entries);
  return { entries: addEvent(seen, nodeId, proposal.anonymous[0]!), anonymous: server.anonymous };
}

/**
 * What remains of `set` after a write with `context` but before its event: the values the
 * context covers are gone, the history grows by the context. Anonymous values stay.
 */
export function discard<T>(set: DottedVersionVectorSet<T>, context: VersionVector): DottedVersionVectorSet<T> {
  assertVersionVector(context, "discard");
  const contextEntries = context.map(([nodeId, counter]): DvvEntry<T> => [nodeId, counter, noValues]);
  return { entries: mergeEntries(set.entries, contextEntries), anonymous: set.anonymous };
}

/** True when a write with `context` would supersede every value of `set` (none would remain a sibling). */
export function contextCovers<T>(context: VersionVector, set: DottedVersionVectorSet<T>): boolean {
  return set.anonymous.length === 0 && descends(context, join(set));
}

/** Every value, dotted ones first (by node id, newest first), then anonymous ones. */
export function values<T>(set: DottedVersionVectorSet<T>): T[] {
  const all: T[] = [];
  const entries = set.entries;
  for (let i = 0; i < entries.length; i++) {
    const entryValues = entries[i]![2];
    for (let j = 0; j < entryValues.length; j++) all.push(entryValues[j]!);
  }
  for (let i = 0; i < set.anonymous.length; i++) all.push(set.anonymous[i]!);
  return all;
}

/** Each dotted value with its dot, in `values` order; anonymous values have none. */
export function dottedValues<T>(set: DottedVersionVectorSet<T>): { dot: Dot; value: T }[] {
  const dotted: { dot: Dot; value: T }[] = [];
  for (const [nodeId, counter, entryValues] of set.entries) {
    entryValues.forEach((value, i) => dotted.push({ dot: [nodeId, counter - i], value }));
  }
  return dotted;
}

/** The number of values (siblings), dotted and anonymous. */
export function size<T>(set: DottedVersionVectorSet<T>): number {
  let count = set.anonymous.length;
  for (const entry of set.entries) count += entry[2].length;
  return count;
}

/**
 * Whether two sets of one key's history are equal, without comparing value bytes: within one
 * history a dot names one value, so equal entries (ids, counters, live counts) mean equal
 * dotted values; anonymous values are compared structurally. Read repair uses it to find
 * replicas that differ from the merged set.
 */
export function equal<T>(a: DottedVersionVectorSet<T>, b: DottedVersionVectorSet<T>): boolean {
  if (a === b) return true;
  if (a.entries.length !== b.entries.length || a.anonymous.length !== b.anonymous.length) return false;
  for (let i = 0; i < a.entries.length; i++) {
    const [idA, counterA, valuesA] = a.entries[i]!;
    const [idB, counterB, valuesB] = b.entries[i]!;
    if (idA !== idB || counterA !== counterB || valuesA.length !== valuesB.length) return false;
  }
  return a.anonymous.every((value, i) => comparePlainData(value, b.anonymous[i]) === 0);
}

/** Strict causal order of the histories: `b` has seen everything `a` has, and more. */
export function less<T>(a: DottedVersionVectorSet<T>, b: DottedVersionVectorSet<T>): boolean {
  const historyA = join(a);
  const historyB = join(b);
  return descends(historyB, historyA) && !descends(historyA, historyB);
}

/**
 * Last writer wins (for tables with `conflicts: "lww"`): the history stays, only the greatest
 * value by `compare` remains (on a tie, the first in `values` order). The winner keeps its dot
 * when it is its node's newest; otherwise no single dot can name it, and it stays as an
 * anonymous value over the same history, which the next `lww` weighs like any other value.
 */
export function lww<T>(set: DottedVersionVectorSet<T>, compare: (a: T, b: T) => number): DottedVersionVectorSet<T> {
  // One value or none (every read of a converged lww key): it wins where it stands, and the
  // set would come back structurally unchanged, so it is returned as is (sets are never mutated).
  if (size(set) <= 1) return set;
  let best: { value: T; entryIndex: number; valueIndex: number } | undefined;
  set.entries.forEach(([, , entryValues], entryIndex) => {
    entryValues.forEach((value, valueIndex) => {
      if (best === undefined || compare(value, best.value) > 0) best = { value, entryIndex, valueIndex };
    });
  });
  for (const value of set.anonymous) {
    if (best === undefined || compare(value, best.value) > 0) best = { value, entryIndex: -1, valueIndex: -1 };
  }
  if (best === undefined) return set;
  const winner = best;
  const keepDotted = winner.valueIndex === 0;
  const entries = set.entries.map(([nodeId, counter], entryIndex): DvvEntry<T> => {
    return [nodeId, counter, keepDotted && entryIndex === winner.entryIndex ? [winner.value] : noValues];
  });
  return { entries, anonymous: keepDotted ? noValues : [winner.value] };
}

/**
 * Checks plain data read from disk or the wire before it is trusted as a set: shape, order,
 * counters, bounds, and each value with `isValue`.
 */
export function parse<T>(data: unknown, isValue: (value: unknown) => value is T, bounds: ParseBounds = defaultParseBounds): ParseResult<T> {
  if (typeof data !== "object" || data === null) return { ok: false, error: "set is not an object" };
  const { entries, anonymous } = data as { entries?: unknown; anonymous?: unknown };
  if (!Array.isArray(entries) || !Array.isArray(anonymous)) return { ok: false, error: "set lacks entries or anonymous lists" };
  if (entries.length > bounds.entriesMax) return { ok: false, error: `set has ${entries.length} entries; the limit is ${bounds.entriesMax}` };
  let valueCount = anonymous.length;
  for (let i = 0; i < entries.length; i++) {
    const error = entryError(entries[i], i === 0 ? undefined : (entries[i - 1] as DvvEntry<T>)[0], isValue);
    if (error !== undefined) return { ok: false, error: `entry ${i}: ${error}` };
    valueCount += (entries[i] as DvvEntry<T>)[2].length;
  }
  if (valueCount > bounds.valuesMax) return { ok: false, error: `set has ${valueCount} values; the limit is ${bounds.valuesMax}` };
  for (let i = 0; i < anonymous.length; i++) {
    if (!isValue(anonymous[i])) return { ok: false, error: `anonymous value ${i} is not a value` };
    if (i > 0 && comparePlainData(anonymous[i - 1], anonymous[i]) >= 0) return { ok: false, error: "anonymous values are not strictly ascending" };
  }
  return { ok: true, set: data as DottedVersionVectorSet<T> };
}

function entryError<T>(entry: unknown, previousId: string | undefined, isValue: (value: unknown) => value is T): string | undefined {
  if (!Array.isArray(entry) || entry.length !== 3) return "is not [nodeId, counter, values]";
  // Indexed, not destructured: this checks every set received, and destructuring runs an iterator.
  const nodeId: unknown = entry[0];
  const counter: unknown = entry[1];
  const entryValues: unknown = entry[2];
  if (typeof nodeId !== "string" || nodeId.length === 0) return "node id is not a non-empty string";
  if (previousId !== undefined && !(previousId < nodeId)) return `node ids are not strictly ascending at ${JSON.stringify(nodeId)}`;
  if (typeof counter !== "number" || !Number.isSafeInteger(counter) || counter < 1) return `counter ${String(counter)} is not a safe integer >= 1`;
  if (!Array.isArray(entryValues)) return "values is not a list";
  if (entryValues.length > counter) return `${entryValues.length} values but only ${counter} dots`;
  for (let i = 0; i < entryValues.length; i++) if (!isValue(entryValues[i])) return "holds something that is not a value";
  return undefined;
}

/**
 * Merge-join of two entry lists by node id. For a node both know, with counters n1 >= n2 and
 * live lists l1, l2: a dot stays live only if neither side knows it superseded, so the live
 * dots are those above both n1 - |l1| and n2 - |l2| (and at most n1): the first
 * min(|l1|, n1 - n2 + |l2|) values of l1.
 */
function mergeEntries<T>(a: readonly DvvEntry<T>[], b: readonly DvvEntry<T>[]): DvvEntry<T>[] {
  return mergeJoinByNodeId(a, b, mergeEntry);
}

function mergeEntry<T>(a: DvvEntry<T>, b: DvvEntry<T>): DvvEntry<T> {
  // No pair arrays or destructuring: every sync and update merges entries.
  const high = a[1] >= b[1] ? a : b;
  const low = high === a ? b : a;
  const highValues = high[2];
  const live = Math.min(highValues.length, high[1] - low[1] + low[2].length);
  return live === highValues.length ? high : [high[0], high[1], highValues.slice(0, live)];
}

/** A new dot for `nodeId`, newest first in its live list. */
function addEvent<T>(entries: DvvEntry<T>[], nodeId: string, value: T): DvvEntry<T>[] {
  const index = entries.findIndex((entry) => entry[0] >= nodeId);
  const existing = index === -1 ? undefined : entries[index];
  if (existing !== undefined && existing[0] === nodeId) {
    const counter = existing[1] + 1;
    if (!Number.isSafeInteger(counter)) assert(false, `update: counter of ${nodeId} overflowed`);
    entries[index] = [nodeId, counter, [value, ...existing[2]]];
  } else {
    entries.splice(index === -1 ? entries.length : index, 0, [nodeId, 1, [value]]);
  }
  return entries;
}

/** The sorted union of two sorted lists of anonymous values, without duplicates. */
function unionAnonymous<T>(a: readonly T[], b: readonly T[]): readonly T[] {
  if (b.length === 0) return a;
  if (a.length === 0) return b;
  const sorted = [...a, ...b].sort(comparePlainData);
  return sorted.filter((value, i) => i === 0 || comparePlainData(sorted[i - 1], value) !== 0);
}
