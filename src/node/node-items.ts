import { assert } from "../assert.js";
import { ClusterCoordinator } from "../coordinator/cluster-coordinator.js";
import { StrongItemOperations } from "../coordinator/strong-item-operations.js";
import { ringStrongPlacement, strongAcceptors } from "../coordinator/strong-placement.js";
import { AcceptorService } from "../paxos/acceptor-service.js";
import { paxosMessagePrefix, StrongCoordinator } from "../paxos/strong-coordinator.js";
import { incrementChangeKind, incrementOfArgs } from "../api/increment-handler.js";
import { EventualCoordinator } from "../coordinator/eventual-coordinator.js";
import { TombstoneReaper, tombstoneReaperDefaults } from "../coordinator/tombstone-reaper.js";
import { Departures } from "../coordinator/tombstone-reaper-departures.js";
import { TombstoneIndexBackfill } from "../replica/tombstone-index-backfill.js";
import { AcceptorRelearn, gatedAcceptors, refuseAcceptedScans } from "./acceptor-relearn.js";
import { HintDelivery, type HintDeliveryOptions, type HintDeliveryResult } from "../handoff/hint-delivery.js";
import { ringHintPlacement } from "../handoff/hint-placement.js";
import { HintStore, type ListedHint } from "../handoff/hint-store.js";
import type { Limits } from "../limits.js";
import { ActorEpoch } from "../replica/actor-epoch.js";
import { HlcFloor } from "../replica/hlc-floor.js";
import { PartitionRelease, type PartitionReleaseOptions } from "../handoff/partition-release.js";
import { ringAcknowledgedBy } from "../membership/ring-acknowledgement.js";
import { ringHash } from "../ring/ring-hash.js";
import { ReplicaService } from "../replica/replica-service.js";
import { isRingRefusal } from "../replica/ring-fence.js";
import type { RingState } from "../ring/ring-state.js";
import { partitionOf } from "../ring/partition-hash.js";
import { preferenceList } from "../ring/preference-list.js";
import { decodeItemKey } from "../storage/item-key.js";
import type { NodeId, RequestHandler } from "../runtime/network.js";
import type { Runtime } from "../runtime/runtime.js";
import type { StorageEngine } from "../storage/storage-engine.js";
import { hlcPhysicalMs } from "../versioning/hybrid-logical-clock.js";
import { isSibling, type Sibling } from "../versioning/sibling.js";

/**
 * A node's data path on the eventual path, assembled once for the real node (ShoalNode) and
 * for in-process test clusters alike: the replica (ReplicaService over the node's storage, the
 * HLC floor, the expiry index), hinted handoff (HintStore, HintDelivery handing hints back as
 * "replica.merge", throttled), the EventualCoordinator, tombstone GC (TombstoneReaper, walking
 * the replica's tombstone index), the strong path (this node's CASPaxos
 * acceptor and a StrongCoordinator whose acceptors are each key's primaries) and the
 * ClusterCoordinator the front doors call. `routes` lists the peer-message prefixes it serves, for the node's dispatcher.
 *
 * Example:
 *   const items = NodeItems.open(runtimeWithNetwork, { membership, limits, requestTimeoutMs: 2000 });
 *   for (const [prefix, handler] of items.routes()) dispatcher.route(prefix, handler);
 *   items.start(); ... context.items = items.coordinator; ... await items.stop();
 */
