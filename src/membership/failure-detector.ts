import type { Network, NodeId, RequestResult } from "../runtime/network.js";
import type { Random, TimerHandle, Timers } from "../runtime/runtime.js";
import type { Member } from "./member.js";
import { parseMembershipMessage, type AckMessage, type PingMessage, type PingReqMessage, type PingReqReplyMessage } from "./membership-messages.js";
import type { MembershipBounds, MembershipIntervals } from "./membership-options.js";
import type { MemberChange, MembershipView } from "./membership-view.js";
import { shuffle } from "./shuffle.js";

/**
 * SWIM's failure detector (Das, Gupta, Motivala 2002, sections 3 and 4), chosen over phi
 * accrual because its verdicts travel as plain records that the view's merge rule orders,
 * and its suspicion step lets a slow but alive member refute instead of being evicted.
 *
 * Every probeIntervalMs: take the next member of a shuffled round-robin list (section 4.3:
 * every member is probed within one cycle) and ping it. No ack within probeTimeoutMs: ask k
 * other members to ping it for us (ping-req), which tells "the path from me is broken" apart
 * from "it is down". Still nothing: mark it suspect at the incarnation we know. A suspect that
 * does not refute (a higher incarnation) within suspicionTimeoutMs becomes down; every node
 * runs that timer for every suspect it hears of, so one node's suspicion is enough.
 *
 * Down members are not probed; they come back through push-pull gossip (gossip.ts), which
 * also contacts them, and refute there.
 */
export interface FailureDetectorParts {
  timers: Timers;
  random: Random;
  network: Network;
  view: MembershipView;
  intervals: MembershipIntervals;
  bounds: MembershipBounds;
  /** Membership news to piggyback on an outgoing ping or ack. */
  piggybackOut(): Member[];
  /** News piggybacked on an incoming ping or ack. */
  piggybackIn(updates: readonly Member[]): void;
}

export class FailureDetector {
  private probeOrder: NodeId[] = [];
  private probeIndex = 0;
  private tickTimer: TimerHandle | undefined;
  private probing = false;
  private pingReqsInFlight = 0;
  private running = false;
  /** Suspicion timers, one per suspect member (bounded by membersMax). */
  private readonly suspicions = new Map<NodeId, { incarnation: number; timer: TimerHandle }>();

  constructor(private readonly parts: FailureDetectorParts) {
    parts.view.onChange((change) => this.onMemberChange(change));
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    // Suspects heard of while stopped get their timers now.
    for (const member of this.parts.view.peers()) this.onMemberChange({ before: member, after: member });
    this.scheduleTick();
  }

  stop(): void {
    this.running = false;
    if (this.tickTimer !== undefined) this.parts.timers.clearTimeout(this.tickTimer);
    this.tickTimer = undefined;
    for (const { timer } of this.suspicions.values()) this.parts.timers.clearTimeout(timer);
    this.suspicions.clear();
  }

  /** Answers a direct ping: being able to answer is the whole point. */
  handlePing(message: PingMessage): AckMessage {
    this.parts.piggybackIn(message.updates);
    return { type: "membership.ack", updates: this.parts.piggybackOut() };
  }

  /** Pings `target` on a peer's behalf (SWIM's indirect probe) and reports whether it answered. */
  async handlePingReq(message: PingReqMessage): Promise<PingReqReplyMessage> {
    this.parts.piggybackIn(message.updates);
    let reached = message.target === this.parts.view.selfId;
    // Indirect pings we run for others are bounded; beyond the bound we say "not reached",
    // which costs the asker nothing it would not lose to a slow helper anyway.
    if (!reached && this.pingReqsInFlight < this.parts.bounds.pingReqsInFlightMax) {
      this.pingReqsInFlight++;
      try {
        reached = await this.ping(message.target);
      } finally {
        this.pingReqsInFlight--;
      }
    }
    return { type: "membership.ping-req-reply", reached, updates: this.parts.piggybackOut() };
  }

  private scheduleTick(): void {
    if (!this.running) return;
    this.tickTimer = this.parts.timers.setTimeout(() => this.tick(), this.parts.intervals.probeIntervalMs);
  }

