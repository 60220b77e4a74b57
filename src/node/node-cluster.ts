import { performance } from "node:perf_hooks";
import { Packr } from "msgpackr";
import type { Logger } from "pino";
import type { ClusterStatus } from "../api/cluster-handler.js";
import type { PlanTable } from "../handoff/ownership-plan.js";
import { ShoalError } from "../errors.js";
import type { Limits } from "../limits.js";
import { Membership, type MembershipEvent } from "../membership/membership.js";
import { membershipBoundsDefault, type MembershipIntervals } from "../membership/membership-options.js";
import { claimInitial } from "../ring/claim.js";
import { partitionCountDefault } from "../ring/partition-hash.js";
import { ringHash } from "../ring/ring-hash.js";
import { parseRing, type RingState } from "../ring/ring-state.js";
import type { NodeId } from "../runtime/network.js";
import type { Runtime } from "../runtime/runtime.js";
import { metaKey } from "../storage/keyspace.js";
import { TcpNetwork } from "../transport/tcp-network.js";
import { claimRingHook } from "./claim-ring.js";
import { ClusterPlan } from "./cluster-plan.js";
import { planMessagePrefix, type PlanMode } from "./cluster-plan-record.js";
import { clusterStatus } from "./cluster-status.js";
import { KnownPeers } from "./known-peers.js";
import { PeerDispatcher } from "./peer-dispatcher.js";
import { RemovedRefusals } from "./peer-dispatcher-refusals.js";
import { formatHostPort, type SeedAddress } from "./seed-address.js";

/**
 * A node's part in the cluster: the peer port (TcpNetwork), one dispatcher for peer messages,
 * and Membership carrying a claimed RingState that is persisted on every change and passed
 * back at the next start. The node routes its data path's messages through `dispatcher` too
 * (`cluster.dispatcher.route("replica.", handler)`); a message that arrives before its route
 * exists is answered with undefined, which the sender counts as a failed reply.
 *
 * Joining: a seed is only an address (`--join host:peerPort`). Before membership starts, each
 * seed's node id is learned with one handshake (TcpNetwork.identify) and registered with
 * setPeer, so membership only ever sees real node ids. Without seeds and without a persisted
 * ring, the node claims a ring of one and is "up" at once. Peers' addresses are persisted too
 * (known-peers.ts), and a restarted node gossips with them as well as with its seeds.
 *
 * Example:
 *   const cluster = await NodeCluster.start({ runtime, listenHost: "127.0.0.1", advertisedHost: "127.0.0.1",
 *     peerPort: 0, clientPort: 8000, seeds: [{ host: "127.0.0.1", port: 9000 }], joinTimeoutMs: 10_000, limits, logger });
 *   cluster.status(); // GET /v1/cluster
 *   await cluster.close();
 */
export interface NodeClusterOptions {
  /** The node's runtime without a network; the cluster adds its TcpNetwork. */
  runtime: Runtime;
  listenHost: string;
  /** The host gossiped to peers and shown to clients. */
  advertisedHost: string;
  peerPort: number;
  clientPort: number;
  seeds: readonly SeedAddress[];
  joinTimeoutMs: number;
  limits: Pick<Limits, "frameBytesMax" | "peerInFlightMax">;
  logger: Logger;
  /** Partitions of a first ring; default ring/partitionCountDefault. */
  partitionCount?: number;
  membershipIntervals?: Partial<MembershipIntervals>;
  /** `--plan`: the plan mode of a cluster this node forms, or asked of the cluster it joins. */
  planMode?: PlanMode;
  /** The plan's pull interval (cluster-plan.ts; default 1 s). */
  planSyncIntervalMs?: number;
  /** The catalog's tables, for the commit's data-loss refusal (cluster-plan.ts `tables`). */
  planTables?: () => readonly PlanTable[];
}

/** Where the ring lives between restarts. */
export const ringMetaKey = metaKey("cluster.ring");
/**
 * Written (with the ring version) when this node starts leaving: a settled ring no longer
 * places it. A node restarted mid-leave (killed while handing its hints on) finds it beside a
 * stored ring that does not place it, and finishes the leave instead of staying on as an
 * unplaced node (issue 6). Kept after the leave: a node that left leaves again at every start;
 * a node that a later ring places again drops it.
 */
export const leavingMetaKey = metaKey("cluster.leaving");
/** What a node removed while down may not send (node-cluster.ts refuseRemoved). */
const removedRefusedPrefixes = ["replica.", "anti-entropy.", "handoff.", "coordinator."];
const packr = new Packr({ useRecords: false, moreTypes: false, structuredClone: false });
/** One seed handshake's deadline, and the pause between rounds over all seeds. */
const identifyTimeoutMs = 1000;
const identifyRetryDelayMs = 200;

