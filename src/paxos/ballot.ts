import { assert } from "../assert.js";
import type { NodeId } from "../runtime/network.js";

/**
 * A ballot (Paxos' proposal number; CASPaxos, Rystsov 2018, section 2): the ring version the
 * proposer placed the key on (its epoch), a counter and the proposer's node id, ordered by
 * epoch, then counter, then node id. The node id makes two proposers' ballots distinct even
 * when their counters meet, so the order is total and a ballot names exactly one round of one
 * proposer.
 *
 * The epoch comes first so that every round under a newer ring outbids every round under an
 * older one (README, "Ring-version fencing"): a value a stale proposer left on an old acceptor
 * can never look newer than what the new acceptor set chose. An absent epoch is 0 (a proposer
 * without ring versions, and records written before epochs existed).
 *
 * Proposers take the counter from their hybrid logical clock, so ballots of different nodes
 * roughly follow real time and a proposer rarely starts below what the acceptors promised.
 */
export interface Ballot {
  readonly epoch?: number;
  readonly counter: number;
  readonly node: NodeId;
}

/** Below every ballot a proposer issues: what an acceptor that promised nothing holds. */
export const ballotZero: Ballot = Object.freeze({ counter: 0, node: "" });

export function epochOf(ballot: Ballot): number {
  return ballot.epoch ?? 0;
}

export function compareBallots(a: Ballot, b: Ballot): number {
  const ea = a.epoch ?? 0;
  const eb = b.epoch ?? 0;
  if (ea !== eb) return ea < eb ? -1 : 1;
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
  const { counter, node, epoch } = value as Partial<Ballot>;
  if (epoch !== undefined && !(Number.isSafeInteger(epoch) && epoch > 0)) return false;
  return typeof counter === "number" && Number.isSafeInteger(counter) && counter >= 0 && typeof node === "string";
}

/** Wire and disk form: [counter, node], or [counter, node, epoch] when the epoch is above 0. */
export type BallotTuple = [number, string] | [number, string, number];

export function ballotToTuple(ballot: Ballot): BallotTuple {
  const epoch = ballot.epoch ?? 0;
  return epoch === 0 ? [ballot.counter, ballot.node] : [ballot.counter, ballot.node, epoch];
}

export function ballotFromTuple(tuple: unknown): Ballot | undefined {
  if (!Array.isArray(tuple) || (tuple.length !== 2 && tuple.length !== 3)) return undefined;
  const ballot: Ballot = tuple.length === 2 ? { counter: tuple[0] as number, node: tuple[1] as string } : { epoch: tuple[2] as number, counter: tuple[0] as number, node: tuple[1] as string };
  return isBallot(ballot) ? ballot : undefined;
}

/**
 * The ballot a proposer uses next, in its epoch (the ring version it placed the key on;
 * 0: none): above both its clock reading and the highest ballot it has seen refused, so one
 * retry always outbids what refused it. A refusal from a newer epoch cannot be outbid in this
 * one (the proposer needs the newer ring first): undefined.
 */
export function nextBallot(options: { clockCounter: number; above: Ballot; node: NodeId; epoch?: number }): Ballot | undefined {
  assert(Number.isSafeInteger(options.clockCounter) && options.clockCounter > 0, `nextBallot: clock counter ${options.clockCounter} is not a positive safe integer`);
  const epoch = options.epoch ?? 0;
  assert(Number.isSafeInteger(epoch) && epoch >= 0, `nextBallot: epoch ${epoch} is not a non-negative safe integer`);
  const aboveEpoch = options.above.epoch ?? 0;
  if (aboveEpoch > epoch) return undefined;
  const counter = aboveEpoch === epoch ? Math.max(options.clockCounter, options.above.counter + 1) : options.clockCounter;
  assert(Number.isSafeInteger(counter), "nextBallot: ballot counter overflowed");
  return epoch === 0 ? { counter, node: options.node } : { epoch, counter, node: options.node };
}
