import { Packr } from "msgpackr";
import { AntiEntropy, antiEntropyMessagePrefix } from "../anti-entropy/anti-entropy.js";
import { treePlacement } from "../anti-entropy/tree-placement.js";
import { assert } from "../assert.js";
import { ringStrongPlacement } from "../coordinator/strong-placement.js";
import { EventualCoordinator, type EventualCoordinatorStats } from "../coordinator/eventual-coordinator.js";
import { HintDelivery, type HintDeliveryOptions, type HintDeliveryResult } from "../handoff/hint-delivery.js";
import { ringHintPlacement } from "../handoff/hint-placement.js";
import { HintStore, type ListedHint } from "../handoff/hint-store.js";
import { ownershipMessagePrefix } from "../handoff/ownership-messages.js";
import { OwnershipTransfer, type OwnershipTable } from "../handoff/ownership-transfer.js";
import { defaultLimits } from "../limits.js";
import { Membership } from "../membership/membership.js";
import type { MembershipIntervals } from "../membership/membership-options.js";
import { AcceptorService } from "../paxos/acceptor-service.js";
import { strongWorkloadChangeKinds } from "./strong-workload.js";
import { paxosMessagePrefix, StrongCoordinator, type StrongCoordinatorOptions } from "../paxos/strong-coordinator.js";
import { ActorEpoch } from "../replica/actor-epoch.js";
import { HlcFloor } from "../replica/hlc-floor.js";
import { ReplicaService } from "../replica/replica-service.js";
import { claimRingHook } from "../node/claim-ring.js";
import type { RingPlanChange } from "../ring/ring-plan.js";
import { learnRingFrom } from "../node/learn-ring.js";
import { noRingRefusal } from "../node/peer-dispatcher.js";
import { partitionCountDefault } from "../ring/partition-hash.js";
import { ringHash } from "../ring/ring-hash.js";
import { parseRing, ringSettled, type RingState } from "../ring/ring-state.js";
import type { NodeId } from "../runtime/network.js";
import type { Runtime } from "../runtime/runtime.js";
import { decodeItemKey } from "../storage/item-key.js";
import { metaKey } from "../storage/keyspace.js";
import type { StorageEngine } from "../storage/storage-engine.js";
import { hlcPhysicalMs } from "../versioning/hybrid-logical-clock.js";
import { isSibling, type Sibling } from "../versioning/sibling.js";

/**
 * One simulated Shoal node, composed as the real node composes it (node/shoal-node.ts
 * wireDataPath): Membership whose claim hook publishes rings in transition, ReplicaService
 * writing through AntiEntropy's IndexedStorage (when `antiEntropy` is given: Merkle trees over
 * the eventual tables, exchanged in the background), EventualCoordinator, HintStore and
 * HintDelivery, OwnershipTransfer (a ring in transition: this node pulls what it gains, the
 * leader settles the ring), and one message dispatcher by type prefix. With `strong`, also
 * the strong path: an AcceptorService and a StrongCoordinator whose acceptors are each key's
 * primaries on the node's ring, joint old and new ones during a transition. Every incarnation
 * opens from what its disk holds: the ring it persisted (else `initialRing`, else none: a
 * joining node learns it by gossip), the hints, the items, the transfer's progress.
 */
