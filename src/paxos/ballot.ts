import { assert } from "../assert.js";
import type { NodeId } from "../runtime/network.js";

/**
 * A ballot (Paxos' proposal number; CASPaxos, Rystsov 2018, section 2): a counter and the
 * proposer's node id, ordered by counter, then by node id. The node id makes two proposers'
 * ballots distinct even when their counters meet, so the order is total and a ballot names
 * exactly one round of one proposer.
 *
 * Proposers take the counter from their hybrid logical clock, so ballots of different nodes
 * roughly follow real time and a proposer rarely starts below what the acceptors promised.
 */
export interface Ballot {
  readonly counter: number;
  readonly node: NodeId;
}

/** Below every ballot a proposer issues: what an acceptor that promised nothing holds. */
export const ballotZero: Ballot = Object.freeze({ counter: 0, node: "" });

export function compareBallots(a: Ballot, b: Ballot): number {
  if (a.counter !== b.counter) return a.counter < b.counter ? -1 : 1;
  if (a.node === b.node) return 0;
  return a.node < b.node ? -1 : 1;
}

export function maxBallot(a: Ballot, b: Ballot): Ballot {
  return compareBallots(a, b) >= 0 ? a : b;
}

/** "counter.node": how a ballot names the value accepted under it (the StrongVersioned version). */
export function ballotText(ballot: Ballot): string {
  return `${ballot.counter}.${ballot.node}`;
}

export function isBallot(value: unknown): value is Ballot {
  if (value === null || typeof value !== "object") return false;
  const { counter, node } = value as Partial<Ballot>;
  return typeof counter === "number" && Number.isSafeInteger(counter) && counter >= 0 && typeof node === "string";
}

/** Wire and disk form: [counter, node]. */
export type BallotTuple = [number, string];

export function ballotToTuple(ballot: Ballot): BallotTuple {
  return [ballot.counter, ballot.node];
}

export function ballotFromTuple(tuple: unknown): Ballot | undefined {
  if (!Array.isArray(tuple) || tuple.length !== 2) return undefined;
  const ballot = { counter: tuple[0] as number, node: tuple[1] as string };
  return isBallot(ballot) ? ballot : undefined;
}

/**
 * The ballot a proposer uses next: above both its clock reading and the highest ballot it has
 * seen refused, so one retry always outbids what refused it.
 */
export function nextBallot(options: { clockCounter: number; above: Ballot; node: NodeId }): Ballot {
  assert(Number.isSafeInteger(options.clockCounter) && options.clockCounter > 0, `nextBallot: clock counter ${options.clockCounter} is not a positive safe integer`);
  const counter = Math.max(options.clockCounter, options.above.counter + 1);
  assert(Number.isSafeInteger(counter), "nextBallot: ballot counter overflowed");
  return { counter, node: options.node };
}
