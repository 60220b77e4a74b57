import { assert } from "../assert.js";
import type { Network, NodeId } from "../runtime/network.js";
import type { Runtime } from "../runtime/runtime.js";
import { isLive, type Member, type MemberAddress } from "./member.js";
import { FailureDetector } from "./failure-detector.js";
import { Gossip } from "./gossip.js";
import { parseMembershipMessage } from "./membership-messages.js";
import { resolveMembershipSettings, type MembershipBounds, type MembershipIntervals } from "./membership-options.js";
import { MembershipView, type MemberChange } from "./membership-view.js";
import { PiggybackQueue, transmitsFor } from "./piggyback-queue.js";
import { contentHash } from "../ring/ring-hash.js";
import { RingKeeper } from "./ring-keeper.js";
import { ringLeader } from "./ring-leader.js";
import { firstRingVersionMax, parseVersionedRing, type RingRecord, type RingStamp, type VersionedRing } from "./ring-record.js";
import { RingRegister } from "./ring-register.js";
import { shuffle } from "./shuffle.js";

/**
 * A node's membership: who is in the cluster, who is alive, and which ring is current. It
 * composes the view (membership-view.ts), SWIM failure detection (failure-detector.ts),
 * push-pull gossip (gossip.ts) and the ring it disseminates (ring-keeper.ts), all on the
 * node's Runtime, so the simulator runs it unchanged.
 *
 * The ring is the caller's: `computeRing(current, members)` returns the next ring (a higher
 * version) or undefined when `current` already fits. The ring leader (ring-leader.ts) calls it
 * once per gossip round after any membership change. A fitting hook adds members that are
 * "joining" or "up" and not yet placed, removes "leaving" ones, and leaves "suspect" and
 * "down" members where they are (Dynamo: a failure is transient; only an administrative
 * change moves partitions). A joining node turns "up" once it holds a ring that includes it.
 *
 * Example:
 *   const membership = new Membership(runtime, {
 *     self: { id: runtime.nodeId, address: { host, peerPort, clientPort } },
 *     seeds: ["n1"],
 *     computeRing: (ring, members) => myClaim(ring, members),
 *   });
 *   membership.onChange((e) => { if (e.kind === "member") network.setPeer(e.member.id, ...) });
 *   dispatcher.route("membership.", (from, m) => membership.handle(from, m));
 *   membership.start();
 */
export interface MembershipSelf {
  id: NodeId;
  address: MemberAddress;
  zone?: string;
}

export type ComputeRing<R extends VersionedRing> = (current: R | undefined, members: readonly Member[]) => R | undefined;

export interface MembershipOptions<R extends VersionedRing> {
  self: MembershipSelf;
  /** Node ids the caller registered seed addresses under; empty for the cluster's first node. */
  seeds?: readonly NodeId[];
  intervals?: Partial<MembershipIntervals>;
  bounds?: Partial<MembershipBounds>;
  computeRing: ComputeRing<R>;
  /** Whether `ring` places `id`; by default, looks for `id` in `ring.members` (ids or {id}). */
  ringIncludes?: (ring: R, id: NodeId) => boolean;
  /** Checks a ring from a peer (after decoding); by default any object with a version. */
  parseRing?: (value: unknown) => R | undefined;
  /** The ring this node persisted before a restart, if any. */
  ring?: R;
  /**
   * Agreed rings (ring-register.ts): a ring past the first is published only once a majority of
   * the current ring's members decided it as the next version, and rings are identified by
   * (version, content hash). Off: the leader's ring is adopted at once and two rings of one
   * version resolve by origin (tests of membership alone).
   */
  agreedRings?: boolean;
  /** The content hash of agreed rings; by default ring/ring-hash.ts contentHash. */
  ringHash?: (ring: R) => string;
  /** The member ids of a ring (the acceptors of its successor); by default `ring.members` (ids or {id}). */
  ringMembers?: (ring: R) => readonly NodeId[];
}

/**
 * What publishing a ring came to: `ring` is the ring of that version now held (`won`: the one
 * asked for), or nothing changed (no majority reached, not the next version, a proposal in flight).
 */
export type PublishOutcome<R> = { ok: true; ring: R; won: boolean } | { ok: false; reason: string };