export class NodeCluster {
  private constructor(
    readonly network: TcpNetwork,
    readonly membership: Membership<RingState>,
    readonly peerPort: number,
    /** Routes peer messages by type prefix; the node adds "replica.", "coordinator.", "catalog.", "paxos.". */
    readonly dispatcher: PeerDispatcher,
    /** The staged membership plan and its mode (cluster-plan.ts). */
    readonly plan: ClusterPlan,
    private readonly runtime: Runtime,
    private readonly knownPeers: KnownPeers,
    /** Whether a ring this node held placed it (as owner now or before a transition). */
    private placed: boolean,
    /**
     * Nodes a ring removed from the owners while membership had them down (replaced or removed
     * through a plan while dead), with the ring version: their data messages are refused (see
     * refuseRemoved). At most membersMax; durable (peer-dispatcher-refusals.ts), so kept across restarts.
     */
    private readonly removedWhileDown: RemovedRefusals,
  ) {
    this.left = new Promise((resolve) => (this.resolveLeft = resolve));
  }

  /**
   * Resolves once this node has left the cluster: it was placed, a committed plan removed it,
   * the ring settled (every partition it held was pulled by its new owners), and it announced
   * "leaving" to its peers. The process should then stop (shoal start exits 0).
   */
  readonly left: Promise<void>;
  private resolveLeft!: () => void;
  private leaving = false;
  /** Runs once the ring settled without this node, before it announces "leaving" (the data path drains its hints). */
  private beforeLeave: () => Promise<void> = () => Promise.resolve();
  /** A leave interrupted by a restart, resumed once the node set its step before leaving (setBeforeLeave). */
  private resumeLeave: (() => void) | undefined;
  /** The last ring this node held, to see who a new ring removes. */
  private lastRing: RingState | undefined;

  static async start(options: NodeClusterOptions): Promise<NodeCluster> {
    const { runtime, logger } = options;
    const network = new TcpNetwork({
      nodeId: runtime.nodeId,
      limits: options.limits,
      random: runtime.random,
      onError: (error) => logTransportError(logger, error),
    });
    try {
      const peerPort = await network.listen(options.listenHost, options.peerPort);
      const stored = storedRing(runtime, logger);
      const joined = await resolveSeeds(network, options, stored !== undefined);
      const ring = stored ?? (joined.length === 0 ? ringOfOne(runtime.nodeId, options.partitionCount) : undefined);
      const knownPeers = KnownPeers.load(runtime.storage, membershipBoundsDefault.membersMax);
      const seedIds = stored === undefined ? joined : withKnownPeers(joined, knownPeers, network, runtime.nodeId);
      const dispatcher = new PeerDispatcher();
      network.serve(dispatcher.handle);
      // The hook asks the plan (created just below, before membership starts) for the mode.
      const late: { plan?: ClusterPlan } = {};
      // A stored ring without this node beside the leaving mark: a leave a restart interrupted.
      // Membership must not call this node "joining" then (the ring leader would claim it back
      // in): its stored ring counts as placing it, so it stays "up" until it announces "leaving".
      const resuming = stored !== undefined && !placesNode(stored, runtime.nodeId) && runtime.storage.get(leavingMetaKey) !== undefined;
      const membership = new Membership<RingState>({ ...runtime, network }, {
        self: { id: runtime.nodeId, address: { host: options.advertisedHost, peerPort, clientPort: options.clientPort } },
        seeds: seedIds,
        // Transitions: a change that moves partitions keeps the old owners as `previous` until
        // ownership transfer (handoff/ownership-*.ts, run by the node) fills the new replicas.
        computeRing: claimRingHook({
          partitionCount: options.partitionCount ?? partitionCountDefault,
          transitions: true,
          autoJoin: () => late.plan?.mode() !== "manual",
          held: () => late.plan?.stagedIds() ?? new Set(),
          committed: () => late.plan?.committedChanges() ?? [],
        }),
        parseRing: (value) => {
          const parsed = parseRing(value);
          return parsed.ok ? parsed.ring : undefined;
        },
        ...(ring !== undefined ? { ring } : {}),
        // Ring v+1 is decided by a majority of ring v's members before anyone adopts it (membership/ring-register.ts).
        agreedRings: true,
        ringHash,
        ...(resuming ? { ringIncludes: (r: RingState, id: NodeId) => r.members.some((m) => m.id === id) || (id === runtime.nodeId && r.version === stored.version) } : {}),
        ...(options.membershipIntervals !== undefined ? { intervals: options.membershipIntervals } : {}),
      });
      dispatcher.route("membership.", (from, message) => membership.handle(from, message));
      // No replica, coordinator, anti-entropy or handoff traffic before this node holds a ring (peer-dispatcher.ts).
      dispatcher.requireRing(() => membership.ring() !== undefined);
      const forming = stored === undefined && joined.length === 0;
      const clusterPlan = new ClusterPlan({
        runtime: { ...runtime, network },
        membership,
        // The commit's changes are durable in the plan record; its ring is persisted once decided (onMembershipEvent).
        publishRing: (next) => membership.publish(next),
        upPeers: () => membership.members().filter((m) => m.id !== runtime.nodeId && m.state === "up").map((m) => m.id),
        forming,
        ...(options.planMode !== undefined ? { initialMode: options.planMode } : {}),
        ...(options.planSyncIntervalMs !== undefined ? { syncIntervalMs: options.planSyncIntervalMs } : {}),
        onError: (error) => logger.warn({ err: error }, "cluster plan step failed"),
        ...(options.planTables !== undefined ? { tables: options.planTables } : {}),
      });
      late.plan = clusterPlan;
      dispatcher.route(planMessagePrefix, (from, message) => clusterPlan.handle(from, message));
      const placed = (ring !== undefined && placesNode(ring, runtime.nodeId)) || resuming;
      const removed = RemovedRefusals.load(runtime.storage, membershipBoundsDefault.membersMax);
      const cluster = new NodeCluster(network, membership, peerPort, dispatcher, clusterPlan, runtime, knownPeers, placed, removed);
      cluster.lastRing = ring;
      membership.onChange((event) => cluster.onMembershipEvent(event, logger));
      dispatcher.refuseFrom((from, type) => cluster.refuseRemoved(from, type));
      if (resuming) {
        logger.info({ ringVersion: stored.version }, "resuming a leave a restart interrupted");
        cluster.resumeLeave = () => cluster.checkLeft(membership.ring() ?? stored, logger);
      }
      if (ring !== undefined && stored === undefined) await cluster.persistRing(ring);
      // A new node joining with --plan asks the cluster for that mode before the leader can
      // see it, so "--join ... --plan manual" is never claimed in automatically.
      if (stored === undefined && joined.length > 0 && options.planMode !== undefined) await askPlanMode(clusterPlan, joined, options.planMode, logger);
      membership.start();
      clusterPlan.start();
      return cluster;
    } catch (error) {
      await network.close();
      throw error;
    }
  }

