import { Packr } from "msgpackr";
import { assert } from "../assert.js";
import { EventualCoordinator, type EventualCoordinatorStats } from "../coordinator/eventual-coordinator.js";
import { HintDelivery, type HintDeliveryOptions, type HintDeliveryResult } from "../handoff/hint-delivery.js";
import { HintStore, type ListedHint } from "../handoff/hint-store.js";
import { defaultLimits } from "../limits.js";
import { Membership } from "../membership/membership.js";
import type { MembershipIntervals } from "../membership/membership-options.js";
import { AcceptorService } from "../paxos/acceptor-service.js";
import { paxosMessagePrefix, StrongCoordinator, type StrongCoordinatorOptions } from "../paxos/strong-coordinator.js";
import { ReplicaService } from "../replica/replica-service.js";
import { claimRingHook } from "../node/claim-ring.js";
import { partitionCountDefault } from "../ring/partition-hash.js";
import { parseRing, type RingState } from "../ring/ring-state.js";
import type { NodeId } from "../runtime/network.js";
import type { Runtime } from "../runtime/runtime.js";
import { metaKey } from "../storage/keyspace.js";
import { isSibling, type Sibling } from "../versioning/sibling.js";
import { ringStrongPlacement } from "./ring-strong-placement.js";

/**
 * One simulated Shoal node on the eventual path: Membership (with a claim-based ring),
 * ReplicaService, EventualCoordinator, HintStore and HintDelivery, and one message dispatcher
 * by type prefix. With `strong`, also the strong path: an AcceptorService and a
 * StrongCoordinator whose acceptors are each key's primaries on the node's ring. Every incarnation opens from what its disk holds: the ring it persisted
 * (else the cluster's initial ring), the hints, the items.
 */
export interface ClusterNodeOptions {
  seeds: readonly NodeId[];
  /** The ring every node starts from (all nodes placed, so the workload starts on a stable ring). */
  initialRing: RingState;
  requestTimeoutMs: number;
  membershipIntervals?: Partial<MembershipIntervals>;
  hintDelivery?: Partial<Omit<HintDeliveryOptions<Sibling>, "store" | "timers" | "random" | "isUp" | "deliver">>;
  /** Counts shared across nodes and incarnations (see EventualCoordinatorOptions.stats). */
  stats?: EventualCoordinatorStats;
  /** Test only: see EventualCoordinatorOptions.unsafeKeepNewestOnly. */
  unsafeKeepNewestOnly?: boolean;
  /** Host the strong path (CASPaxos acceptor and coordinator) too; its options but the wiring. */
  strong?: Omit<StrongCoordinatorOptions, "runtime" | "acceptors" | "placement" | "requestTimeoutMs">;
}

const ringKey = metaKey("eventual-ring");
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

  private constructor(
    private readonly runtime: Runtime,
    options: ClusterNodeOptions,
  ) {
    const network = runtime.network;
    assert(network !== undefined, "a cluster node needs a network");
    this.membership = new Membership<RingState>(runtime, {
      self: { id: runtime.nodeId, address: { host: runtime.nodeId, peerPort: 9000, clientPort: 8000 } },
      seeds: options.seeds.filter((id) => id !== runtime.nodeId),
      // The product's claim hook; the simulated cluster boots from a claimed ring, so the
      // partition count only matters if a node ever starts without one.
      computeRing: claimRingHook({ partitionCount: partitionCountDefault }),
      parseRing: (value) => {
        const parsed = parseRing(value);
        return parsed.ok ? parsed.ring : undefined;
      },
      ring: storedRing(runtime) ?? options.initialRing,
      ...(options.membershipIntervals ? { intervals: options.membershipIntervals } : {}),
    });
    this.hints = HintStore.open({ storage: runtime.storage, isValue: isSibling, hintsPerTargetMax: defaultLimits.hintsPerTargetMax });
    this.replicas = new ReplicaService({ nodeId: runtime.nodeId, storage: runtime.storage, hints: this.hints, siblingsMax: defaultLimits.siblingsMax });
    this.coordinator = new EventualCoordinator({
      runtime,
      replicas: this.replicas,
      membership: this.membership,
      requestTimeoutMs: options.requestTimeoutMs,
      ...(options.stats ? { stats: options.stats } : {}),
      ...(options.unsafeKeepNewestOnly === true ? { unsafeKeepNewestOnly: true } : {}),
    });
    this.delivery = new HintDelivery<Sibling>({
      ...options.hintDelivery,
      store: this.hints,
      timers: runtime.timers,
      random: runtime.random,
      isUp: (node) => this.membership.isUp(node),
      deliver: (target, batch) => this.handBack(target, batch, options.requestTimeoutMs),
    });
    if (options.strong !== undefined) {
      this.acceptors = new AcceptorService({ runtime });
      const placement = ringStrongPlacement(() => this.membership.ring());
      this.strong = new StrongCoordinator({ ...options.strong, runtime, acceptors: this.acceptors, placement, requestTimeoutMs: options.requestTimeoutMs });
    }
    network.serve((from, message) => this.dispatch(from, message));
    this.membership.onChange((event) => {
      if (event.kind === "ring") void runtime.storage.write([{ type: "put", key: ringKey, value: packr.pack(event.ring) }], { durable: true });
    });
    this.membership.start();
    this.delivery.start();
  }

  static open(runtime: Runtime, options: ClusterNodeOptions): ClusterNode {
    return new ClusterNode(runtime, options);
  }

  /** One dispatcher by message type prefix (membership., replica., coordinator., paxos.). */
  private dispatch(from: NodeId, message: unknown): unknown {
    const type = (message as { type?: unknown } | null)?.type;
    if (typeof type !== "string") return undefined;
    if (type.startsWith("membership.")) return this.membership.handle(from, message);
    if (type.startsWith("replica.")) return this.replicas.handle(from, message);
    if (type.startsWith("coordinator.")) return this.coordinator.handle(from, message);
    if (type.startsWith(paxosMessagePrefix)) return this.strong?.handle(from, message);
    return undefined;
  }

  /** Hinted handoff: each hint's set goes to its owner as a plain merge; ok once all were stored. */
  private async handBack(target: NodeId, batch: readonly ListedHint<Sibling>[], timeoutMs: number): Promise<HintDeliveryResult> {
    const network = this.runtime.network!;
    const results = await Promise.all(
      batch.map((hint) => network.request<{ ok?: boolean }>(target, { type: "replica.merge", key: hint.key, set: hint.set, hintFor: null, lww: false }, { timeoutMs })),
    );
    return results.every((result) => result.ok && result.reply?.ok === true) ? { ok: true } : { ok: false };
  }
}

function storedRing(runtime: Runtime): RingState | undefined {
  const bytes = runtime.storage.get(ringKey);
  if (bytes === undefined) return undefined;
  const parsed = parseRing(packr.unpack(bytes));
  return parsed.ok ? parsed.ring : undefined;
}

