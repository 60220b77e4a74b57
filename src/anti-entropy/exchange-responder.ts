import * as dvvset from "../versioning/dotted-version-vector-set.js";
import { isSibling } from "../versioning/sibling.js";
import type { HashTrees } from "./hash-trees.js";
import { MerkleTree } from "./merkle-tree.js";
import { parseAntiEntropyRequest, type ExchangeBounds, type FetchRequest, type KeysRequest, type MergeRequest } from "./anti-entropy-messages.js";
import type { ReplicaAccess } from "./replica-access.js";
import type { TreeId } from "./segment-index.js";
import { VERSION_HASH_BYTES } from "./version-hash.js";

/**
 * The replica's side of a Merkle exchange (anti-entropy-messages.ts): answers root, segment
 * hashes and segment key lists from its trees and index, hands out stored sets, and syncs in
 * the sets the initiator pushes through the normal merge. A tree it holds no key of answers as
 * empty, so a replica that lost its data still takes part and gets everything back.
 */
export interface ExchangeResponderOptions {
  trees: HashTrees;
  isLoaded: () => boolean;
  replica: ReplicaAccess;
  bounds: ExchangeBounds;
}

const emptyTree = new MerkleTree();

export class ExchangeResponder {
  constructor(private readonly options: ExchangeResponderOptions) {}

  async handle(message: unknown): Promise<unknown> {
    const parsed = parseAntiEntropyRequest(message, this.options.bounds);
    if (!parsed.ok) return { ok: false, error: parsed.error };
    const request = parsed.request;
    switch (request.type) {
      case "anti-entropy.root":
        return this.options.isLoaded() ? { ok: true, root: this.tree(request.tree).root() } : { ok: false, error: "not-loaded" };
      case "anti-entropy.roots":
        return this.options.isLoaded() ? { ok: true, roots: this.roots(request.trees) } : { ok: false, error: "not-loaded" };
      case "anti-entropy.hashes":
        if (!this.options.isLoaded()) return { ok: false, error: "not-loaded" };
        if (request.level === 2 && request.youngMs !== undefined) {
          const hashes = this.tree(request.tree).hashes(request.level, request.indexes);
          return { ok: true, hashes, young: this.options.trees.youngSegments(request.tree, request.indexes, request.youngMs) };
        }
        return { ok: true, hashes: this.tree(request.tree).hashes(request.level, request.indexes) };
      case "anti-entropy.keys":
        return this.keys(request);
      case "anti-entropy.fetch":
        return this.fetch(request);
      case "anti-entropy.merge":
        return this.merge(request);
    }
  }

  private tree(tree: TreeId): MerkleTree {
    return this.options.trees.hashedTree(tree) ?? emptyTree;
  }

  /** The trees' roots, 8 bytes each, concatenated in the request's order. */
  private roots(trees: readonly TreeId[]): Uint8Array {
    const roots = new Uint8Array(trees.length * VERSION_HASH_BYTES);
    trees.forEach((tree, i) => roots.set(this.tree(tree).root(), i * VERSION_HASH_BYTES));
    return roots;
  }

  /**
   * Whole segments until the reply would pass keysPerReplyMax entries; a segment that alone
   * holds more is answered as [segment, null] (too large to list: a tree of about 1024 times
   * that many keys), so one reply never grows without bound.
   */
  private keys(request: KeysRequest): unknown {
    const max = this.options.bounds.keysPerReplyMax;
    const listed: [number, [Uint8Array, Uint8Array][] | null][] = [];
    let count = 0;
    for (const segment of request.segments) {
      const entries = this.options.trees.listSegment(request.tree, segment, max + 1);
      if (entries.length > max) {
        listed.push([segment, null]);
        continue;
      }
      if (count + entries.length > max) break;
      listed.push([segment, entries.map((e) => [e.itemKey, e.hash])]);
      count += entries.length;
    }
    return { ok: true, segments: listed };
  }

  private fetch(request: FetchRequest): unknown {
    return { ok: true, sets: request.keys.map((key) => this.options.replica.fetch(key) ?? null) };
  }

  /**
   * A key this node cannot place yet (its table not in the catalog here: a node that just
   * rejoined with an empty disk, whose catalog is still syncing) is skipped, not stored: stored,
   * it would miss its index entry and tree until the background index check, and the trees
   * would differ until then (a minute). The next exchange, once the table is known, brings it.
   */
  private async merge(request: MergeRequest): Promise<unknown> {
    let merged = 0;
    for (const [key, data] of request.entries) {
      const parsed = dvvset.parse(data, isSibling);
      if (!parsed.ok) return { ok: false, error: `merge: ${parsed.error}` };
      const tree = this.options.trees.placeOf(key);
      if (tree === undefined) continue;
      if ((await this.options.replica.merge(key, parsed.set)).ok) merged++;
      this.options.trees.forgetWrite(tree, key);
    }
    return { ok: true, merged };
  }
}