  /** Members believed up, this node excluded (who a catalog change must reach). */
  upPeers(): NodeId[] {
    return this.membership.members().filter((member) => member.id !== this.runtime.nodeId && member.state === "up").map((member) => member.id);
  }

  /** Members of the current ring (at least 1: before its first ring a node counts itself). */
  size(): number {
    return Math.max(1, this.membership.ring()?.members.length ?? 0);
  }

  /** `nMax`: the largest n of any table (a partition moves when it changes any such preference list). */
  status(nMax?: number): ClusterStatus {
    return clusterStatus(this.runtime.nodeId, this.membership.members(), this.membership.ring(), nMax);
  }

  /**
   * What a leave waits for before it announces "leaving" and resolves `left` (the node hands its
   * hints on: handoff/hint-delivery.ts drain, bounded by its own deadline). Set once by the node.
   */
  setBeforeLeave(step: () => Promise<void>): void {
    this.beforeLeave = step;
    // A leave a restart interrupted goes on now that the data path can hand its hints on.
    const resume = this.resumeLeave;
    this.resumeLeave = undefined;
    resume?.();
  }

  /** Stops gossip and failure detection, then closes every peer connection and the port. */
  async close(): Promise<void> {
    this.plan.stop();
    this.membership.stop();
    await this.network.close();
  }

  private onMembershipEvent(event: MembershipEvent<RingState>, logger: Logger): void {
    switch (event.kind) {
      case "member": {
        const { member, before } = event;
        logger.info({ member: member.id, state: member.state, was: before?.state, address: formatHostPort(member.address.host, member.address.peerPort) }, "member changed");
        if (member.id === this.runtime.nodeId) return;
        this.addPeer(member.id, member.address.host, member.address.peerPort, logger);
        this.knownPeers.set({ id: member.id, host: member.address.host, peerPort: member.address.peerPort }).catch((error: unknown) => logger.warn({ err: error }, "persisting peer addresses failed"));
        return;
      }
      case "forgotten":
        logger.info({ member: event.member.id }, "member forgotten");
        this.network.removePeer(event.member.id);
        this.knownPeers.delete(event.member.id).catch((error: unknown) => logger.warn({ err: error }, "persisting peer addresses failed"));
        return;
      case "ring":
        logger.info({ ringVersion: event.ring.version, origin: event.origin, members: event.ring.members.length }, "ring changed");
        this.persistRing(event.ring).catch((error: unknown) => logger.error({ err: error, ringVersion: event.ring.version }, "persisting the ring failed"));
        this.noteRemovals(event.ring, logger);
        this.checkLeft(event.ring, logger);
        return;
    }
  }