export interface NodeItemsOptions {
  membership: {
    ring(): RingState | undefined;
    isUp(id: NodeId): boolean;
    members?(): readonly { id: NodeId; state: string }[];
    /** Ring changes, for tombstone GC's departure records (without it they are taken at each GC step). */
    onChange?(listener: (event: { kind: string; ring?: RingState }) => void): void;
    ringStamp?(): { hash?: string } | null;
  };
  limits: Pick<Limits, "siblingsMax" | "hintsPerTargetMax">;
  requestTimeoutMs: number;
  /** Tombstone GC's grace: how old a tombstone must be before it is collected (default 90 s). */
  tombstoneGraceMs?: number;
  /** Tombstone GC's pause between passes over the tombstone index (default 10 s). */
  tombstoneIntervalMs?: number;
  /**
   * The replication n of an eventual table by id (undefined: not eventual, or unknown here);
   * tombstone GC collects only keys it can place. Without it GC collects nothing.
   */
  nOf?: (tableId: number) => number | undefined;
  hintDelivery?: Partial<Omit<HintDeliveryOptions<Sibling>, "store" | "timers" | "random" | "isUp" | "deliver">>;
  /**
   * The storage the replica writes items through; default runtime.storage. Anti-entropy passes
   * its IndexedStorage over runtime.storage here, so every item write keeps the Merkle trees.
   */
  replicaStorage?: StorageEngine;
  /** Whether a table id was dropped (the catalog's drop list): writes to it are refused. */
  isTableDropped?: (tableId: number) => boolean;
  /**
   * When the coordinator's batched replica merges are sent (replica/merge-batch.ts): the real
   * node passes setImmediate (the end of the event-loop iteration); default, after the
   * microtasks already queued (a simulator's virtual clock never runs a real macrotask in time).
   */
  mergeBatchDefer?: (flush: () => void) => void;
  /**
   * What the node's disk held at start (AcceptorRelearn.diskState, read before the cluster
   * persists a ring): a new data directory keeps this node's acceptor shut until it is known to
   * be a new node, or relearned its keys (acceptor-relearn.ts). Absent: the acceptor is open.
   */
  acceptorDisk?: { fresh: boolean; unfinished: boolean };
  /** Called once a wiped node's acceptor finished relearning and opened (acceptor-relearn.ts). */
  onRelearned?: (keysRead: number) => void;
  /** A strong table's n; "skip" for other or dropped tables; undefined while not known here (the relearn waits). */
  strongN?: (tableId: number) => number | "skip" | undefined;
  /**
   * Asks a peer for its ring and adopts it when newer (node/learn-ring.ts): the eventual
   * coordinator's retry after a replica refused a write for a newer ring. Without it, gossip.
   */
  learnRing?: (peer: NodeId) => Promise<void>;
  /** The partition release's throttle and reporting (handoff/partition-release.ts); errors are dropped without onError. */
  release?: Partial<Pick<PartitionReleaseOptions, "batchMax" | "busyDelayMs" | "idleDelayMs" | "onReleased" | "onError">>;
}

/** A key's primaries for tombstone GC; undefined without a ring, during a transition, or for a table it cannot place. */
function primariesOf(ring: RingState | undefined, nOf: ((tableId: number) => number | undefined) | undefined, key: Uint8Array): NodeId[] | undefined {
  if (ring === undefined || ring.previous !== undefined || nOf === undefined) return undefined;
  const item = decodeItemKey(key);
  const n = nOf(item.tableId);
  if (n === undefined) return undefined;
  return preferenceList(ring, partitionOf(item.partitionKey, ring.partitionCount), Math.min(n, ring.members.length));
}

/**
 * The first dot a coordinator issues for a key it holds nothing of starts above this many
 * counters per millisecond of its HLC (ReplicaService.freshCounterBase): a key's dots can
 * outrun it only with more than this many writes per millisecond through one coordinator.
 */
const freshCountersPerMs = 16;

/** What POST /v1/cluster/forget answers (NodeItems.forgetDeparture). */
export type ForgetResult = { ok: true; node: NodeId; ringVersion: number; membersTold: number } | { ok: false; status: number; code: string; message: string };

/** Departure records kept (membership's membersMax: at most that many nodes are known). */
const departuresMax = 256;

