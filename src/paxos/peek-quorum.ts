import { assert } from "../assert.js";
import type { NodeId } from "../runtime/network.js";
import type { Ballot } from "./ballot.js";
import type { Peeked } from "./paxos-messages.js";

/**
 * The quorum arithmetic of the one-round-trip read (README, "A one-round-trip read"): it
 * succeeds once a strict majority of every acceptor set reported the same accepted ballot (or
 * all reported nothing accepted), and gives up as soon as no ballot can get there any more. A
 * node in two sets counts in both; a repeated reply is ignored; a failed or refused acceptor
 * counts against every ballot.
 *
 * Example:
 *   const quorum = new PeekQuorum([["n1", "n2", "n3"]]);
 *   quorum.add("n1", { ballot: b, value: v }); quorum.add("n2", { ballot: b, value: v });
 *   quorum.agreed; // { ballot: b, value: v }
 */
export class PeekQuorum {
  private readonly sets: ReadonlyArray<ReadonlySet<NodeId>>;
  private readonly replied = new Map<NodeId, string | undefined>();
  private readonly groups = new Map<string, Peeked>();
  private found: Peeked | undefined;
  readonly nodes: readonly NodeId[];

  constructor(sets: ReadonlyArray<readonly NodeId[]>) {
    assert(sets.length > 0 && sets.every((set) => set.length > 0), "a read needs at least one non-empty acceptor set");
    this.sets = sets.map((set) => new Set(set));
    this.nodes = [...new Set(sets.flat())];
  }

  /** `peeked` undefined: the acceptor failed or refused. */
  add(node: NodeId, peeked: Peeked | undefined): void {
    assert(this.nodes.includes(node), `reply from ${node}, which is not an acceptor of this read`);
    if (this.replied.has(node)) return;
    const group = peeked === undefined ? undefined : groupOf(peeked.ballot);
    this.replied.set(node, group);
    if (group === undefined || this.found !== undefined) return;
    if (!this.groups.has(group)) this.groups.set(group, peeked!);
    if (this.sets.every((set) => this.count(set, group) > set.size / 2)) this.found = this.groups.get(group);
  }

  /** What a majority of every set accepted, once they agree. */
  get agreed(): Peeked | undefined {
    return this.found;
  }

  /** No ballot, seen or not, can reach a majority of every set any more. */
  get hopeless(): boolean {
    if (this.found !== undefined) return false;
    const possible = (group: string | null): boolean =>
      this.sets.every((set) => {
        let reachable = 0;
        for (const node of set) {
          const answer = this.replied.get(node);
          if (!this.replied.has(node) || (group !== null && answer === group)) reachable++;
        }
        return reachable > set.size / 2;
      });
    if (possible(null)) return false;
    for (const group of this.groups.keys()) if (possible(group)) return false;
    return true;
  }

  /** Every acceptor answered. */
  get complete(): boolean {
    return this.replied.size === this.nodes.length;
  }

  private count(set: ReadonlySet<NodeId>, group: string): number {
    let count = 0;
    for (const node of set) if (this.replied.get(node) === group) count++;
    return count;
  }
}

function groupOf(ballot: Ballot | undefined): string {
  return ballot === undefined ? "-" : `${ballot.epoch ?? 0}:${ballot.counter}:${ballot.node}`;
}