export interface ClusterNodeOptions {
  seeds: readonly NodeId[];
  /** The ring a node starts from when its disk holds none; undefined for a node that joins. */
  initialRing?: RingState;
  /** The tables the transfer moves and anti-entropy covers (its eventual ones); none by default. */
  tables?: readonly OwnershipTable[];
  requestTimeoutMs: number;
  membershipIntervals?: Partial<MembershipIntervals>;
  hintDelivery?: Partial<Omit<HintDeliveryOptions<Sibling>, "store" | "timers" | "random" | "isUp" | "deliver">>;
  /** Counts shared across nodes and incarnations (see EventualCoordinatorOptions.stats). */
  stats?: EventualCoordinatorStats;
  /** Test only: see EventualCoordinatorOptions.unsafeKeepNewestOnly. */
  unsafeKeepNewestOnly?: boolean;
  /** Host the strong path (CASPaxos acceptor and coordinator) too; its options but the wiring. */
  strong?: Omit<StrongCoordinatorOptions, "runtime" | "acceptors" | "placement" | "requestTimeoutMs">;
  /** Run Merkle anti-entropy over the eventual tables, a round every `intervalMs` (virtual). */
  antiEntropy?: { intervalMs: number };
  /** The ownership transfer's tick (virtual ms; the product's default otherwise). */
  transferIntervalMs?: number;
  /** Called at every start: true makes the node announce that it leaves (a leave in progress survives a restart). */
  leaving?: () => boolean;
  /** Plan changes committed so far (SimCluster): the claim hook builds those the ring does not show yet. */
  committed?: () => readonly RingPlanChange[];
  /**
   * Test only: the leader settles every ring in transition the moment it adopts it, before
   * any transfer ran (the convergence check or the linearizability checker must object).
   */
  unsafeSettleAtOnce?: boolean;
  /**
   * Test only: hint delivery gets no placement, so hints for a node that left or was replaced
   * stay where they are (the convergence check must object). For seeds that replace a node:
   * a leaver cannot drain without a placement (HintDelivery.startDraining asserts).
   */
  unsafeNoHintRetargeting?: boolean;
}

const ringKey = metaKey("eventual-ring");
/** NodeItems' counters per millisecond of HLC for a key's first dot (node/node-items.ts). */
const freshCountersPerMs = 16;
const packr = new Packr({ useRecords: false, moreTypes: false, structuredClone: false });

export class ClusterNode {
  readonly membership: Membership<RingState>;
  readonly hints: HintStore<Sibling>;
  readonly replicas: ReplicaService;
  readonly coordinator: EventualCoordinator;
  readonly delivery: HintDelivery<Sibling>;
  /** The strong path, when the node was opened with `strong`. */
  readonly acceptors: AcceptorService | undefined;
  readonly strong: StrongCoordinator | undefined;
  readonly transfer: OwnershipTransfer;
  /** Merkle anti-entropy, when the node was opened with `antiEntropy`. */
  readonly antiEntropy: AntiEntropy | undefined;

