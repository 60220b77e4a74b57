import { assert } from "../assert.js";
import type { NodeId } from "../runtime/network.js";
import type { Member } from "./member.js";

/**
 * Recent membership news waiting to ride on probes (SWIM section 4.1, "infection-style
 * dissemination"): each changed record is piggybacked on the next pings and acks until it has
 * been sent `transmitsMax` times, which SWIM sizes as λ·log(n) so news reaches everyone with
 * high probability. Newer news about a member replaces older news about it. The queue holds at
 * most `entriesMax` members; when full, the most-sent entry makes room (it has spread the most).
 *
 * Push-pull gossip (gossip.ts) is the backstop: whatever falls out of this queue still
 * converges through full digests, only more slowly.
 */
export interface PiggybackQueueOptions {
  entriesMax: number;
  /** Records handed out per message. */
  perMessageMax: number;
}

interface Entry {
  member: Member;
  transmits: number;
}

export class PiggybackQueue {
  private readonly entries = new Map<NodeId, Entry>();

  constructor(private readonly options: PiggybackQueueOptions) {
    assert(options.entriesMax >= 1 && options.perMessageMax >= 1, "piggyback bounds must be positive");
  }

  get size(): number {
    return this.entries.size;
  }

  /** Queues the newest record about a member (replacing older news about it). */
  push(member: Member): void {
    this.entries.delete(member.id);
    if (this.entries.size >= this.options.entriesMax) this.evictMostSent();
    this.entries.set(member.id, { member, transmits: 0 });
  }

  /**
   * Takes up to perMessageMax records, least-sent first, counting one transmission for each;
   * entries sent `transmitsMax` times are retired.
   */
  take(transmitsMax: number): Member[] {
    const chosen = [...this.entries.values()]
      .sort((a, b) => a.transmits - b.transmits)
      .slice(0, this.options.perMessageMax);
    for (const entry of chosen) {
      entry.transmits++;
      if (entry.transmits >= transmitsMax) this.entries.delete(entry.member.id);
    }
    return chosen.map((e) => e.member);
  }

  private evictMostSent(): void {
    let worst: Entry | undefined;
    for (const entry of this.entries.values()) if (worst === undefined || entry.transmits > worst.transmits) worst = entry;
    if (worst !== undefined) this.entries.delete(worst.member.id);
  }
}

/** SWIM's retransmission count for a cluster of `memberCount`: multiplier · ⌈log2(n + 1)⌉. */
export function transmitsFor(memberCount: number, multiplier: number): number {
  return multiplier * Math.max(1, Math.ceil(Math.log2(memberCount + 1)));
}
