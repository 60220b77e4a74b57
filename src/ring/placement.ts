import { assert } from "../assert.js";
import type { NodeId } from "../runtime/network.js";
import type { RingMember } from "./ring-state.js";

/**
 * The greedy step behind claim.ts: given a ring in which some partitions have no owner and
 * some members own more or less than their share, move one partition at a time until every
 * member owns exactly its share. Shares are fixed first (floor(P/M) each, and one more for
 * the P mod M members that already own the most, ties to the lower NodeId), which fixes how
 * many partitions move; the greedy only decides which ones, by this preference:
 *
 *   1. the receiver owns nothing within `spacing` partitions of it (no new spacing violation);
 *      failing that, its nearest own partition as far as possible;
 *   2. the giver owns another partition within `spacing` of it (the move mends a violation);
 *   3. the receiver's nearest own partition is at least P/share away (spread evenly);
 *   4. the receiver still needs the most partitions;
 *   5. the lowest partition index, then the lowest NodeId (determinism).
 *
 * Cost per move: receivers x candidate partitions, plus O(P) to keep the receiver's distances.
 */
export interface PlacementDraft {
  partitionCount: number;
  owners: ReadonlyArray<NodeId | undefined>;
  /** Sorted by NodeId. */
  members: readonly RingMember[];
}

const unowned = -1;

export class Placement {
  private readonly partitionCount: number;
  private readonly ids: NodeId[];
  /** Member index owning each partition, or `unowned`. */
  private readonly owner: Int32Array;
  private readonly count: Int32Array;
  private readonly surplus: Int32Array;
  private readonly need: Int32Array;
  /** For each receiver: cyclic distance from every partition to its nearest own partition. */
  private readonly distance = new Map<number, Int32Array>();
  private readonly evenSpacing: Int32Array;

  /**
   * How many members may still go one above floor(P/M). Only a first claim leaves this open
   * (`flexibleExtras`): who gets the extra partitions is then free, and choosing them while
   * placing lets the greedy close the seam where the diagonal wraps past partition 0.
   */
  private extrasOpen: number;
  private readonly hasExtra: Uint8Array;

  constructor(
    draft: PlacementDraft,
    private readonly spacing: number,
    options: { flexibleExtras: boolean },
  ) {
    const partitionCount = draft.partitionCount;
    const memberCount = draft.members.length;
    assert(memberCount >= 1 && memberCount <= partitionCount, `${memberCount} members cannot share ${partitionCount} partitions`);
    assert(draft.owners.length === partitionCount, "one owner slot per partition");
    this.partitionCount = partitionCount;
    this.ids = draft.members.map((m) => m.id);
    const index = new Map(this.ids.map((id, i) => [id, i]));
    this.owner = Int32Array.from(draft.owners, (id) => {
      if (id === undefined) return unowned;
      const i = index.get(id);
      assert(i !== undefined, `partition owner ${id} is not a member`);
      return i;
    });
    this.count = new Int32Array(memberCount);
    for (const o of this.owner) if (o !== unowned) this.count[o]!++;
    const target = this.targets(options.flexibleExtras);
    this.extrasOpen = options.flexibleExtras ? partitionCount % memberCount : 0;
    this.hasExtra = new Uint8Array(memberCount);
    this.surplus = Int32Array.from(target, (t, i) => Math.max(0, this.count[i]! - t));
    this.need = Int32Array.from(target, (t, i) => Math.max(0, t - this.count[i]!));
    this.evenSpacing = Int32Array.from(target, (t) => Math.floor(partitionCount / t));
    for (let r = 0; r < memberCount; r++) if (this.need[r]! > 0 || this.extrasOpen > 0) this.distance.set(r, this.distancesOf(r));
  }

  /** floor(P/M) each; one more for the P mod M members owning most now (fewest moves). */
  private targets(flexibleExtras: boolean): Int32Array {
    const memberCount = this.ids.length;
    const base = Math.floor(this.partitionCount / memberCount);
    if (flexibleExtras) assert(this.count.every((c) => c <= base), "flexible extras need every member at or below its share");
    const extra = flexibleExtras ? 0 : this.partitionCount % memberCount;
    const order = [...this.ids.keys()].sort((a, b) => this.count[b]! - this.count[a]! || a - b);
    const target = new Int32Array(memberCount).fill(base);
    for (let i = 0; i < extra; i++) target[order[i]!]! += 1;
    return target;
  }