  private constructor(
    private readonly runtime: Runtime,
    options: ClusterNodeOptions,
  ) {
    const network = runtime.network;
    assert(network !== undefined, "a cluster node needs a network");
    this.membership = new Membership<RingState>(runtime, {
      self: { id: runtime.nodeId, address: { host: runtime.nodeId, peerPort: 9000, clientPort: 8000 } },
      seeds: options.seeds.filter((id) => id !== runtime.nodeId),
      // The product's claim hook with transitions, as the real node runs it: a join or leave
      // publishes a ring in transition, which OwnershipTransfer fills and the leader settles.
      computeRing: claimRingHook({ partitionCount: partitionCountDefault, transitions: true, ...(options.committed ? { committed: options.committed } : {}) }),
      parseRing: (value) => {
        const parsed = parseRing(value);
        return parsed.ok ? parsed.ring : undefined;
      },
      ...ringOption(storedRing(runtime) ?? options.initialRing),
      // As the real node: ring v+1 is decided by ring v's members (membership/ring-register.ts).
      agreedRings: true,
      ringHash,
      ...(options.membershipIntervals ? { intervals: options.membershipIntervals } : {}),
    });
    const tables = options.tables ?? [];
    const tableOf = (id: number): OwnershipTable | undefined => tables.find((table) => table.id === id);
    let storage: StorageEngine = runtime.storage;
    if (options.antiEntropy !== undefined) {
      this.antiEntropy = new AntiEntropy({
        runtime,
        ...treePlacement({ ring: () => this.membership.ring(), nOf: (id) => (tableOf(id)?.strong === false ? tableOf(id)!.n : undefined) }),
        replica: {
          fetch: (key) => this.replicas.fetch(key),
          merge: (key, set) => this.replicas.merge(key, set, { lww: tableOf(decodeItemKey(key).tableId)?.lww === true }),
        },
        isUp: (id) => this.membership.isUp(id),
        requestTimeoutMs: options.requestTimeoutMs,
        treesMax: partitionCountDefault * 4,
        schedule: { intervalMs: options.antiEntropy.intervalMs },
      });
      storage = this.antiEntropy.storage;
    }
    this.hints = HintStore.open({ storage, isValue: isSibling, hintsPerTargetMax: defaultLimits.hintsPerTargetMax });
    // As NodeItems: the HLC floor survives restarts, and a key this node holds nothing of gets
    // its first dot above the HLC's counter base, so a restarted node that lost a write never
    // issues a dot it already issued for another value.
    const hlcFloor = new HlcFloor(storage, runtime.hlc);
    hlcFloor.restore();
    this.replicas = new ReplicaService({
      nodeId: runtime.nodeId,
      storage,
      hints: this.hints,
      siblingsMax: defaultLimits.siblingsMax,
      hlcFloor,
      clock: runtime.clock,
      hlc: runtime.hlc,
      // Per-incarnation actor (replica/actor-epoch.ts): the coordinator's write commits alongside the replicas'.
      actorEpoch: ActorEpoch.open(storage, runtime.nodeId),
      freshCounterBase: () => hlcPhysicalMs(runtime.hlc.peek()) * freshCountersPerMs,
      // Ring-version fencing of replica writes and transfer scans (replica/ring-fence.ts), as NodeItems.
      ringFence: { ring: () => this.membership.ring(), nOf: (id) => (tableOf(id)?.strong === false ? tableOf(id)!.n : undefined) },
    });
    this.coordinator = new EventualCoordinator({
      runtime,
      replicas: this.replicas,
      membership: this.membership,
      requestTimeoutMs: options.requestTimeoutMs,
      learnRing: learnRingFrom(network, this.membership, options.requestTimeoutMs),
      // Merges to one peer within 5 ms of virtual time go as one "replica.merges" (replica/merge-batch.ts):
      // each simulated put runs in its own event, so a flush after the turn would never batch here.
      mergeBatch: { defer: (flush) => void runtime.timers.setTimeout(flush, 5) },
      ...(options.stats ? { stats: options.stats } : {}),
      ...(options.unsafeKeepNewestOnly === true ? { unsafeKeepNewestOnly: true } : {}),
    });
    this.delivery = new HintDelivery<Sibling>({
      ...options.hintDelivery,
      store: this.hints,
      timers: runtime.timers,
      random: runtime.random,
      isUp: (node) => this.membership.isUp(node),
      deliver: (target, batch, to) => this.handBack(target, batch, options.requestTimeoutMs, to?.hintFor),
      // Hints for a node that left or was replaced go to each key's current primaries (hint-delivery.ts).
      ...(options.unsafeNoHintRetargeting === true ? {} : { placement: ringHintPlacement({ self: runtime.nodeId, ring: () => this.membership.ring(), nOf: (id) => (tableOf(id)?.strong === false ? tableOf(id)!.n : undefined) }) }),
    });
    if (options.strong !== undefined) {
      this.acceptors = new AcceptorService({ runtime });
      const placement = ringStrongPlacement(() => this.membership.ring());
      // Writes go to each key's first live primary, as on a real node (options.strong may set forwardWrites: undefined to turn it off).
      const forwardWrites = { isUp: (id: NodeId) => this.membership.isUp(id) };
      // The strong workload's increments and compare-and-sets travel as named changes (strong-workload.ts).
      this.strong = new StrongCoordinator({ forwardWrites, changeKinds: strongWorkloadChangeKinds, ...options.strong, runtime, acceptors: this.acceptors, placement, requestTimeoutMs: options.requestTimeoutMs });
    }
    const publishRing = (ring: RingState) => this.membership.publish(ring);
    this.transfer = new OwnershipTransfer({
      runtime,
      ring: () => this.membership.ring(),
      leader: () => this.membership.leader(),
      tables: () => tables,
      merge: (key, set, conflicts) => this.replicas.merge(key, set, conflicts),
      strongRead: (key, n) => {
        assert(this.strong !== undefined, "a strong table needs a node opened with `strong`");
        return this.strong.read(key, n);
      },
      // Ring-version fencing (paxos/README.md): old acceptors refuse older rings before their scan.
      strongFence: (node, ringVersion) => this.strong?.fence(node, ringVersion) ?? Promise.resolve(true),
      publishRing,
      ...(options.transferIntervalMs !== undefined ? { intervalMs: options.transferIntervalMs } : {}),
      requestTimeoutMs: options.requestTimeoutMs,
    });
    network.serve((from, message) => this.dispatch(from, message));
    this.membership.onChange((event) => {
      if (event.kind !== "ring") return;
      void runtime.storage.write([{ type: "put", key: ringKey, value: packr.pack(event.ring) }], { durable: true });
      if (options.unsafeSettleAtOnce === true && event.ring.previous !== undefined && this.membership.leader() === runtime.nodeId) {
        const settled = ringSettled(event.ring);
        runtime.timers.setTimeout(() => void publishRing(settled), 0);
      }
    });
    this.membership.start();
    this.delivery.start();
    this.transfer.start();
    this.antiEntropy?.start();
    if (options.leaving?.() === true) void this.membership.leave();
  }

