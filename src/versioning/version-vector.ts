import { assert } from "../assert.js";

/**
 * A version vector: for each node id that coordinated writes, how many of its events are
 * known (Parker et al. 1983; the causal context of Dynamo, section 4.4). Plain data, so it
 * crosses MessagePack and JSON unchanged: pairs sorted by node id (code-unit order), every
 * id once, every counter a safe integer of at least 1. A missing id means counter 0, so
 * every vector has exactly one representation and structural equality is causal equality.
 */
export type VersionVector = readonly VersionVectorEntry[];
export type VersionVectorEntry = readonly [nodeId: string, counter: number];

/** One event of one node: the `counter`-th write that `nodeId` coordinated for a key. */
export type Dot = readonly [nodeId: string, counter: number];

export const emptyVersionVector: VersionVector = Object.freeze([]);

/** Why `vector` is not in canonical form, or undefined when it is. */
export function versionVectorError(vector: VersionVector): string | undefined {
  for (let i = 0; i < vector.length; i++) {
    const [nodeId, counter] = vector[i]!;
    if (typeof nodeId !== "string" || nodeId.length === 0) return `entry ${i}: node id is not a non-empty string`;
    if (!Number.isSafeInteger(counter) || counter < 1) return `entry ${i} (${nodeId}): counter ${counter} is not a safe integer >= 1`;
    if (i > 0 && !(vector[i - 1]![0] < nodeId)) return `entry ${i} (${nodeId}): node ids are not strictly ascending`;
  }
  return undefined;
}

export function assertVersionVector(vector: VersionVector, action: string): void {
  const error = versionVectorError(vector);
  if (error !== undefined) assert(false, `${action}: malformed version vector: ${error}`);
}

/** The counter of `nodeId` in `vector` (0 when absent). Linear: vectors are short. */
export function counterOf(vector: VersionVector, nodeId: string): number {
  for (const [id, counter] of vector) if (id === nodeId) return counter;
  return 0;
}

/** True when `vector` has seen the event `dot` (its node's counter reaches the dot's). */
export function coversDot(vector: VersionVector, dot: Dot): boolean {
  return counterOf(vector, dot[0]) >= dot[1];
}

/** `a` descends `b` (a >= b): every event `b` has seen, `a` has seen too. Reflexive. */
export function descends(a: VersionVector, b: VersionVector): boolean {
  let i = 0;
  for (const [nodeId, counter] of b) {
    while (i < a.length && a[i]![0] < nodeId) i++;
    const entry = a[i];
    if (entry === undefined || entry[0] !== nodeId || entry[1] < counter) return false;
  }
  return true;
}

/** `a` dominates `b` (a > b): `a` descends `b` and has seen at least one event more. */
export function dominates(a: VersionVector, b: VersionVector): boolean {
  return descends(a, b) && !descends(b, a);
}

/** Neither has seen everything the other has: the two are concurrent. */
export function concurrent(a: VersionVector, b: VersionVector): boolean {
  return !descends(a, b) && !descends(b, a);
}

/** The least vector that descends both: the pointwise maximum. */
export function mergeVersionVectors(a: VersionVector, b: VersionVector): VersionVector {
  return mergeJoinByNodeId(a, b, (left, right) => (left[1] >= right[1] ? left : right));
}

/**
 * Merge-join of two lists sorted by node id (their first element): an entry only one side has
 * is kept as it is; `both` combines the two entries of a node both sides know.
 */
export function mergeJoinByNodeId<E extends readonly [string, ...unknown[]]>(a: readonly E[], b: readonly E[], both: (left: E, right: E) => E): E[] {
  const merged: E[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const left = a[i];
    const right = b[j];
    if (right === undefined || (left !== undefined && left[0] < right[0])) {
      merged.push(left!);
      i++;
    } else if (left === undefined || right[0] < left[0]) {
      merged.push(right);
      j++;
    } else {
      merged.push(both(left, right));
      i++;
      j++;
    }
  }
  return merged;
}
