import { assert } from "../assert.js";
import type { NodeId } from "../runtime/network.js";

/**
 * Which directed links of the simulated network are cut or clogged (Jepsen's partition shapes,
 * FoundationDB's clogging). A cut link drops what crosses it; a clogged link holds messages
 * until it is unclogged (the network keeps them, bounded). Both are directed, so a one-way
 * partition is simply a cut in one direction. A node's link to itself is never cut.
 */
export class LinkFaults {
  private readonly cut = new Set<string>();
  private readonly clogged = new Set<string>();

  isCut(from: NodeId, to: NodeId): boolean {
    return this.cut.size > 0 && this.cut.has(linkKey(from, to));
  }

  isClogged(from: NodeId, to: NodeId): boolean {
    return this.clogged.size > 0 && this.clogged.has(linkKey(from, to));
  }

  /** Symmetric partition: no message crosses between `a` and `b` in either direction. */
  partition(a: readonly NodeId[], b: readonly NodeId[]): void {
    this.cutOneWay(a, b);
    this.cutOneWay(b, a);
  }

  /** One-way partition: `from` cannot reach `to`; `to` still reaches `from`. */
  cutOneWay(from: readonly NodeId[], to: readonly NodeId[]): void {
    for (const f of from) for (const t of to) if (f !== t) this.cut.add(linkKey(f, t));
  }

  /**
   * Jepsen's bridge: two halves that cannot see each other, and one node that sees both.
   * `bridgeNode` must be in neither half.
   */
  bridge(left: readonly NodeId[], right: readonly NodeId[], bridgeNode: NodeId): void {
    assert(!left.includes(bridgeNode) && !right.includes(bridgeNode), `bridge node ${bridgeNode} must not be in either half`);
    this.partition(left, right);
  }

  /** Cuts `node` off from every other node in `all`, both directions. */
  isolate(node: NodeId, all: readonly NodeId[]): void {
    this.partition([node], all);
  }

  /** Heals every cut link (clogs stay). */
  healCuts(): void {
    this.cut.clear();
  }

  clog(from: NodeId, to: NodeId): void {
    if (from !== to) this.clogged.add(linkKey(from, to));
  }

  unclog(from: NodeId, to: NodeId): void {
    this.clogged.delete(linkKey(from, to));
  }

  /** Directed links currently clogged, as [from, to] pairs in a deterministic order. */
  cloggedLinks(): Array<[NodeId, NodeId]> {
    return [...this.clogged].sort().map(splitKey);
  }

  /** Directed links currently cut, as [from, to] pairs in a deterministic order. */
  cutLinks(): Array<[NodeId, NodeId]> {
    return [...this.cut].sort().map(splitKey);
  }
}

const SEPARATOR = "\u0000";

function linkKey(from: NodeId, to: NodeId): string {
  return from + SEPARATOR + to;
}

function splitKey(key: string): [NodeId, NodeId] {
  const at = key.indexOf(SEPARATOR);
  return [key.slice(0, at), key.slice(at + 1)];
}
