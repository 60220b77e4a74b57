import { contentHash } from "../ring/ring-hash.js";
import type { NodeId } from "../runtime/network.js";
import { Simulation, type SimulationOptions } from "../sim/simulation.js";
import type { SimRuntime } from "../sim/sim-runtime.js";
import type { Member, MemberState } from "./member.js";
import { Membership, type MembershipEvent } from "./membership.js";
import type { MembershipBounds, MembershipIntervals } from "./membership-options.js";
import type { VersionedRing } from "./ring-record.js";

/**
 * Test support for the membership simulator tests: a cluster of Membership instances on the
 * simulated network, a toy ring (a version and the placed member ids), and predicates over
 * every running node's view. Not product code.
 */
export interface TestRing {
  version: number;
  members: NodeId[];
}

/** The ring hook the brief asks for: place joining and up members, drop leaving ones. */
export function computeTestRing(current: TestRing | undefined, members: readonly Member[]): TestRing | undefined {
  const placed = new Set(current?.members ?? []);
  for (const m of members) {
    if (m.state === "joining" || m.state === "up") placed.add(m.id);
    if (m.state === "leaving") placed.delete(m.id);
  }
  const next = [...placed].sort();
  if (current !== undefined && next.join() === current.members.join()) return undefined;
  if (next.length === 0) return undefined;
  return { version: (current?.version ?? 0) + 1, members: next };
}

export interface ObservedEvent {
  atMs: number;
  observer: NodeId;
  member: NodeId;
  state: MemberState;
}

/** How a cluster computes, checks and reads its ring (the toy TestRing by default). */
export interface RingHooks<R extends VersionedRing> {
  computeRing(current: R | undefined, members: readonly Member[]): R | undefined;
  parseRing?(value: unknown): R | undefined;
  /** The member ids the ring places, sorted. */
  placed(ring: R): NodeId[];
}

export const testRingHooks: RingHooks<TestRing> = { computeRing: computeTestRing, placed: (ring) => ring.members };

export interface SimClusterOptions<R extends VersionedRing = TestRing> {
  seed: number;
  ring?: RingHooks<R>;
  network?: SimulationOptions["network"];
  intervals?: Partial<MembershipIntervals>;
  bounds?: Partial<MembershipBounds>;
  /** The ring a node persisted, read when it boots (none by default). */
  persistedRing?: (id: NodeId) => R | undefined;
  /** Membership's agreed rings (ring-register.ts); off by default. */
  agreedRings?: boolean;
}

export interface ObservedRing {
  atMs: number;
  observer: NodeId;
  version: number;
  /** ring/ring-hash.ts contentHash of the ring adopted. */
  hash: string;
}

export class SimCluster<R extends VersionedRing = TestRing> {
  readonly sim: Simulation;
  private readonly hooks: RingHooks<R>;
  /** Every member state change every node saw, in order (bounded by the short runs). */
  readonly events: ObservedEvent[] = [];
  /** Every ring every node adopted, in order. */
  readonly rings: ObservedRing[] = [];

  constructor(private readonly options: SimClusterOptions<R>) {
    this.hooks = options.ring ?? (testRingHooks as unknown as RingHooks<R>);
    this.sim = new Simulation({ seed: options.seed, ...(options.network ? { network: options.network } : {}) });
  }

  /** Adds a node that joins through `seeds` and boots it. */
  async add(id: NodeId, seeds: readonly NodeId[]): Promise<void> {
    this.sim.addNode(id, (runtime) => this.startMember(runtime, seeds));
    await this.sim.node(id).boot();
  }

  async restart(id: NodeId): Promise<void> {
    await this.sim.restart(id);
  }

  membership(id: NodeId): Membership<R> | undefined {
    return this.sim.node<Membership<R>>(id).instance;
  }

  running(): NodeId[] {
    return this.sim.nodeIds().filter((id) => this.sim.isUp(id));
  }

  stateSeenBy(observer: NodeId, member: NodeId): MemberState | undefined {
    return this.membership(observer)?.member(member)?.state;
  }

  /** Every running node sees exactly `expected` as up members and holds one ring placing them. */
  converged(expected: readonly NodeId[] = this.running()): boolean {
    const sorted = [...expected].sort().join();
    let ringVersion: number | undefined;
    for (const id of this.running()) {
      const m = this.membership(id);
      if (m === undefined) return false;
      const up = m.members().filter((x) => x.state === "up").map((x) => x.id).join();
      const ring = m.ring();
      if (up !== sorted || ring === undefined || this.hooks.placed(ring).join() !== sorted) return false;
      if (ringVersion !== undefined && ring.version !== ringVersion) return false;
      ringVersion = ring.version;
    }
    return true;
  }

  /** Runs until `predicate` holds or `withinMs` of virtual time passes; returns the time taken or undefined. */
  async runUntil(predicate: () => boolean, withinMs: number): Promise<number | undefined> {
    const startMs = this.sim.now();
    const result = await this.sim.runUntil(predicate, { deadlineMs: startMs + withinMs });
    return result.reason === "predicate" ? this.sim.now() - startMs : undefined;
  }

  private startMember(runtime: SimRuntime, seeds: readonly NodeId[]): Membership<R> {
    const ring = this.options.persistedRing?.(runtime.nodeId);
    const membership = new Membership<R>(runtime, {
      self: { id: runtime.nodeId, address: { host: runtime.nodeId, peerPort: 9000, clientPort: 8000 } },
      seeds,
      computeRing: this.hooks.computeRing,
      ...(this.hooks.parseRing ? { parseRing: this.hooks.parseRing } : {}),
      ...(this.options.intervals ? { intervals: this.options.intervals } : {}),
      ...(this.options.bounds ? { bounds: this.options.bounds } : {}),
      ...(ring !== undefined ? { ring } : {}),
      ...(this.options.agreedRings === true ? { agreedRings: true } : {}),
    });
    membership.onChange((event: MembershipEvent<R>) => {
      if (event.kind === "ring") this.rings.push({ atMs: this.sim.now(), observer: runtime.nodeId, version: event.ring.version, hash: contentHash(event.ring) });
      if (event.kind !== "member") return;
      this.events.push({ atMs: this.sim.now(), observer: runtime.nodeId, member: event.member.id, state: event.member.state });
    });
    runtime.network.serve((from, message) => membership.handle(from, message));
    membership.start();
    return membership;
  }
}

export const nodeIds = (count: number): NodeId[] => Array.from({ length: count }, (_, i) => `n${i + 1}`);

/** Boots `ids`, each seeded with the first node (the first node has no seeds). */
export async function bootCluster<R extends VersionedRing>(cluster: SimCluster<R>, ids: readonly NodeId[]): Promise<void> {
  for (const id of ids) await cluster.add(id, id === ids[0] ? [] : [ids[0]!]);
}
