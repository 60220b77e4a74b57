import { assert } from "../assert.js";
import type { Replication } from "../catalog/table-definition.js";

/**
 * The quorums one eventual request runs with (Dynamo paper, section 4.5; Riak's r, w, dw, pr,
 * pw): n replicas, r replies for a read, w acknowledgements for a write, dw of them durable,
 * pr/pw from primary replicas only (a fallback's reply never counts toward them).
 *
 * Where the values come from, in order:
 *   1. the table's replication {n, r, w}; dw, pr and pw default to 0 (not asked);
 *   2. the request's overrides (`?r=`, `?w=`, `?dw=`, `?pr=`, `?pw=`), validated against the
 *      table's n: asking more replies than the table keeps replicas is an error
 *      (`r=4 exceeds n=3`), not something to cap silently;
 *   3. the member count: a cluster smaller than the table's n (a single node after
 *      `npm start`) still serves, so n is capped at the member count and every other value at
 *      that n (the rule; the table description shows the effective values).
 */
export interface Quorum {
  readonly n: number;
  readonly r: number;
  readonly w: number;
  readonly dw: number;
  readonly pr: number;
  readonly pw: number;
}

/** A request's overrides; absent means the table's value (or 0 for dw, pr, pw). */
export interface QuorumOverrides {
  readonly r?: number;
  readonly w?: number;
  readonly dw?: number;
  readonly pr?: number;
  readonly pw?: number;
}

export type QuorumOptionsResult = { ok: true; quorum: Quorum } | { ok: false; error: string };

type QuorumName = Exclude<keyof Quorum, "n">;

/** Each value's lower bound: a read or write waits for at least one reply; the rest may be 0. */
const minimum: Readonly<Record<QuorumName, number>> = { r: 1, w: 1, dw: 0, pr: 0, pw: 0 };
/** Object.keys(minimum), once: this runs on every request. */
const quorumNames = Object.keys(minimum) as QuorumName[];

/** The effective quorum of a request on a table in a cluster of `members` nodes (see above). */
export function quorumOptions(replication: Replication, overrides: QuorumOverrides, members: number): QuorumOptionsResult {
  assert(Number.isSafeInteger(members) && members >= 1, `quorumOptions: a cluster has at least one member, got ${members}`);
  assert(Number.isSafeInteger(replication.n) && replication.n >= 1, `quorumOptions: table n must be a positive integer, got ${replication.n}`);
  const asked: Record<QuorumName, number> = {
    r: overrides.r ?? replication.r,
    w: overrides.w ?? replication.w,
    dw: overrides.dw ?? 0,
    pr: overrides.pr ?? 0,
    pw: overrides.pw ?? 0,
  };
  for (const name of quorumNames) {
    const error = valueError(name, asked[name], replication.n);
    if (error !== undefined) return { ok: false, error };
  }
  const n = Math.min(replication.n, members);
  const cap = (value: number): number => Math.min(value, n);
  return { ok: true, quorum: { n, r: cap(asked.r), w: cap(asked.w), dw: cap(asked.dw), pr: cap(asked.pr), pw: cap(asked.pw) } };
}

function valueError(name: QuorumName, value: number, n: number): string | undefined {
  if (!Number.isSafeInteger(value)) return `${name}=${String(value)} is not a whole number`;
  if (value < minimum[name]) return `${name}=${value} is below ${minimum[name]}`;
  if (value > n) return `${name}=${value} exceeds n=${n}`;
  return undefined;
}