  private tick(): void {
    this.scheduleTick();
    // A probe still waiting on its indirect round keeps its period; never two at once.
    if (this.probing) return;
    const target = this.nextTarget();
    if (target === undefined) return;
    this.probing = true;
    void this.probe(target).finally(() => {
      this.probing = false;
    });
  }

  private async probe(target: Member): Promise<void> {
    if (await this.ping(target.id)) return;
    if (!this.running) return;
    if (await this.pingIndirectly(target.id)) return;
    if (!this.running) return;
    // Accuse the incarnation we probed: if it refuted meanwhile, the merge rule drops this.
    this.parts.view.accuse(target.id, "suspect", target.incarnation);
  }

  private async ping(id: NodeId): Promise<boolean> {
    const message: PingMessage = { type: "membership.ping", updates: this.parts.piggybackOut() };
    const result: RequestResult = await this.parts.network.request(id, message, { timeoutMs: this.parts.intervals.probeTimeoutMs });
    const reply = result.ok ? this.parse(result.reply) : undefined;
    if (reply?.type !== "membership.ack") return false;
    this.parts.piggybackIn(reply.updates);
    return true;
  }

  private async pingIndirectly(id: NodeId): Promise<boolean> {
    const helpers = this.pickHelpers(id);
    if (helpers.length === 0) return false;
    const timeoutMs = this.parts.intervals.indirectProbeTimeoutMs;
    const replies = await Promise.all(helpers.map((helper) => {
      const message: PingReqMessage = { type: "membership.ping-req", target: id, updates: this.parts.piggybackOut() };
      return this.parts.network.request(helper, message, { timeoutMs });
    }));
    let reached = false;
    for (const result of replies) {
      const reply = result.ok ? this.parse(result.reply) : undefined;
      if (reply?.type !== "membership.ping-req-reply") continue;
      this.parts.piggybackIn(reply.updates);
      reached ||= reply.reached;
    }
    return reached;
  }

  /** k random live members other than the target (SWIM's ping-req helpers). */
  private pickHelpers(targetId: NodeId): NodeId[] {
    const candidates = this.probeable().filter((m) => m.id !== targetId).map((m) => m.id);
    shuffle(candidates, this.parts.random);
    return candidates.slice(0, this.parts.bounds.indirectProbes);
  }

  /** The next member of the round-robin cycle, reshuffled when a cycle ends (SWIM 4.3). */
  private nextTarget(): Member | undefined {
    for (let attempts = 0; attempts < 2; attempts++) {
      while (this.probeIndex < this.probeOrder.length) {
        const member = this.parts.view.get(this.probeOrder[this.probeIndex++]!);
        if (member !== undefined && isProbeable(member)) return member;
      }
      this.probeOrder = this.probeable().map((m) => m.id);
      shuffle(this.probeOrder, this.parts.random);
      this.probeIndex = 0;
    }
    return undefined;
  }

  private parse(reply: unknown) {
    return parseMembershipMessage(reply, this.parts.bounds.membersMax);
  }

  private probeable(): Member[] {
    return this.parts.view.peers().filter(isProbeable);
  }

  /** Starts a suspicion timer when a member turns suspect; drops it when the suspicion ends. */
  private onMemberChange({ after }: MemberChange): void {
    const existing = this.suspicions.get(after.id);
    if (existing !== undefined && (after.state !== "suspect" || after.incarnation !== existing.incarnation)) {
      this.parts.timers.clearTimeout(existing.timer);
      this.suspicions.delete(after.id);
    }
    if (after.state !== "suspect" || after.id === this.parts.view.selfId || !this.running) return;
    if (this.suspicions.has(after.id)) return;
    const incarnation = after.incarnation;
    const timer = this.parts.timers.setTimeout(() => {
      this.suspicions.delete(after.id);
      this.parts.view.accuse(after.id, "down", incarnation);
    }, this.parts.intervals.suspicionTimeoutMs);
    this.suspicions.set(after.id, { incarnation, timer });
  }
}

function isProbeable(member: Member): boolean {
  return member.state !== "down";
}