export type MembershipEvent<R extends VersionedRing> =
  | { kind: "member"; before: Member | undefined; member: Member }
  | { kind: "forgotten"; member: Member }
  | { kind: "ring"; ring: R; origin: NodeId };

export type MembershipListener<R extends VersionedRing> = (event: MembershipEvent<R>) => void;

/** Live peers told directly when this node leaves. */
const leaveNoticePeersMax = 3;

export class Membership<R extends VersionedRing = VersionedRing> {
  private readonly view: MembershipView;
  private readonly rings: RingKeeper<R>;
  private readonly register: RingRegister<R> | undefined;
  /** A ring proposal of this node is in flight (one at a time). */
  private proposing = false;
  private readonly piggyback: PiggybackQueue;
  private readonly detector: FailureDetector;
  private readonly gossip: Gossip<R>;
  private readonly listeners: Array<MembershipListener<R>> = [];
  private readonly network: Network;
  private readonly settings: { intervals: MembershipIntervals; bounds: MembershipBounds };
  private readonly ringIncludes: (ring: R, id: NodeId) => boolean;
  /** Gossip rounds each down, unplaced member has stayed so (bounded by membersMax). */
  private readonly downRounds = new Map<NodeId, number>();
  private ringDirty = true;
  private running = false;

  constructor(
    private readonly runtime: Runtime,
    private readonly options: MembershipOptions<R>,
  ) {
    assert(runtime.network !== undefined, "membership needs the runtime's network");
    assert(options.self.id === runtime.nodeId, `membership self ${options.self.id} is not the runtime's node ${runtime.nodeId}`);
    this.network = runtime.network;
    this.settings = resolveMembershipSettings(options.intervals, options.bounds);
    const { bounds } = this.settings;
    assert((options.seeds ?? []).length <= bounds.seedsMax, `${(options.seeds ?? []).length} seeds given; the limit is ${bounds.seedsMax}`);
    this.ringIncludes = options.ringIncludes ?? defaultRingIncludes;
    const parseRing = options.parseRing ?? ((value: unknown) => parseVersionedRing(value) as R | undefined);
    const hashOf = options.ringHash ?? contentHash;
    this.rings = new RingKeeper<R>(options.agreedRings === true ? hashOf : undefined);
    if (options.agreedRings === true) {
      this.register = new RingRegister<R>({
        self: options.self.id,
        network: this.network,
        storage: runtime.storage,
        timers: runtime.timers,
        random: runtime.random,
        current: () => this.rings.record?.ring,
        hashOf,
        parseRing,
        membersOf: options.ringMembers ?? defaultRingMembers,
        requestTimeoutMs: this.settings.intervals.gossipTimeoutMs,
        backoffMs: this.settings.intervals.gossipIntervalMs / 4,
      });
    }
    if (options.ring !== undefined) this.rings.adopt({ ring: options.ring, origin: options.self.id });
    const placed = options.ring !== undefined && this.ringIncludes(options.ring, options.self.id);
    const { id, address, zone } = options.self;
    const self: Member = { id, address, state: placed ? "up" : "joining", incarnation: 0, ...(zone !== undefined ? { zone } : {}) };
    this.view = new MembershipView(self, { membersMax: bounds.membersMax, admitNew: (record) => this.admitNew(record) });
    this.piggyback = new PiggybackQueue({ entriesMax: bounds.piggybackEntriesMax, perMessageMax: bounds.piggybackPerMessageMax });
    this.view.onChange((change) => this.onMemberChange(change));
    this.rings.onAdopt((record) => this.onRingAdopted(record));
    this.detector = new FailureDetector({ ...this.parts(), piggybackOut: () => this.piggybackOut(), piggybackIn: (u) => this.piggybackIn(u) });
    this.gossip = new Gossip<R>({
      ...this.parts(),
      rings: this.rings,
      seeds: options.seeds ?? [],
      parseRing,
      onRound: () => {
        this.maybeComputeRing();
        this.forgetLongDown();
      },
    });
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.gossip.start();
    this.detector.start();
  }

  stop(): void {
    this.running = false;
    this.gossip.stop();
    this.detector.stop();
  }

