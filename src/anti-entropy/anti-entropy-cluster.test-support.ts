import assert from "node:assert/strict";
import { HintStore } from "../handoff/hint-store.js";
import { defaultLimits } from "../limits.js";
import { ReplicaService } from "../replica/replica-service.js";
import { encodeSiblingRecord } from "../replica/sibling-record.js";
import { claimInitial } from "../ring/claim.js";
import type { RingState } from "../ring/ring-state.js";
import type { NodeId } from "../runtime/network.js";
import type { Runtime } from "../runtime/runtime.js";
import { Simulation } from "../sim/simulation.js";
import { encodeItemKey } from "../storage/item-key.js";
import type { WriteOp } from "../storage/storage-engine.js";
import * as dvvset from "../versioning/dotted-version-vector-set.js";
import type { DottedVersionVectorSet } from "../versioning/dotted-version-vector-set.js";
import { isSibling, type Sibling } from "../versioning/sibling.js";
import { AntiEntropy, antiEntropyMessagePrefix, type AntiEntropyOptions } from "./anti-entropy.js";
import type { TreeId } from "./segment-index.js";
import { treePlacement } from "./tree-placement.js";

/**
 * Test support: a simulated cluster whose nodes run a ReplicaService writing through
 * AntiEntropy's IndexedStorage, wired as the node should wire it, on the simulator's network
 * and disks. Every table has n = 3 and the ring has `partitionCount` partitions.
 */
export const testTableId = 7;
export const testN = 3;

export class AntiEntropyTestNode {
  readonly replicas: ReplicaService;
  readonly antiEntropy: AntiEntropy;

  constructor(runtime: Runtime, ring: RingState, overrides: Partial<AntiEntropyOptions>, reapedMemory?: { entriesMax: number; ms: number }) {
    const placement = treePlacement({ ring: () => ring, nOf: () => testN });
    this.antiEntropy = new AntiEntropy({
      runtime,
      ...placement,
      replica: { fetch: (key) => this.replicas.fetch(key), merge: (key, set) => this.replicas.merge(key, set, { lww: false }) },
      requestTimeoutMs: 500,
      treesMax: ring.partitionCount,
      // Tests write and exchange at once: young segments are compared unless a test asks.
      young: { youngMs: 0 },
      ...overrides,
    });
    const hints = HintStore.open({ storage: this.antiEntropy.storage, isValue: isSibling, hintsPerTargetMax: defaultLimits.hintsPerTargetMax });
    this.replicas = new ReplicaService({
      nodeId: runtime.nodeId,
      storage: this.antiEntropy.storage,
      hints,
      siblingsMax: defaultLimits.siblingsMax,
      clock: runtime.clock,
      hlc: runtime.hlc,
      ...(reapedMemory !== undefined ? { reapedMemory } : {}),
    });
    runtime.network!.serve((from, message) => {
      const type = (message as { type?: unknown } | null)?.type;
      if (typeof type === "string" && type.startsWith(antiEntropyMessagePrefix)) return this.antiEntropy.handle(from, message);
      if (typeof type === "string" && type.startsWith("replica.")) return this.replicas.handle(from, message);
      return undefined;
    });
  }
}

export interface TestCluster {
  sim: Simulation;
  ring: RingState;
  ids: NodeId[];
  node(id: NodeId): AntiEntropyTestNode;
  trees(): TreeId[];
}

export async function testCluster(seed: number, options: { ids?: NodeId[]; partitionCount?: number; antiEntropy?: Partial<AntiEntropyOptions>; reapedMemory?: { entriesMax: number; ms: number } } = {}): Promise<TestCluster> {
  const ids = options.ids ?? ["n1", "n2", "n3"];
  const sim = new Simulation({ seed });
  const claimed = claimInitial(ids.map((id) => ({ id })), { partitionCount: options.partitionCount ?? 8 });
  assert.ok(claimed.ok);
  const ring = claimed.ring;
  for (const id of ids) sim.addNode(id, (runtime) => new AntiEntropyTestNode(runtime, ring, options.antiEntropy ?? {}, options.reapedMemory));
  await sim.bootAll();
  const node = (id: NodeId) => sim.node<AntiEntropyTestNode>(id).instance!;
  return { sim, ring, ids, node, trees: () => Array.from({ length: ring.partitionCount }, (_, partition) => ({ partition, n: testN })) };
}

const encoder = new TextEncoder();

export function testKey(name: string): Uint8Array {
  return encodeItemKey(testTableId, encoder.encode(name));
}

export function textSibling(text: string, timestamp = 1024, tombstone = false): Sibling {
  return { value: encoder.encode(text), contentType: "text/plain", metadata: [], timestamp, tombstone, expiresAtMs: null };
}

/** A set as coordinator `nodeId` would store it: `text` written over `before` with its whole context. */
export function written(text: string, nodeId: string, before: DottedVersionVectorSet<Sibling> = dvvset.empty(), tombstone = false, timestamp = 1024): DottedVersionVectorSet<Sibling> {
  const proposal = dvvset.newWithContext(dvvset.join(before), textSibling(text, timestamp, tombstone));
  return dvvset.update(proposal, before, nodeId);
}

/** Stores sets directly on one node's disk (through its IndexedStorage), in batches. */
export async function store(cluster: TestCluster, id: NodeId, entries: [Uint8Array, DottedVersionVectorSet<Sibling>][]): Promise<void> {
  const storage = cluster.node(id).antiEntropy.storage;
  for (let i = 0; i < entries.length; i += 1000) {
    const ops: WriteOp[] = entries.slice(i, i + 1000).map(([key, set]) => ({ type: "put", key, value: encodeSiblingRecord(set) }));
    await cluster.sim.settle(storage.write(ops));
  }
}

/** Exchanges every tree between `a` and `b` from a's side; sums the traffic. */
export async function exchangeAll(cluster: TestCluster, a: NodeId, b: NodeId): Promise<{ messages: number; bytes: number; keysDiffering: number; keysRepaired: number }> {
  const total = { messages: 0, bytes: 0, keysDiffering: 0, keysRepaired: 0 };
  for (const tree of cluster.trees()) {
    const result = await cluster.sim.settle(cluster.node(a).antiEntropy.exchange(b, tree));
    assert.ok(result.ok, JSON.stringify(result));
    total.messages += result.messages;
    total.bytes += result.bytes;
    total.keysDiffering += result.keysDiffering;
    total.keysRepaired += result.keysRepaired;
  }
  return total;
}

export function rootsEqual(cluster: TestCluster, a: NodeId, b: NodeId): boolean {
  return cluster.trees().every((tree) => Buffer.from(cluster.node(a).antiEntropy.rootOf(tree)).equals(cluster.node(b).antiEntropy.rootOf(tree)));
}