  /** Announces that this node leaves (membership "leaving"): the claim hook never places it again. */
  leave(): void {
    void this.membership.leave();
  }

  static open(runtime: Runtime, options: ClusterNodeOptions): ClusterNode {
    return new ClusterNode(runtime, options);
  }

  /** One dispatcher by message type prefix (membership., replica., coordinator., paxos., handoff., anti-entropy.). */
  private dispatch(from: NodeId, message: unknown): unknown {
    const type = (message as { type?: unknown } | null)?.type;
    if (typeof type !== "string") return undefined;
    if (type.startsWith("membership.")) return this.membership.handle(from, message);
    // A node without a ring (one that joins, before gossip brought it the ring) cannot place a
    // key in a Merkle tree: an item stored then would be missing from its tree until the index
    // check's next pass (anti-entropy/index-verify.ts). It refuses data traffic until then (the
    // sender counts a failed reply); found by the simulator, see the README. The real node's
    // dispatcher answers the same typed refusal (node/peer-dispatcher.ts); the strong path's
    // messages, which it does not gate, are dropped here as before.
    if (this.membership.ring() === undefined) return noRingRefusal(type);
    if (type.startsWith("replica.")) return this.replicas.handle(from, message);
    if (type.startsWith("coordinator.")) return this.coordinator.handle(from, message);
    if (type.startsWith(paxosMessagePrefix)) return this.strong?.handle(from, message);
    if (type.startsWith(ownershipMessagePrefix)) return this.transfer.handle(from, message);
    if (type.startsWith(antiEntropyMessagePrefix)) return this.antiEntropy?.handle(from, message);
    return undefined;
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
    return results.every((result) => result.ok && result.reply?.ok === true) ? { ok: true } : { ok: false };
  }
}

function ringOption(ring: RingState | undefined): { ring?: RingState } {
  return ring === undefined ? {} : { ring };
}

function storedRing(runtime: Runtime): RingState | undefined {
  const bytes = runtime.storage.get(ringKey);
  if (bytes === undefined) return undefined;
  const parsed = parseRing(packr.unpack(bytes));
  return parsed.ok ? parsed.ring : undefined;
}