export class NodeItems {
  readonly hlcFloor: HlcFloor;
  readonly hints: HintStore<Sibling>;
  readonly replicas: ReplicaService;
  readonly eventual: EventualCoordinator;
  readonly reaper: TombstoneReaper;
  /** Indexes tombstones written before the tombstone index existed, once per data directory. */
  readonly backfill: TombstoneIndexBackfill;
  readonly delivery: HintDelivery<Sibling>;
  readonly acceptors: AcceptorService;
  readonly strong: StrongCoordinator;
  readonly coordinator: ClusterCoordinator;
  /** Keeps a wiped node's acceptor shut until it relearned (acceptor-relearn.ts). */
  readonly relearn: AcceptorRelearn;
  /** Drops the partitions this node serves no more once the ring settled (no resurrection on a later gain). */
  readonly release: PartitionRelease;
  /** Nodes that left with data not handed on yet: tombstone GC waits for them (tombstone-reaper-departures.ts). */
  readonly departures: Departures;

  private constructor(
    private readonly runtime: Runtime,
    private readonly options: NodeItemsOptions,
  ) {
    const { hlc, clock, nodeId } = runtime;
    const storage = options.replicaStorage ?? runtime.storage;
    this.hlcFloor = new HlcFloor(storage, hlc);
    this.hlcFloor.restore();
    this.hints = HintStore.open({ storage, isValue: isSibling, hintsPerTargetMax: options.limits.hintsPerTargetMax });
    this.departures = Departures.load(runtime.storage, departuresMax, options.membership.ring(), nodeId, () => clock.nowMs());
    // Who departs is decided by the committed plan and carried in the ring (`departing`), not by this node's failure detector.
    const observeRing = (): void => {
      const ring = options.membership.ring();
      if (ring !== undefined) void this.departures.observeRing(ring).catch(() => undefined);
    };
    // At the ring change itself: whether membership holds a removed node down is decided then.
    options.membership.onChange?.((event) => {
      if (event.kind === "ring") observeRing();
    });
    this.replicas = new ReplicaService({
      nodeId,
      storage,
      hints: this.hints,
      siblingsMax: options.limits.siblingsMax,
      hlcFloor: this.hlcFloor,
      clock,
      hlc,
      // Per-incarnation actor (replica/actor-epoch.ts): the coordinator's write commits alongside the replicas'.
      actorEpoch: ActorEpoch.open(storage, nodeId),
      freshCounterBase: () => hlcPhysicalMs(hlc.peek()) * freshCountersPerMs,
      ...(options.isTableDropped !== undefined ? { isTableDropped: options.isTableDropped } : {}),
      // Ring-version fencing of replica writes and transfer scans (replica/ring-fence.ts).
      ringFence: { ring: () => options.membership.ring(), nOf: (tableId) => options.nOf?.(tableId) },
      departures: { wire: () => this.departures.wire(), merge: (value) => this.departures.merge(value).catch(() => undefined) },
      // A leaver still handing its hints on or releasing its partitions holds GC back even while up.
      leftUnclean: () => this.departures.pending(options.membership.ring()).includes(nodeId),
    });
    this.backfill = new TombstoneIndexBackfill({ storage: runtime.storage, timers: runtime.timers, fetch: (key) => this.replicas.fetch(key) });
    this.reaper = new TombstoneReaper({
      self: nodeId,
      clock,
      timers: runtime.timers,
      network: runtime.network,
      replicas: this.replicas,
      primariesOf: (key) => primariesOf(options.membership.ring(), options.nOf, key),
      members: () => (options.membership.ring()?.members ?? []).map((member) => member.id),
      // A node outside the ring that is up (a leaver handing its hints on) is asked for hints too.
      outsiders: () => (options.membership.members?.() ?? []).filter((member) => member.state === "up").map((member) => member.id),
      isUp: (id) => options.membership.isUp(id),
      departures: {
        pending: () => {
          observeRing();
          return this.departures.pending(options.membership.ring()).filter((id) => id !== nodeId);
        },
        wire: () => this.departures.wire(),
        merge: (value) => void this.departures.merge(value).catch(() => undefined),
      },
      graceMs: options.tombstoneGraceMs ?? tombstoneReaperDefaults.graceMs,
      ...(options.tombstoneIntervalMs !== undefined ? { intervalMs: options.tombstoneIntervalMs } : {}),
      requestTimeoutMs: options.requestTimeoutMs,
    });
    this.eventual = new EventualCoordinator({
      runtime,
      replicas: this.replicas,
      membership: options.membership,
      requestTimeoutMs: options.requestTimeoutMs,
      ...(options.learnRing !== undefined ? { learnRing: options.learnRing } : {}),
      ...(options.mergeBatchDefer !== undefined ? { mergeBatch: { defer: options.mergeBatchDefer } } : {}),
    });
    this.delivery = new HintDelivery<Sibling>({
      ...options.hintDelivery,
      store: this.hints,
      timers: runtime.timers,
      random: runtime.random,
      isUp: (node) => options.membership.isUp(node),
      deliver: (target, batch, to) => this.handBack(target, batch, options.requestTimeoutMs, to?.hintFor),
      // Hints for a node that left or was replaced go to each key's current primaries (hint-delivery.ts).
      placement: ringHintPlacement({ self: nodeId, ring: () => options.membership.ring(), nOf: options.nOf ?? (() => undefined) }),
    });
    this.acceptors = new AcceptorService({ runtime });
    const strongN = options.strongN;
    this.release = new PartitionRelease({
      onError: () => undefined,
      ...options.release,
      self: nodeId,
      storage,
      // Deletes under the replica's key locks, so a merge racing the release cannot bring a key back.
      locks: this.replicas,
      timers: runtime.timers,
      ring: () => options.membership.ring(),
      // Every new owner holds the same settled ring, (version, hash) when rings are agreed, before a copy is dropped.
      acknowledged: (ring, nodes) => ringAcknowledgedBy(runtime.network!, nodes, { version: ring.version, ...(options.membership.ringStamp?.()?.hash !== undefined ? { hash: ringHash(ring) } : {}) }, options.requestTimeoutMs),
      nOf: (tableId) => {
        const eventual = options.nOf?.(tableId);
        if (eventual !== undefined) return eventual;
        const strong = strongN?.(tableId);
        return typeof strong === "number" ? strong : undefined;
      },
    });
    this.relearn = new AcceptorRelearn(
      {
        self: nodeId,
        storage: runtime.storage,
        timers: runtime.timers,
        network: runtime.network!,
        members: () => options.membership.ring()?.members.map((member) => member.id),
        isUp: (id) => options.membership.isUp(id),
        strongN: options.strongN ?? (() => undefined),
        primariesOf: (key, n) => primariesOf(options.membership.ring(), () => n, key),
        read: (key, n) => this.strong.read(key, n),
        requestTimeoutMs: options.requestTimeoutMs,
        ...(options.onRelearned !== undefined ? { onDone: options.onRelearned } : {}),
      },
      options.acceptorDisk ?? { fresh: false, unfinished: false },
    );
    const placement = ringStrongPlacement(() => options.membership.ring());
    const acceptors = options.acceptorDisk === undefined ? this.acceptors : gatedAcceptors(this.acceptors, () => this.relearn.gated);
    // Writes go to each key's first live primary, which proposes them (paxos/README.md, "Forwarding writes to the first primary").
    const forwardWrites = { isUp: (id: NodeId) => options.membership.isUp(id) };
    // Named read-modify-writes (increments) other nodes forward here are built by the strong item operations below.
    let strongItems: StrongItemOperations | undefined;
    const changeKinds = (kind: string, args: unknown) => strongItems?.changeKind(kind, args) ?? "the node is starting";
    this.strong = new StrongCoordinator({ runtime, acceptors, placement, requestTimeoutMs: options.requestTimeoutMs, forwardWrites, changeKinds });
    const members = (): number => Math.max(1, options.membership.ring()?.members.length ?? 1);
    const upMembers = (): NodeId[] => (options.membership.ring()?.members ?? []).map((member) => member.id).filter((id) => id === nodeId || options.membership.isUp(id));
    this.coordinator = new ClusterCoordinator({
      runtime,
      eventual: this.eventual,
      replicas: this.replicas,
      membership: options.membership,
      requestTimeoutMs: options.requestTimeoutMs,
      strong: (strongItems = new StrongItemOperations({
        strong: this.strong,
        clock,
        members,
        itemChangeKinds: { [incrementChangeKind]: incrementOfArgs },
        scan: { self: nodeId, network: runtime.network, replicas: this.replicas, timeoutMs: options.requestTimeoutMs, relearning: () => this.relearn.gated, placement, isUp: (id) => options.membership.isUp(id), upMembers, coverage: (n) => acceptorSets(options.membership.ring(), n) },
      })),
    });
  }

