import { assert } from "../assert.js";
import { Namespace } from "../storage/keyspace.js";
import { merkleLeafSegments, segmentOf } from "./merkle-tree.js";

/**
 * Where a replica keeps each key's version hash, in namespace 0x06 (keyspace.ts), grouped so a
 * Merkle leaf segment is one contiguous range (Riak's hashtree keeps (segment, key) -> hash
 * the same way):
 *
 *   [0x06][partition u32 BE][n u8][segment u16 BE][item key]  ->  version hash (8 bytes)
 *
 * A tree is per (partition, n), as Riak keys its trees by {index, n}: tables with different
 * replication factors have different replica sets for one partition, and a tree must only
 * hold keys that every one of its replicas should hold.
 */
export interface TreeId {
  readonly partition: number;
  readonly n: number;
}

const treeHeaderBytes = 1 + 4 + 1;
const segmentHeaderBytes = treeHeaderBytes + 2;
const nMax = 0xff;

export function treeName(tree: TreeId): string {
  return `${tree.partition}/${tree.n}`;
}

export function isTreeId(value: unknown): value is TreeId {
  const tree = value as { partition?: unknown; n?: unknown } | null;
  return (
    typeof tree === "object" && tree !== null &&
    Number.isSafeInteger(tree.partition) && (tree.partition as number) >= 0 && (tree.partition as number) <= 0xffff_ffff &&
    Number.isSafeInteger(tree.n) && (tree.n as number) >= 1 && (tree.n as number) <= nMax
  );
}

/** Every index entry of one tree starts with these bytes. */
export function treePrefix(tree: TreeId): Uint8Array {
  const key = new Uint8Array(treeHeaderBytes);
  writeTreeHeader(key, tree);
  return key;
}

/** Every index entry of one leaf segment of one tree starts with these bytes. */
export function segmentPrefix(tree: TreeId, segment: number): Uint8Array {
  assert(Number.isInteger(segment) && segment >= 0 && segment < merkleLeafSegments, `segmentPrefix: segment ${segment} out of range`);
  const key = new Uint8Array(segmentHeaderBytes);
  writeTreeHeader(key, tree);
  key[treeHeaderBytes] = segment >>> 8;
  key[treeHeaderBytes + 1] = segment & 0xff;
  return key;
}

/** The index entry's key for an item key of `tree` (on every write: one allocation); `segment` is segmentOf(itemKey) when the caller has it. */
export function indexKey(tree: TreeId, itemKey: Uint8Array, segment = segmentOf(itemKey)): Uint8Array {
  const key = new Uint8Array(segmentHeaderBytes + itemKey.length);
  writeTreeHeader(key, tree);
  key[treeHeaderBytes] = segment >>> 8;
  key[treeHeaderBytes + 1] = segment & 0xff;
  key.set(itemKey, segmentHeaderBytes);
  return key;
}

function writeTreeHeader(key: Uint8Array, tree: TreeId): void {
  // Checked on every write, so the message is only built on failure.
  if (!isTreeId(tree)) assert(false, `not a tree id: ${JSON.stringify(tree)}`);
  key[0] = Namespace.antiEntropy;
  key[1] = tree.partition >>> 24;
  key[2] = (tree.partition >>> 16) & 0xff;
  key[3] = (tree.partition >>> 8) & 0xff;
  key[4] = tree.partition & 0xff;
  key[5] = tree.n;
}

export function decodeIndexKey(key: Uint8Array): { tree: TreeId; segment: number; itemKey: Uint8Array } {
  assert(key.length > segmentHeaderBytes && key[0] === Namespace.antiEntropy, "decodeIndexKey: not an anti-entropy index key");
  const view = new DataView(key.buffer, key.byteOffset, key.byteLength);
  const tree = { partition: view.getUint32(1), n: key[5]! };
  return { tree, segment: view.getUint16(treeHeaderBytes), itemKey: key.slice(segmentHeaderBytes) };
}

/** The first key after every index entry of `tree` (where the next tree's entries start). */
export function afterTree(tree: TreeId): Uint8Array {
  const key = treePrefix(tree);
  for (let i = key.length - 1; i > 0; i--) {
    if (key[i] !== 0xff) {
      key[i]! += 1;
      return key.subarray(0, i + 1);
    }
    key[i] = 0;
  }
  return Uint8Array.of(Namespace.antiEntropy + 1);
}
