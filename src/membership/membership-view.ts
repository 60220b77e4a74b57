import { assert } from "../assert.js";
import type { NodeId } from "../runtime/network.js";
import { compareMembers, mergeMember, type Member, type MemberState } from "./member.js";

/**
 * What one node believes about every member: a map from NodeId to the newest record it has
 * seen, merged record by record with `mergeMember` (a state-based CRDT: merging digests in any
 * order, any number of times, gives the same map). One record is special: this node's own,
 * which only this node changes. A peer's newer claim about us (suspect, down, or a stale
 * incarnation we no longer remember after a restart) is refuted, not adopted: we take an
 * incarnation above it and keep our own state (SWIM section 4.2; memberlist's refute).
 *
 * Bounded by `membersMax`: a record about an unknown member is dropped when the map is full.
 * A member is removed only by `forget`, which the facade calls for members that have been
 * down and unplaced for a long time (memberlist's reaping of dead nodes); `admitNew` keeps
 * peers that have not forgotten it yet from gossiping it back.
 */
export interface MemberChange {
  /** undefined when the member is new to this view. */
  readonly before: Member | undefined;
  readonly after: Member;
}

export type MemberChangeListener = (change: MemberChange) => void;

/** What `apply` did with a record. */
export type ApplyOutcome = "added" | "updated" | "stale" | "refuted" | "full";

export interface MembershipViewOptions {
  membersMax: number;
  /**
   * Whether to take a record about a member this view does not know. The facade refuses news
   * of unplaced dead members, so a member forgotten here is not gossiped back in (memberlist
   * likewise ignores "dead" about nodes it does not know).
   */
  admitNew?: (record: Member) => boolean;
}

export class MembershipView {
  private readonly records = new Map<NodeId, Member>();
  private readonly listeners: MemberChangeListener[] = [];
  private sortedCache: Member[] | undefined;
  readonly selfId: NodeId;

  constructor(
    self: Member,
    private readonly options: MembershipViewOptions,
  ) {
    assert(Number.isSafeInteger(options.membersMax) && options.membersMax >= 1, `membersMax must be a positive integer, got ${options.membersMax}`);
    this.selfId = self.id;
    this.records.set(self.id, self);
  }

  get self(): Member {
    return this.records.get(this.selfId)!;
  }

  get size(): number {
    return this.records.size;
  }

  get(id: NodeId): Member | undefined {
    return this.records.get(id);
  }

  /** Every member, this node included, sorted by id (a stable order for digests and tests). */
  members(): readonly Member[] {
    this.sortedCache ??= [...this.records.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return this.sortedCache;
  }

  /** Every member but this node. */
  peers(): Member[] {
    return this.members().filter((m) => m.id !== this.selfId);
  }

  onChange(listener: MemberChangeListener): void {
    this.listeners.push(listener);
  }

  /** Merges one record from gossip or from this node's failure detector. */
  apply(record: Member): ApplyOutcome {
    if (record.id === this.selfId) return this.applyAboutSelf(record);
    const current = this.records.get(record.id);
    if (current === undefined) {
      if (this.options.admitNew !== undefined && !this.options.admitNew(record)) return "stale";
      if (this.records.size >= this.options.membersMax) return "full";
      this.store(undefined, record);
      return "added";
    }
    const merged = mergeMember(current, record);
    if (merged === current) return "stale";
    this.store(current, merged);
    return "updated";
  }

  /**
   * Accuses `id` at the incarnation we know (suspect or down). An accusation about an older
   * incarnation than ours is dropped by the merge rule; about ourselves it is refuted.
   */
  accuse(id: NodeId, state: "suspect" | "down", incarnation: number): ApplyOutcome {
    const current = this.records.get(id);
    if (current === undefined) return "stale";
    return this.apply({ ...current, state, incarnation });
  }

  /** Drops a member's record (never our own); returns whether there was one. */
  forget(id: NodeId): boolean {
    assert(id !== this.selfId, "a view never forgets its own node");
    const deleted = this.records.delete(id);
    if (deleted) this.sortedCache = undefined;
    return deleted;
  }

  /** This node changes its own state; the incarnation goes up so the news wins everywhere. */
  setSelfState(state: MemberState): Member {
    const current = this.self;
    if (current.state === state) return current;
    this.store(current, { ...current, state, incarnation: current.incarnation + 1 });
    return this.self;
  }

  private applyAboutSelf(record: Member): ApplyOutcome {
    const current = this.self;
    if (compareMembers(record, current) <= 0) return "stale";
    // Refutation: a peer holds news about us that is newer than what we say. Keep our own
    // state and address, and take an incarnation above theirs so ours wins the merge.
    const incarnation = Math.max(current.incarnation, record.incarnation) + 1;
    this.store(current, { ...current, incarnation });
    return "refuted";
  }

  private store(before: Member | undefined, after: Member): void {
    this.records.set(after.id, after);
    this.sortedCache = undefined;
    for (const listener of this.listeners) listener({ before, after });
  }
}