  run(): void {
    let moves = this.need.reduce((a, b) => a + b, 0) + this.extrasOpen;
    const candidates: number[] = [];
    while (moves > 0) {
      candidates.length = 0;
      for (let p = 0; p < this.partitionCount; p++) {
        const o = this.owner[p]!;
        if (o === unowned || this.surplus[o]! > 0) candidates.push(p);
      }
      assert(candidates.length > 0, "a member needs a partition but none is free to move");
      const [receiver, partition] = this.bestMove(candidates);
      this.move(partition, receiver);
      moves--;
    }
    assert(this.extrasOpen === 0 && this.surplus.every((s) => s === 0) && this.owner.every((o) => o !== unowned), "placement left a share uneven");
  }

  private bestMove(candidates: readonly number[]): [number, number] {
    const scale = this.partitionCount + 1;
    let bestScore = -1;
    let bestPartition = -1;
    let bestReceiver = -1;
    const mends = candidates.map((p) => (this.owner[p] !== unowned && this.ownsNear(this.owner[p]!, p) ? 1 : 0));
    for (const [receiver, distance] of this.distance) {
      const need = this.need[receiver]!;
      if (need === 0 && (this.extrasOpen === 0 || this.hasExtra[receiver] === 1)) continue;
      const even = this.evenSpacing[receiver]!;
      for (let i = 0; i < candidates.length; i++) {
        const p = candidates[i]!;
        const d = distance[p]!;
        const score = ((Math.min(d, this.spacing) * 2 + mends[i]!) * scale + Math.min(d, even)) * scale + need;
        if (score > bestScore || (score === bestScore && (p < bestPartition || (p === bestPartition && receiver < bestReceiver)))) {
          bestScore = score;
          bestPartition = p;
          bestReceiver = receiver;
        }
      }
    }
    assert(bestReceiver >= 0, "no move found");
    return [bestReceiver, bestPartition];
  }

  /** Whether `member` owns a partition other than `p` within `spacing - 1` of it. */
  private ownsNear(member: number, p: number): boolean {
    const mask = this.partitionCount - 1;
    for (let k = 1; k < this.spacing; k++) {
      if (this.owner[(p + k) & mask] === member || this.owner[(p - k) & mask] === member) return true;
    }
    return false;
  }

  private move(partition: number, receiver: number): void {
    const giver = this.owner[partition]!;
    if (giver !== unowned) {
      this.surplus[giver]!--;
      this.count[giver]!--;
    }
    this.owner[partition] = receiver;
    this.count[receiver]!++;
    if (this.need[receiver]! > 0) {
      this.need[receiver]!--;
    } else {
      assert(this.extrasOpen > 0 && this.hasExtra[receiver] === 0, "a member took a partition it had no room for");
      this.extrasOpen--;
      this.hasExtra[receiver] = 1;
    }
    const distance = this.distance.get(receiver)!;
    for (let x = 0; x < this.partitionCount; x++) {
      const gap = Math.abs(x - partition);
      distance[x] = Math.min(distance[x]!, gap, this.partitionCount - gap);
    }
  }

  /** Cyclic distance from each partition to the nearest one `member` owns (P when none). */
  private distancesOf(member: number): Int32Array {
    const n = this.partitionCount;
    const distance = new Int32Array(n).fill(n);
    let last = -1;
    for (let i = 0; i < 2 * n; i++) {
      if (this.owner[i % n] === member) last = i;
      if (last >= 0) distance[i % n] = Math.min(distance[i % n]!, i - last);
    }
    let next = -1;
    for (let i = 2 * n - 1; i >= 0; i--) {
      if (this.owner[i % n] === member) next = i;
      if (next >= 0) distance[i % n] = Math.min(distance[i % n]!, next - i);
    }
    return distance;
  }

  ownerIds(): NodeId[] {
    return Array.from(this.owner, (o) => this.ids[o]!);
  }
}
