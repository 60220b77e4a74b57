import { assert } from "../assert.js";

/**
 * The timings and bounds of membership, with defaults sized for a LAN cluster of 3 to a few
 * dozen nodes (memberlist's LAN profile, with Dynamo's "gossip about once a second").
 *
 * How long failure detection takes (virtual or real time): a crashed node is probed by each
 * of the other n-1 members once per round-robin cycle, so the first probe reaches it within
 * about one probe interval in expectation (at most n-1 intervals from one prober). The probe
 * then takes probeTimeoutMs plus indirectProbeTimeoutMs before "suspect", and the suspicion
 * lasts suspicionTimeoutMs before "down". With the defaults: suspect after ~1-3 s, down ~5 s later.
 */
export interface MembershipIntervals {
  /** One SWIM protocol period: how often this node probes one member. */
  probeIntervalMs: number;
  /** How long a direct ping waits for its ack. */
  probeTimeoutMs: number;
  /** How long the indirect round (ping-req through k helpers) waits; must cover a helper's ping. */
  indirectProbeTimeoutMs: number;
  /** How long a member stays suspect without refuting before it is declared down. */
  suspicionTimeoutMs: number;
  /** How often this node runs a push-pull exchange of full digests (Dynamo: about 1 s). */
  gossipIntervalMs: number;
  /** How long a push-pull exchange waits for the peer's digest. */
  gossipTimeoutMs: number;
  /**
   * How long a member that is down and not placed in the ring (it left, or died while joining)
   * stays in the view before it is forgotten, freeing room under membersMax. Counted in gossip
   * rounds, so it needs no clock.
   */
  forgetDownAfterMs: number;
}

export interface MembershipBounds {
  /** Members a view holds; records about more are dropped. */
  membersMax: number;
  /** k in SWIM: helpers asked to ping a member that missed a direct ping. */
  indirectProbes: number;
  /** Peers contacted per gossip round. */
  gossipFanout: number;
  /** Records piggybacked on one ping or ack. */
  piggybackPerMessageMax: number;
  /** Members with news waiting in the piggyback queue. */
  piggybackEntriesMax: number;
  /** λ in SWIM: each piggybacked record goes out λ·⌈log2(n+1)⌉ times. */
  piggybackTransmitMultiplier: number;
  /** Seed node ids kept. */
  seedsMax: number;
  /** Indirect pings this node runs for others at once (SWIM ping-req helpers). */
  pingReqsInFlightMax: number;
}

export const membershipIntervalsDefault: Readonly<MembershipIntervals> = Object.freeze({
  probeIntervalMs: 1000,
  probeTimeoutMs: 300,
  indirectProbeTimeoutMs: 700,
  suspicionTimeoutMs: 5000,
  gossipIntervalMs: 1000,
  gossipTimeoutMs: 500,
  forgetDownAfterMs: 60_000,
});

export const membershipBoundsDefault: Readonly<MembershipBounds> = Object.freeze({
  membersMax: 256,
  indirectProbes: 3,
  gossipFanout: 1,
  piggybackPerMessageMax: 8,
  piggybackEntriesMax: 256,
  piggybackTransmitMultiplier: 3,
  seedsMax: 64,
  pingReqsInFlightMax: 64,
});

/** Fills in defaults and asserts the relations between the timings and bounds. */
export function resolveMembershipSettings(
  intervals: Partial<MembershipIntervals> = {},
  bounds: Partial<MembershipBounds> = {},
): { intervals: MembershipIntervals; bounds: MembershipBounds } {
  const i = { ...membershipIntervalsDefault, ...intervals };
  const b = { ...membershipBoundsDefault, ...bounds };
  for (const [name, value] of Object.entries({ ...i, ...b })) {
    assert(Number.isSafeInteger(value) && value > 0, `membership setting ${name} must be a positive integer, got ${value}`);
  }
  assert(i.indirectProbeTimeoutMs > i.probeTimeoutMs, `indirectProbeTimeoutMs (${i.indirectProbeTimeoutMs}) must exceed probeTimeoutMs (${i.probeTimeoutMs}): a helper's ping must fit inside it`);
  assert(i.probeTimeoutMs + i.indirectProbeTimeoutMs <= i.probeIntervalMs * 2, "a probe (direct plus indirect) must fit in two probe intervals");
  assert(i.suspicionTimeoutMs >= i.probeIntervalMs, "suspicionTimeoutMs must give the suspect at least one probe interval to refute");
  assert(i.gossipTimeoutMs <= i.gossipIntervalMs, "gossipTimeoutMs must not exceed gossipIntervalMs");
  assert(i.forgetDownAfterMs >= i.suspicionTimeoutMs + 2 * i.gossipIntervalMs, "forgetDownAfterMs must leave time for the news of a death to spread first");
  assert(b.piggybackPerMessageMax <= b.piggybackEntriesMax, "piggybackPerMessageMax must not exceed piggybackEntriesMax");
  return { intervals: i, bounds: b };
}