  /** Handles a "membership." message from `from`; returns the reply (undefined for one-way). */
  handle(_from: NodeId, message: unknown): unknown {
    if (!this.running) return undefined;
    if (this.register !== undefined && RingRegister.handles(message)) return this.register.handle(message);
    if ((message as { type?: unknown } | null)?.type === ringStampType) return { type: "membership.ring-stamp-reply", ringStamp: this.rings.stamp };
    const parsed = parseMembershipMessage(message, this.settings.bounds.membersMax);
    switch (parsed?.type) {
      case "membership.ping": return this.detector.handlePing(parsed);
      case "membership.ping-req": return this.detector.handlePingReq(parsed);
      case "membership.sync": return this.gossip.handleSync(parsed);
      case "membership.ring": return this.gossip.handleRing(parsed);
      default: return undefined;
    }
  }

  get self(): Member {
    return this.view.self;
  }

  /** Every member this node knows, itself included, sorted by id. */
  members(): readonly Member[] {
    return this.view.members();
  }

  member(id: NodeId): Member | undefined {
    return this.view.get(id);
  }

  /** Believed alive: up, joining or leaving (not suspect, not down, not unknown). */
  isUp(id: NodeId): boolean {
    const member = this.view.get(id);
    return member !== undefined && isLive(member.state);
  }

  ring(): R | undefined {
    return this.rings.record?.ring;
  }

  /** The current ring's stamp: version, origin and, with agreed rings, its content hash. */
  ringStamp(): RingStamp | null {
    return this.rings.stamp;
  }

  /** Rings (or peers' stamps) refused because they name another ring of the version held here. */
  get ringConflicts(): number {
    return this.rings.conflicts;
  }

  /**
   * Publishes a ring this node computed (the leader's claim, a plan's commit, a settled ring).
   * With agreed rings, `next` must be the held ring's successor (version + 1); it is proposed to
   * the held ring's members (ring-register.ts) and what they decided is adopted, ours or the
   * ring another leader got decided first (`won` false: the caller's change is not in it and is
   * rebuilt at the next version). Without agreement, `next` is adopted when newer. A first ring
   * (no ring held, or version 1) is adopted as it is.
   */
  async publish(next: R): Promise<PublishOutcome<R>> {
    const self = this.view.selfId;
    const base = this.rings.record?.ring;
    if (this.register === undefined || base === undefined || next.version <= firstRingVersionMax) {
      const adopted = this.rings.adopt({ ring: next, origin: self });
      return adopted ? { ok: true, ring: next, won: true } : { ok: false, reason: `ring ${next.version} is not newer than the held ring ${base?.version ?? "none"}` };
    }
    if (next.version !== base.version + 1) return { ok: false, reason: `ring ${next.version} does not follow the held ring ${base.version}` };
    if (this.proposing) return { ok: false, reason: "another ring proposal of this node is in flight" };
    this.proposing = true;
    try {
      const outcome = await this.register.propose(base, next);
      if (outcome.kind === "unavailable") {
        this.ringDirty = true;
        return { ok: false, reason: `ring ${next.version} was not decided: ${outcome.reason}` };
      }
      this.rings.adopt({ ring: outcome.ring, origin: self });
      const won = outcome.kind === "decided" && this.rings.hash(outcome.ring) === this.rings.hash(next);
      if (!won) this.ringDirty = true;
      return { ok: true, ring: outcome.ring, won };
    } finally {
      this.proposing = false;
    }
  }

  /** The node this view expects to compute the next ring. */
  leader(): NodeId | undefined {
    return ringLeader(this.view.members());
  }

  onChange(listener: MembershipListener<R>): void {
    this.listeners.push(listener);
  }

  /**
   * Announces that this node is leaving: "leaving" at a new incarnation, pushed at once to a
   * few live peers; the ring leader then computes a ring without it. Resolves with the number
   * of peers that took the news. Call stop() once the ring has moved on.
   */
  async leave(): Promise<number> {
    this.view.setSelfState("leaving");
    const peers = this.view.peers().filter((m) => isLive(m.state)).map((m) => m.id);
    shuffle(peers, this.runtime.random);
    const results = await Promise.all(peers.slice(0, leaveNoticePeersMax).map((peer) => this.gossip.exchange(peer)));
    return results.filter(Boolean).length;
  }

  private parts() {
    const { timers, random } = this.runtime;
    return { timers, random, network: this.network, view: this.view, ...this.settings };
  }