  /**
   * This node left the ring and handed everything on (its hints drained, its partitions
   * released): records it as a clean departure and tells every member of its ring, so tombstone
   * GC stops waiting for it (tombstone-reaper-departures.ts). Each member is tried up to
   * `attempts` times; true when at least one took the report (the members pass it on in GC's
   * checks). A node that reports nothing keeps GC waiting until it comes back and reports.
   */
  async reportLeftClean(attempts = 3): Promise<boolean> {
    const ring = this.options.membership.ring();
    if (ring === undefined) return false;
    await this.departures.markClean(this.runtime.nodeId, ring.version);
    return (await this.pushDepartures(ring, attempts)) > 0;
  }

  /**
   * An operator's forget of a dead leaver (POST /v1/cluster/forget): its pending departure no
   * longer holds tombstone GC back (tombstone-reaper-departures.ts `forget`). Refused (nothing
   * changes) while this node's ring places `id` or when this node holds no pending departure
   * of it. Tells every member of the ring (each tried up to `attempts` times); the others learn
   * it from GC's checks.
   */
  async forgetDeparture(id: NodeId, attempts = 3): Promise<ForgetResult> {
    const ring = this.options.membership.ring();
    if (ring === undefined) return { ok: false, status: 409, code: "NoRing", message: "this node holds no ring yet; try again once the cluster formed" };
    if (ring.members.some((m) => m.id === id) || ring.previous?.members.some((m) => m.id === id) === true) {
      return { ok: false, status: 409, code: "StillMember", message: `${id} is still placed by ring ${ring.version}; forget applies to a node that left the ring (stage {"leave": "${id}"} or a replace first)` };
    }
    const entry = this.departures.get(id);
    if (entry === undefined) return { ok: false, status: 404, code: "NoDeparture", message: `this node holds no departure record of ${id}: nothing waits for it here` };
    if (entry.cleanAt > entry.placedUpTo) return { ok: false, status: 409, code: "DepartureClean", message: `the departure of ${id} is already clean (reported at ring ${entry.cleanAt}); nothing to forget` };
    await this.departures.forget(id, ring.version);
    const told = await this.pushDepartures(ring, attempts);
    return { ok: true, node: id, ringVersion: ring.version, membersTold: told };
  }