  /**
   * Who `ring` takes out of the owners: one that membership holds down (a dead node replaced or
   * removed through a plan) is remembered, one that is up or unknown here (a leaver, which
   * hands its hints on) is not; a ring that places a node again forgets it.
   */
  private noteRemovals(ring: RingState, logger: Logger): void {
    const before = this.lastRing;
    this.lastRing = ring;
    const persisted = (error: unknown): void => logger.error({ err: error }, "persisting the nodes whose data is refused failed");
    // A ring that places a refused node again (it joined again through a plan) ends its refusal.
    for (const member of ring.members) if (this.removedWhileDown.has(member.id)) this.removedWhileDown.delete(member.id).catch(persisted);
    if (before === undefined) return;
    for (const { id } of before.members) {
      if (id === this.runtime.nodeId || ring.members.some((m) => m.id === id) || this.removedWhileDown.has(id)) continue;
      if (this.membership.member(id)?.state !== "down") continue;
      this.removedWhileDown.add(id, ring.version).catch(persisted);
      logger.info({ member: id, ringVersion: ring.version }, "a node removed while down: its data messages are refused from now on");
    }
  }

  /**
   * A node a plan removed while it was down may come back with old data and hints; handed to a
   * current member after tombstone GC collected a key (GC does not wait for a node outside the
   * ring) they would bring deleted values back. So its replica, anti-entropy, handoff and
   * coordinator messages are refused (it still gossips, learns the ring and leaves).
   */
  private refuseRemoved(from: NodeId, type: string): unknown {
    const version = this.removedWhileDown.get(from);
    if (version === undefined || !removedRefusedPrefixes.some((prefix) => type.startsWith(prefix))) return undefined;
    return { ok: false, error: "removed", message: `${from} was removed from the ring (version ${version}) while it was down: ${type} from it is refused` };
  }

  /** A committed leave (or replace) of this node has settled: announce "leaving", then resolve `left`. */
  private checkLeft(ring: RingState, logger: Logger): void {
    if (placesNode(ring, this.runtime.nodeId)) {
      this.placed = true;
      this.resumeLeave = undefined;
      if (this.runtime.storage.get(leavingMetaKey) !== undefined) this.runtime.storage.write([{ type: "delete", key: leavingMetaKey }], { durable: true }).catch((error: unknown) => logger.warn({ err: error }, "clearing the leaving mark failed"));
      return;
    }
    if (!this.placed || ring.previous !== undefined || this.leaving) return;
    this.leaving = true;
    this.resumeLeave = undefined;
    logger.info({ ringVersion: ring.version }, "this node is no longer in the settled ring: leaving the cluster");
    // Durable before the hints are handed on, so a restart from here on finishes the leave.
    this.runtime.storage
      .write([{ type: "put", key: leavingMetaKey, value: new TextEncoder().encode(String(ring.version)) }], { durable: true })
      .catch((error: unknown) => logger.warn({ err: error }, "persisting the leaving mark failed"))
      .then(() => this.beforeLeave())
      .catch((error: unknown) => logger.error({ err: error }, "the step before leaving failed"))
      .then(() => this.membership.leave())
      .then((told) => logger.info({ peersTold: told }, "left the cluster"))
      .catch((error: unknown) => logger.warn({ err: error }, "announcing the leave failed"))
      .finally(() => this.resolveLeft());
  }

  private addPeer(id: NodeId, host: string, port: number, logger: Logger): void {
    try {
      this.network.setPeer(id, host, port);
    } catch (error) {
      logger.warn({ err: error, member: id }, "cannot add peer");
    }
  }

  private persistRing(ring: RingState): Promise<void> {
    return this.runtime.storage.write([{ type: "put", key: ringMetaKey, value: packr.pack(ring) }], { durable: true });
  }
}

/**
 * A restarted node's seeds: the --join ones plus the peers it persisted, registered under their
 * known ids (the handshake checks them), up to membership's seedsMax.
 */