  private piggybackOut(): Member[] {
    return this.piggyback.take(transmitsFor(this.view.size, this.settings.bounds.piggybackTransmitMultiplier));
  }

  private piggybackIn(updates: readonly Member[]): void {
    for (const member of updates) this.view.apply(member);
  }

  private onMemberChange({ before, after }: MemberChange): void {
    this.piggyback.push(after);
    const visible = before === undefined || before.state !== after.state || before.zone !== after.zone ||
      before.address.host !== after.address.host || before.address.peerPort !== after.address.peerPort || before.address.clientPort !== after.address.clientPort;
    if (!visible) return;
    if (before?.state !== after.state) this.ringDirty = true;
    this.emit({ kind: "member", before, member: after });
  }

  private onRingAdopted(record: RingRecord<R>): void {
    this.ringDirty = true;
    if (this.view.self.state === "joining" && this.ringIncludes(record.ring, this.view.selfId)) this.view.setSelfState("up");
    this.emit({ kind: "ring", ring: record.ring, origin: record.origin });
  }

  /** The leader's step: after a membership change, ask the hook for the next ring. */
  private maybeComputeRing(): void {
    if (!this.ringDirty || this.proposing || this.leader() !== this.view.selfId) return;
    // A node with seeds has not seen the cluster until one exchange succeeded; leading before
    // that would publish a ring of one.
    if ((this.options.seeds ?? []).some((s) => s !== this.view.selfId) && !this.gossip.contacted) return;
    this.ringDirty = false;
    const current = this.rings.record?.ring;
    const next = this.options.computeRing(current, this.view.members());
    if (next === undefined) return;
    assert(current === undefined || next.version > current.version, `computeRing must raise the ring version: ${current?.version} -> ${next.version}`);
    if (this.register === undefined) {
      this.rings.adopt({ ring: next, origin: this.view.selfId });
      return;
    }
    // Decided by the current ring's members; a failure or a lost round leaves the ring dirty,
    // so the next round computes again on whatever ring is held then.
    void this.publish(next).catch(() => (this.ringDirty = true));
  }

  /** A dead member we do not know is news only while the ring still places it. */
  private admitNew(record: Member): boolean {
    const ring = this.rings.record?.ring;
    return record.state !== "down" || (ring !== undefined && this.ringIncludes(ring, record.id));
  }

  /** Forgets members down and unplaced for forgetDownAfterMs (counted in gossip rounds). */
  private forgetLongDown(): void {
    const { forgetDownAfterMs, gossipIntervalMs } = this.settings.intervals;
    const roundsMax = Math.ceil(forgetDownAfterMs / gossipIntervalMs);
    const ring = this.rings.record?.ring;
    for (const member of this.view.peers()) {
      const forgettable = member.state === "down" && (ring === undefined || !this.ringIncludes(ring, member.id));
      if (!forgettable) {
        this.downRounds.delete(member.id);
        continue;
      }
      const rounds = (this.downRounds.get(member.id) ?? 0) + 1;
      this.downRounds.set(member.id, rounds);
      if (rounds < roundsMax) continue;
      this.downRounds.delete(member.id);
      this.view.forget(member.id);
      this.emit({ kind: "forgotten", member });
    }
  }

  private emit(event: MembershipEvent<R>): void {
    for (const listener of this.listeners) listener(event);
  }
}

/** Asks a peer for its ring stamp: `{ type: "membership.ring-stamp" }`, answered `{ type: "membership.ring-stamp-reply", ringStamp }`. */
export const ringStampType = "membership.ring-stamp";

function defaultRingMembers(ring: VersionedRing): NodeId[] {
  const members = (ring as { members?: unknown }).members;
  if (!Array.isArray(members)) return [];
  return members.flatMap((m: unknown) => (typeof m === "string" ? [m] : typeof m === "object" && m !== null && typeof (m as { id?: unknown }).id === "string" ? [(m as { id: string }).id] : []));
}

function defaultRingIncludes(ring: VersionedRing, id: NodeId): boolean {
  const members = (ring as { members?: unknown }).members;
  if (!Array.isArray(members)) return false;
  return members.some((m: unknown) => m === id || (typeof m === "object" && m !== null && (m as { id?: unknown }).id === id));
}