  /** Sends this node's departure records to every other member of `ring`; how many took them. */
  private async pushDepartures(ring: RingState, attempts: number): Promise<number> {
    const self = this.runtime.nodeId;
    const network = this.runtime.network!;
    const members = ring.members.map((member) => member.id).filter((id) => id !== self);
    const told = await Promise.all(
      members.map(async (id) => {
        for (let attempt = 0; attempt < attempts; attempt++) {
          const result = await network.request<{ ok?: boolean; departures?: unknown }>(id, { type: "replica.departures", departures: this.departures.wire() }, { timeoutMs: this.options.requestTimeoutMs });
          if (result.ok && result.reply?.ok === true) return true;
        }
        return false;
      }),
    );
    return told.filter(Boolean).length;
  }

  /**
   * Waits (checking every 100 ms, at most `maxMs`) until the partition release finished a pass
   * under the current settled ring; true when it did. A leaver reports a clean departure only
   * then: partition data it kept could come back if a later ring placed it again.
   */
  async releaseDone(maxMs = 60_000): Promise<boolean> {
    const stepMs = 100;
    for (let waitedMs = 0; ; waitedMs += stepMs) {
      const ring = this.options.membership.ring();
      const progress = this.release.progress();
      if (ring !== undefined && ring.previous === undefined && progress?.done === true && progress.ringVersion === ring.version) return true;
      if (waitedMs >= maxMs) return false;
      await new Promise<void>((resolve) => this.runtime.timers.setTimeout(resolve, stepMs));
    }
  }