function withKnownPeers(joined: readonly NodeId[], knownPeers: KnownPeers, network: TcpNetwork, selfId: NodeId): NodeId[] {
  const seeds = [...joined];
  for (const peer of knownPeers.list()) {
    if (seeds.length >= membershipBoundsDefault.seedsMax) break;
    if (peer.id === selfId || seeds.includes(peer.id)) continue;
    network.setPeer(peer.id, peer.host, peer.peerPort);
    seeds.push(peer.id);
  }
  return seeds;
}

/** Whether `ring` gives `id` partitions, now or (in transition) before. */
function placesNode(ring: RingState, id: NodeId): boolean {
  return ring.members.some((m) => m.id === id) || ring.previous?.members.some((m) => m.id === id) === true;
}

/** Best effort: the joining node's --plan mode, through its seeds (each forwards to its leader). */
async function askPlanMode(plan: ClusterPlan, seeds: readonly NodeId[], mode: PlanMode, logger: Logger): Promise<void> {
  for (const seed of seeds) {
    const result = await plan.requestVia(seed, { kind: "mode", mode });
    if (result.ok) {
      logger.info({ mode, via: seed }, "cluster plan mode set");
      return;
    }
    logger.warn({ mode, via: seed, code: result.code, problem: result.message }, "cannot set the cluster plan mode through this seed");
  }
}

function ringOfOne(nodeId: NodeId, partitionCount = partitionCountDefault): RingState {
  const claimed = claimInitial([{ id: nodeId }], { partitionCount });
  if (!claimed.ok) throw new ShoalError("RingClaimFailed", 500, `cannot claim a ring of one for ${nodeId}: ${claimed.error.code}`);
  return claimed.ring;
}

function storedRing(runtime: Runtime, logger: Logger): RingState | undefined {
  const bytes = runtime.storage.get(ringMetaKey);
  if (bytes === undefined) return undefined;
  const parsed = parseRing(packr.unpack(bytes));
  if (parsed.ok) return parsed.ring;
  logger.warn({ problem: parsed.error }, "ignoring the persisted ring");
  return undefined;
}

/**
 * The node ids behind the seed addresses: rounds of one handshake per unresolved seed until at
 * least one answers or joinTimeoutMs passes. A seed that is this node is dropped. With no seed
 * reachable, a node that persisted a ring (a restart) starts anyway and waits for its peers to
 * reach it; a new node fails with JoinFailed, since it would otherwise form a cluster alone.
 */
async function resolveSeeds(network: TcpNetwork, options: NodeClusterOptions, hasRing: boolean): Promise<NodeId[]> {
  const { seeds, runtime, logger, joinTimeoutMs } = options;
  if (seeds.length === 0) return [];
  // Elapsed time, not the runtime's wall clock (a test's clock stands still).
  const deadlineMs = performance.now() + joinTimeoutMs;
  const errors = new Map<string, string>();
  for (;;) {
    const resolved: NodeId[] = [];
    for (const seed of seeds) {
      const timeoutMs = Math.max(1, Math.min(identifyTimeoutMs, deadlineMs - performance.now()));
      const found = await network.identify(seed.host, seed.port, { timeoutMs });
      const label = formatHostPort(seed.host, seed.port);
      if (!found.ok) {
        errors.set(label, found.error);
        continue;
      }
      if (found.nodeId === runtime.nodeId || resolved.includes(found.nodeId)) continue;
      network.setPeer(found.nodeId, seed.host, seed.port);
      resolved.push(found.nodeId);
      logger.info({ seed: label, nodeId: found.nodeId }, "seed resolved");
    }
    const allSelf = errors.size === 0;
    if (resolved.length > 0 || allSelf) return resolved;
    if (performance.now() >= deadlineMs) break;
    await new Promise<void>((resolve) => runtime.timers.setTimeout(resolve, identifyRetryDelayMs));
    errors.clear();
  }
  const detail = [...errors].map(([seed, error]) => `${seed}: ${error}`).join("; ");
  if (hasRing) {
    logger.warn({ seeds: [...errors.keys()], detail }, "no seed reachable; resuming the persisted ring and waiting for peers");
    return [];
  }
  throw new ShoalError("JoinFailed", 503, `cannot join: none of the ${seeds.length} seeds answered within ${joinTimeoutMs} ms (${detail})`);
}

/** A dead peer makes a failed dial every probe: worth a debug line, not a warning each time. */
function logTransportError(logger: Logger, error: ShoalError): void {
  const routine = error.code === "PeerUnreachable" || error.code === "ConnectionLost";
  if (routine) logger.debug({ code: error.code, problem: error.message }, "peer transport");
  else logger.warn({ code: error.code, problem: error.message }, "peer transport");
}
