import { assert } from "../assert.js";
import { strongAcceptors } from "../coordinator/strong-placement.js";
import type { StrongPlacement, StrongResult, StrongVersioned } from "../paxos/strong-coordinator.js";
import { partitionOf } from "../ring/partition-hash.js";
import type { RingState } from "../ring/ring-state.js";
import type { NodeId } from "../runtime/network.js";
import { decodeItemKey } from "../storage/item-key.js";
import { transferOldAcceptors } from "./ownership-plan.js";

/**
 * The strong half of an ownership transfer (issue 6, item 2; issue 4). While the ring is in
 * transition every CASPaxos phase needs majorities of the old and the new acceptor sets
 * (coordinator/strong-placement.ts). A read is the identity change with its accept phase
 * (CASPaxos, section 2.4), so one read of a key under the joint sets writes the key's latest
 * value to a majority of the new set; once every key of the moved partitions was read so, the
 * new set alone sees everything the old set had, and the leader may drop `previous`.
 *
 * Keys are read one at a time (the transfer must not crowd out clients), each retried up to
 * `attemptsMax` times; a key that still fails leaves the transfer unfinished (the caller tries
 * again later, and `previous` stays: safe, only slower).
 */
export interface StrongTransferOptions {
  /** StrongCoordinator.read, on a node whose ring is the ring in transition. */
  read(itemKey: Uint8Array, n: number): Promise<StrongResult<StrongVersioned | undefined>>;
  /** Replicas (acceptors) per key of the keys' table. */
  n: number;
  attemptsMax: number;
  /** Checked between keys: false stops the transfer (the node stops, or the ring moved on). */
  keepGoing?: () => boolean;
}

export type StrongTransferResult = { ok: true; keys: number } | { ok: false; keys: number; failedKey: Uint8Array; error: string };

export async function transferStrongKeys(keys: Iterable<Uint8Array>, options: StrongTransferOptions): Promise<StrongTransferResult> {
  assert(Number.isSafeInteger(options.attemptsMax) && options.attemptsMax > 0, `attemptsMax must be a positive integer, got ${options.attemptsMax}`);
  let done = 0;
  for (const key of keys) {
    if (options.keepGoing !== undefined && !options.keepGoing()) return { ok: false, keys: done, failedKey: key, error: "stopped" };
    const read = await readWithRetries(key, options);
    if (!read.ok) return { ok: false, keys: done, failedKey: key, error: `${read.error}: ${read.message}` };
    done++;
  }
  return { ok: true, keys: done };
}

async function readWithRetries(key: Uint8Array, options: StrongTransferOptions): Promise<StrongResult<unknown>> {
  let last: StrongResult<unknown> = { ok: false, error: "unavailable", message: "no attempt ran" };
  for (let attempt = 0; attempt < options.attemptsMax; attempt++) {
    last = await options.read(key, options.n);
    if (last.ok) return last;
  }
  return last;
}

/**
 * The placement of the transfer's read after a dead node was replaced or removed (paxos/README.md,
 * "Replacing a dead node"): the ring's joint sets, with the old set narrowed by
 * transferOldAcceptors, so a phase needs ceil(n/2) old acceptors and never a departed one
 * (n = 2: the survivor alone, instead of both). Only for the transfer's full-round read, never
 * for clients' rounds or the one-round-trip read, and on a coordinator that does not collect
 * tombstones (StrongCoordinatorOptions.collectTombstones: the departed acceptor may still hold
 * an older value of the key).
 */
export function transferStrongPlacement(ring: () => RingState | undefined, departed: (id: NodeId, ring: RingState) => boolean): StrongPlacement {
  return {
    acceptorsFor(itemKey, n) {
      const current = ring();
      if (current === undefined) return undefined;
      const placed = strongAcceptors(current, partitionOf(decodeItemKey(itemKey).partitionKey, current.partitionCount), n);
      if (placed.previous === undefined) return placed;
      const previous = transferOldAcceptors(placed.previous, (id) => departed(id, current));
      return previous.length > 0 ? { ...placed, previous } : { acceptors: placed.acceptors, ringVersion: placed.ringVersion };
    },
    ringVersion: () => ring()?.version,
  };
}
