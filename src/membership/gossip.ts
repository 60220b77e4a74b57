import type { Network, NodeId } from "../runtime/network.js";
import type { Random, TimerHandle, Timers } from "../runtime/runtime.js";
import type { Member } from "./member.js";
import { parseMembershipMessage, type RingMessage, type SyncMessage, type SyncReplyMessage } from "./membership-messages.js";
import type { MembershipBounds, MembershipIntervals } from "./membership-options.js";
import type { MembershipView } from "./membership-view.js";
import { compareRingStamps, type RingStamp, type VersionedRing } from "./ring-record.js";
import type { RingKeeper } from "./ring-keeper.js";
import { shuffle } from "./shuffle.js";

/**
 * Push-pull anti-entropy of membership (Dynamo section 4.8.1: "each node contacts a peer chosen
 * at random every second and the two nodes efficiently reconcile their persisted membership
 * change histories"). Each round this node sends its full digest (every member record) and its
 * ring stamp to `gossipFanout` random peers; the peer merges it and answers with its own digest
 * and, when its ring is newer, the ring itself. When ours is newer, we send it one-way after.
 *
 * Joining: until one exchange has succeeded, every round goes to all seeds (node ids the caller
 * put in the network's address book); after that, to random known members. Down members stay
 * among the candidates, so both sides of a healed partition find each other again and refute.
 */
export interface GossipParts<R extends VersionedRing> {
  timers: Timers;
  random: Random;
  network: Network;
  view: MembershipView;
  rings: RingKeeper<R>;
  seeds: readonly NodeId[];
  intervals: MembershipIntervals;
  bounds: MembershipBounds;
  /** Checks a ring that arrived from a peer; undefined drops it. */
  parseRing(value: unknown): R | undefined;
  /** Runs at the start of every round (the facade computes the ring there). */
  onRound(): void;
}

export class Gossip<R extends VersionedRing> {
  private running = false;
  private timer: TimerHandle | undefined;
  private contactedValue = false;

  constructor(private readonly parts: GossipParts<R>) {}

  /** Whether an exchange with any peer has succeeded (this node has joined someone's view). */
  get contacted(): boolean {
    return this.contactedValue;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.round();
  }

  stop(): void {
    this.running = false;
    if (this.timer !== undefined) this.parts.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Merges a peer's digest and answers with ours (and our ring when it is newer). */
  handleSync(message: SyncMessage): SyncReplyMessage {
    this.merge(message.members);
    // A peer that gossips its digest to us has us in its view: we reached the cluster as surely as
    // by an exchange of our own (a restarted node whose only seeds are dead learns it this way).
    if (message.members.some((m) => m.id !== this.parts.view.selfId)) this.contactedValue = true;
    this.parts.rings.noteStamp(message.ringStamp);
    const ours = this.parts.rings.record;
    const newer = ours !== undefined && compareRingStamps(this.parts.rings.stamp, message.ringStamp) > 0;
    return { type: "membership.sync-reply", members: [...this.parts.view.members()], ringStamp: this.parts.rings.stamp, ring: newer ? ours.ring : null };
  }

  handleRing(message: RingMessage): void {
    this.adoptRing(message.ring, { version: -1, origin: message.origin });
  }

  /** One push-pull exchange with `peer`; resolves whether it succeeded. */
  async exchange(peer: NodeId): Promise<boolean> {
    const request: SyncMessage = { type: "membership.sync", members: [...this.parts.view.members()], ringStamp: this.parts.rings.stamp };
    const result = await this.parts.network.request(peer, request, { timeoutMs: this.parts.intervals.gossipTimeoutMs });
    const reply = result.ok ? parseMembershipMessage(result.reply, this.parts.bounds.membersMax) : undefined;
    if (reply?.type !== "membership.sync-reply") return false;
    // A seed address may be our own (a cluster started with every address as a seed): only an
    // answer that knows another member counts as having reached the cluster.
    if (reply.members.some((m) => m.id !== this.parts.view.selfId)) this.contactedValue = true;
    // The ring first: whether a dead member is news depends on whether the ring places it.
    if (reply.ring !== null && reply.ringStamp !== null) this.adoptRing(reply.ring, reply.ringStamp);
    else this.parts.rings.noteStamp(reply.ringStamp);
    this.merge(reply.members);
    const ours = this.parts.rings.record;
    if (ours !== undefined && compareRingStamps(this.parts.rings.stamp, reply.ringStamp) > 0) {
      const push: RingMessage = { type: "membership.ring", ring: ours.ring, origin: ours.origin };
      this.parts.network.send(peer, push);
    }
    return true;
  }

  private round(): void {
    if (!this.running) return;
    this.timer = this.parts.timers.setTimeout(() => this.round(), this.parts.intervals.gossipIntervalMs);
    this.parts.onRound();
    for (const peer of this.targets()) void this.exchange(peer);
  }

  private targets(): NodeId[] {
    const self = this.parts.view.selfId;
    const seeds = this.parts.seeds.filter((s) => s !== self);
    const peers = this.parts.view.peers().map((m) => m.id);
    if (!this.contactedValue || peers.length === 0) return seeds.length > 0 ? seeds : peers;
    shuffle(peers, this.parts.random);
    return peers.slice(0, this.parts.bounds.gossipFanout);
  }

  private merge(members: readonly Member[]): void {
    for (const member of members) this.parts.view.apply(member);
  }

  /** Adopts a peer's ring if it checks out; `stamp.version` -1 takes the ring's own version. */
  private adoptRing(value: unknown, stamp: RingStamp): void {
    const ring = this.parts.parseRing(value);
    if (ring === undefined) return;
    if (stamp.version >= 0 && ring.version !== stamp.version) return;
    this.parts.rings.adopt({ ring, origin: stamp.origin });
  }
}