  /** Restores the HLC floor and opens the hint store from `runtime.storage` (runtime.network must be set). */
  static open(runtime: Runtime, options: NodeItemsOptions): NodeItems {
    assert(runtime.network !== undefined, "the data path needs the runtime's network");
    return new NodeItems(runtime, options);
  }

  /** Peer-message prefixes this data path serves. */
  routes(): [prefix: string, handler: RequestHandler][] {
    return [
      // A relearning acceptor does not answer strong listings (acceptor-relearn.ts).
      ["replica.", refuseAcceptedScans((from, message) => this.replicas.handle(from, message), () => this.relearn.gated)],
      ["coordinator.", (from, message) => this.eventual.handle(from, message)],
      [paxosMessagePrefix, (from, message) => this.strong.handle(from, message)],
    ];
  }

  start(): void {
    this.delivery.start();
    this.reaper.start();
    this.backfill.start();
    this.relearn.start();
    this.release.start();
  }

  async stop(): Promise<void> {
    await Promise.all([this.reaper.stop(), this.backfill.stop(), this.delivery.stop(), this.relearn.stop(), this.release.stop()]);
  }

  /** Once nothing can reach the replica (API and network closed): drain its writes and keep the actor epoch for the next start (replica/actor-epoch.ts). */
  stopCoordinating(): Promise<void> {
    return this.replicas.stopCoordinating();
  }

  /**
   * Hinted handoff: each hint's set goes to `target` as a plain merge (merged here when this node
   * is the target: a re-targeted hint whose key this node is now a primary of), or with `hintFor`
   * as a hint for that node (a draining node's stand-in); ok once all were stored.
   */
  private async handBack(target: NodeId, batch: readonly ListedHint<Sibling>[], timeoutMs: number, hintFor?: NodeId): Promise<HintDeliveryResult> {
    if (target === this.runtime.nodeId && hintFor === undefined) {
      const merged = await Promise.all(batch.map((hint) => this.replicas.merge(hint.key, hint.set, { lww: false })));
      return merged.every((result) => result.ok) ? { ok: true } : { ok: false };
    }
    const network = this.runtime.network!;
    const results = await Promise.all(
      batch.map((hint) => network.request<{ ok?: boolean }>(target, { type: "replica.merge", key: hint.key, set: hint.set, hintFor: hintFor ?? null, lww: false }, { timeoutMs })),
    );
    // The target's newer ring no longer places it for a key (ring-fence.ts): learn that ring, so
    // the next attempt places the hint on the key's current primaries (hint-delivery.ts).
    if (this.options.learnRing !== undefined && results.some((result) => result.ok && isRingRefusal(result.reply) && result.reply.ringVersion > (this.options.membership.ring()?.version ?? -1))) {
      void this.options.learnRing(target).catch(() => undefined);
    }
    return results.every((result) => result.ok && result.reply?.ok === true) ? { ok: true } : { ok: false };
  }
}

/** The distinct acceptor sets of a ring's partitions at n (current and previous), for a strong list's majority check. */
function acceptorSets(ring: RingState | undefined, n: number): NodeId[][] {
  if (ring === undefined) return [];
  const sets = new Map<string, NodeId[]>();
  for (let partition = 0; partition < ring.partitionCount; partition++) {
    const placed = strongAcceptors(ring, partition, n);
    for (const set of placed.previous === undefined ? [placed.acceptors] : [placed.acceptors, placed.previous]) sets.set([...set].sort().join("\u0000"), set);
  }
  return [...sets.values()];
}
