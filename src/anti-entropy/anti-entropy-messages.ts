import { merkleFanOut, merkleLeafSegments, type MerkleLevel } from "./merkle-tree.js";
import { isTreeId, type TreeId } from "./segment-index.js";

/**
 * The messages of a Merkle exchange between two replicas of one tree (exchange.ts), plain
 * data so they cross the network as MessagePack. Hashes travel as 8 bytes each, concatenated.
 *
 *   { type: "anti-entropy.root", tree }               -> { ok: true, root } | { ok: false, error }
 *   { type: "anti-entropy.roots", trees }             -> { ok: true, roots } (8 bytes per tree, in order)
 *   { type: "anti-entropy.hashes", tree, level, indexes, youngMs? } -> { ok: true, hashes, young? }
 *   { type: "anti-entropy.keys", tree, segments }     -> { ok: true, segments: [segment, [itemKey, hash][]][] }
 *   { type: "anti-entropy.fetch", keys }              -> { ok: true, sets: (set | null)[] }
 *   { type: "anti-entropy.merge", entries: [key, set][] } -> { ok: true, merged }
 *
 * `error` is "not-loaded" while the replica is still building its trees after a start.
 *
 * "roots" compares many trees in one round trip: a round sends one per peer (at most
 * rootsPerRequestMax trees each) and runs a full exchange only for the trees whose roots
 * differ, so replicas that agree cost one round trip per peer, not one per tree. A peer that
 * does not know it (an older node) answers `unknown anti-entropy message`; the initiator then
 * compares those trees one root at a time, as before.
 *
 * `youngMs` on a level-2 "hashes" request asks the replica which of those leaf segments it
 * wrote within that many ms (`young`: one byte each, 1 for young), so the initiator can put off
 * a difference that is a write still landing on either side (exchange.ts). An older replica
 * leaves `young` out and only the initiator's own writes count.
 */
export const antiEntropyMessagePrefix = "anti-entropy.";

export interface ExchangeBounds {
  /** Leaf segments listed per "keys" request. */
  segmentsPerRequestMax: number;
  /** (key, hash) entries per "keys" reply; whole segments only, but always the first. */
  keysPerReplyMax: number;
  /** Keys per "fetch" and "merge" request. */
  repairBatchMax: number;
  /** Differing keys one exchange repairs; the rest wait for the next exchange. */
  keysPerExchangeMax: number;
  /** Trees per "roots" request. */
  rootsPerRequestMax: number;
}

export const exchangeBoundsDefault: Readonly<ExchangeBounds> = Object.freeze({
  segmentsPerRequestMax: 64,
  keysPerReplyMax: 10_000,
  repairBatchMax: 100,
  keysPerExchangeMax: 10_000,
  rootsPerRequestMax: 1024,
});

export type RootRequest = { type: "anti-entropy.root"; tree: TreeId };
export type RootsRequest = { type: "anti-entropy.roots"; trees: TreeId[] };
export type HashesRequest = { type: "anti-entropy.hashes"; tree: TreeId; level: MerkleLevel; indexes: number[]; youngMs?: number };

/** The longest `youngMs` a hashes request may ask about (an hour). */
export const youngMsMax = 3_600_000;
export type KeysRequest = { type: "anti-entropy.keys"; tree: TreeId; segments: number[] };
export type FetchRequest = { type: "anti-entropy.fetch"; keys: Uint8Array[] };
export type MergeRequest = { type: "anti-entropy.merge"; entries: [Uint8Array, unknown][] };
export type AntiEntropyRequest = RootRequest | RootsRequest | HashesRequest | KeysRequest | FetchRequest | MergeRequest;

export type ParsedRequest = { ok: true; request: AntiEntropyRequest } | { ok: false; error: string };

const levelWidth = [1, merkleFanOut, merkleLeafSegments] as const;

/** Checks a request off the wire (the handler's half of "assert around the wire"). */
export function parseAntiEntropyRequest(message: unknown, bounds: ExchangeBounds): ParsedRequest {
  const m = message as Record<string, unknown> | null;
  const type = m?.type;
  if (type === "anti-entropy.root") return isTreeId(m!.tree) ? ok(m) : fail("root: bad tree");
  if (type === "anti-entropy.roots") {
    const trees = m!.trees;
    if (!Array.isArray(trees) || trees.length === 0 || trees.length > bounds.rootsPerRequestMax) return fail(`roots: trees must be a list of 1 to ${bounds.rootsPerRequestMax} trees`);
    return trees.every(isTreeId) ? ok(m) : fail("roots: bad tree");
  }
  if (type === "anti-entropy.hashes") {
    const level = m!.level;
    if (!isTreeId(m!.tree) || (level !== 0 && level !== 1 && level !== 2)) return fail("hashes: bad tree or level");
    const youngMs = m!.youngMs;
    if (youngMs !== undefined && !(Number.isSafeInteger(youngMs) && (youngMs as number) >= 0 && (youngMs as number) <= youngMsMax)) return fail(`hashes: youngMs must be an integer from 0 to ${youngMsMax}`);
    return indexesWithin(m!.indexes, levelWidth[level], merkleLeafSegments) ? ok(m) : fail("hashes: bad indexes");
  }
  if (type === "anti-entropy.keys") {
    if (!isTreeId(m!.tree)) return fail("keys: bad tree");
    return indexesWithin(m!.segments, merkleLeafSegments, bounds.segmentsPerRequestMax) ? ok(m) : fail("keys: bad segments");
  }
  if (type === "anti-entropy.fetch") {
    const keys = m!.keys;
    return Array.isArray(keys) && keys.length <= bounds.repairBatchMax && keys.every(isItemKey) ? ok(m) : fail("fetch: bad keys");
  }
  if (type === "anti-entropy.merge") {
    const entries = m!.entries;
    const valid = Array.isArray(entries) && entries.length <= bounds.repairBatchMax && entries.every((e) => Array.isArray(e) && e.length === 2 && isItemKey(e[0]));
    return valid ? ok(m) : fail("merge: bad entries");
  }
  return fail(`unknown anti-entropy message ${String(type)}`);
}

function indexesWithin(value: unknown, width: number, countMax: number): value is number[] {
  return Array.isArray(value) && value.length <= countMax && value.every((i) => Number.isInteger(i) && i >= 0 && i < width);
}

function isItemKey(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array && value.length > 0;
}

function ok(message: unknown): ParsedRequest {
  return { ok: true, request: message as AntiEntropyRequest };
}

function fail(error: string): ParsedRequest {
  return { ok: false, error };
}
