import { runIn, tryRun } from "./shell.js";

/**
 * Network partitions between node namespaces (Jepsen's shapes: isolate one node,
 * majority/minority, bridge), made with iptables DROP rules inside each node's namespace, in
 * both directions at both ends. Only node-to-node traffic is cut: the test's clients on the
 * host address still reach every node, so a client may talk to a minority side, as in a real
 * partition. Healing flushes the rules.
 */
export type NodePair = readonly [number, number];

export class Partitions {
  private readonly cut = new Set<string>();

  constructor(private readonly namespaces: readonly string[], private readonly addresses: readonly string[]) {}

  /** Drops all traffic between each pair of node indexes (0-based). */
  block(pairs: readonly NodePair[]): void {
    for (const [a, b] of pairs) {
      if (a === b) continue;
      const name = a < b ? `${a}-${b}` : `${b}-${a}`;
      if (this.cut.has(name)) continue;
      this.cut.add(name);
      this.drop(a, b);
      this.drop(b, a);
    }
  }

  private drop(from: number, to: number): void {
    const namespace = this.namespaces[from]!;
    const peer = this.addresses[to]!;
    runIn(namespace, "iptables", ["-w", "-A", "INPUT", "-s", peer, "-j", "DROP"]);
    runIn(namespace, "iptables", ["-w", "-A", "OUTPUT", "-d", peer, "-j", "DROP"]);
  }

  /** Cuts every link between nodes of different groups; nodes in no group keep all links. */
  split(groups: ReadonlyArray<readonly number[]>): void {
    this.block(splitPairs(groups));
  }

  /**
   * Drops each packet between nodes with the given probability (iptables' statistic match; this
   * kernel has no netem). Traffic with the test host is untouched.
   */
  lossy(probability: number): void {
    this.namespaces.forEach((namespace, i) => {
      for (const [j, peer] of this.addresses.entries()) {
        if (j === i) continue;
        runIn(namespace, "iptables", ["-w", "-A", "INPUT", "-s", peer, "-m", "statistic", "--mode", "random", "--probability", String(probability), "-j", "DROP"]);
      }
    });
    this.cut.add(`loss ${probability}`);
  }

  /** Flushes every rule in every node namespace. */
  heal(): void {
    for (const namespace of this.namespaces) tryRun("ip", ["netns", "exec", namespace, "iptables", "-w", "-F"]);
    this.cut.clear();
  }

  describe(): string {
    const describePair = (pair: string) => (pair.startsWith("loss") ? pair : pair.split("-").map((i) => `n${Number(i) + 1}`).join("x"));
    return this.cut.size === 0 ? "none" : [...this.cut].map(describePair).join(" ");
  }
}

/** The node pairs a split cuts: every pair across two different groups, none inside a group. */
export function splitPairs(groups: ReadonlyArray<readonly number[]>): NodePair[] {
  const pairs: NodePair[] = [];
  groups.forEach((group, g) => {
    for (const other of groups.slice(g + 1)) for (const a of group) for (const b of other) pairs.push([a, b]);
  });
  return pairs;
}
