import { assert } from "../assert.js";
import type { NodeId } from "../runtime/network.js";
import type { Clock, Random, TimerHandle, Timers } from "../runtime/runtime.js";
import type { ExchangeResult, RootsResult } from "./exchange.js";
import { treeName, type TreeId } from "./segment-index.js";

/**
 * Runs Merkle exchanges in the background (Dynamo paper, section 4.7; Riak's AAE exchange
 * FSM), throttled three ways: a round every `intervalMs` (the first one jittered), at most
 * `concurrency` exchanges at once, and their traffic held to `bytesPerSecond` (each round
 * trip's bytes push the next one back). A round exchanges every tree this node holds and is a
 * replica of with one other up replica of it, chosen at random. With `compareRoots` a round
 * first compares the roots of all trees it will exchange with a peer in one round trip per peer
 * and runs an exchange only for those that differ, so replicas that agree cost one round trip
 * per peer and round, not one per tree. A replica missing a whole tree (lost data) is repaired
 * by the others, whose rounds include it.
 */
export interface ExchangeScheduleOptions {
  intervalMs: number;
  concurrency: number;
  bytesPerSecond: number;
}

export const exchangeScheduleDefaults: Readonly<ExchangeScheduleOptions> = Object.freeze({ intervalMs: 10_000, concurrency: 2, bytesPerSecond: 4 * 1024 * 1024 });

/** Counters for /metrics; plain numbers, and the time of each tree's last complete exchange. */
export interface AntiEntropyStats {
  rounds: number;
  exchanges: number;
  /** Exchanges that ended at an equal root. */
  exchangesAgreed: number;
  exchangesFailed: number;
  /** Differing leaf segments put off because they were written here a moment ago (exchange.ts, `young`). */
  segmentsDeferred: number;
  keysDiffering: number;
  keysRepaired: number;
  messages: number;
  bytes: number;
  /** Per tree ("partition/n"): clock time (ms) of the last exchange that compared everything. */
  lastCompleteMs: Map<string, number>;
}

export interface ExchangeSchedulerDeps {
  self: NodeId;
  clock: Clock;
  timers: Timers;
  random: Random;
  isLoaded: () => boolean;
  trees: () => TreeId[];
  replicasOf: (tree: TreeId) => readonly NodeId[];
  isUp: (node: NodeId) => boolean;
  exchange: (peer: NodeId, tree: TreeId, pace: (bytes: number) => Promise<void>, rootDiffers: boolean) => Promise<ExchangeResult>;
  /** Compares many trees' roots with a peer at once (exchange.ts `compareRoots`); without it, one root per exchange. */
  compareRoots?: (peer: NodeId, trees: readonly TreeId[], pace: (bytes: number) => Promise<void>) => Promise<RootsResult>;
}

export function emptyAntiEntropyStats(): AntiEntropyStats {
  return { rounds: 0, exchanges: 0, exchangesAgreed: 0, exchangesFailed: 0, segmentsDeferred: 0, keysDiffering: 0, keysRepaired: 0, messages: 0, bytes: 0, lastCompleteMs: new Map() };
}

export class ExchangeScheduler {
  readonly stats = emptyAntiEntropyStats();
  private running = false;
  /** Set by stop(): workers and pacing give up at once. */
  private stopped = false;
  private roundTimer: TimerHandle | undefined;
  private readonly sleepers = new Map<number, { handle: TimerHandle; wake: () => void }>();
  private sleeperIds = 0;
  /** When the byte budget allows the next round trip (clock ms). */
  private nextFreeAtMs = 0;

  constructor(
    private readonly deps: ExchangeSchedulerDeps,
    private readonly options: ExchangeScheduleOptions = exchangeScheduleDefaults,
  ) {
    assert(options.intervalMs > 0 && options.concurrency >= 1 && options.bytesPerSecond > 0, `bad exchange schedule: ${JSON.stringify(options)}`);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopped = false;
    this.scheduleRound(Math.floor(this.deps.random.next() * this.options.intervalMs));
  }

  stop(): void {
    this.running = false;
    this.stopped = true;
    if (this.roundTimer !== undefined) this.deps.timers.clearTimeout(this.roundTimer);
    this.roundTimer = undefined;
    for (const sleeper of this.sleepers.values()) {
      this.deps.timers.clearTimeout(sleeper.handle);
      sleeper.wake();
    }
    this.sleepers.clear();
  }

  /** One round now: every tree this node holds and replicates, with one random up peer each. */
  async round(): Promise<void> {
    this.stats.rounds++;
    if (!this.deps.isLoaded()) return;
    const work = this.deps.compareRoots === undefined ? this.plan().map((item) => ({ ...item, rootDiffers: false })) : await this.differingRoots(this.plan());
    const worker = async (): Promise<void> => {
      for (let next = work.shift(); next !== undefined && !this.stopped; next = work.shift()) await this.run(next.peer, next.tree, next.rootDiffers);
    };
    await Promise.all(Array.from({ length: Math.min(this.options.concurrency, work.length) }, worker));
  }

  private plan(): { tree: TreeId; peer: NodeId }[] {
    const work: { tree: TreeId; peer: NodeId }[] = [];
    for (const tree of this.deps.trees()) {
      const replicas = this.deps.replicasOf(tree);
      if (!replicas.includes(this.deps.self)) continue;
      const peers = replicas.filter((id) => id !== this.deps.self && this.deps.isUp(id));
      if (peers.length > 0) work.push({ tree, peer: peers[this.deps.random.int(peers.length)]! });
    }
    return work;
  }

  /**
   * One roots comparison per peer: the trees that agree are counted as agreed exchanges here;
   * those that differ (or every tree, when the peer does not know the request) are left to
   * exchange. A failed comparison counts each of its trees as a failed exchange.
   */
  private async differingRoots(plan: { tree: TreeId; peer: NodeId }[]): Promise<{ tree: TreeId; peer: NodeId; rootDiffers: boolean }[]> {
    const byPeer = new Map<NodeId, TreeId[]>();
    for (const { tree, peer } of plan) {
      const trees = byPeer.get(peer);
      if (trees === undefined) byPeer.set(peer, [tree]);
      else trees.push(tree);
    }
    const work: { tree: TreeId; peer: NodeId; rootDiffers: boolean }[] = [];
    const stats = this.stats;
    for (const [peer, trees] of byPeer) {
      if (this.stopped) break;
      const result = await this.deps.compareRoots!(peer, trees, (bytes) => this.pace(bytes));
      stats.messages += result.messages;
      stats.bytes += result.bytes;
      if (!result.ok) {
        if (result.unsupported) work.push(...trees.map((tree) => ({ tree, peer, rootDiffers: false })));
        else {
          stats.exchanges += trees.length;
          stats.exchangesFailed += trees.length;
        }
        continue;
      }
      const nowMs = this.deps.clock.nowMs();
      trees.forEach((tree, i) => {
        if (result.differs[i] === true) {
          work.push({ tree, peer, rootDiffers: true });
          return;
        }
        stats.exchanges++;
        stats.exchangesAgreed++;
        stats.lastCompleteMs.set(treeName(tree), nowMs);
      });
    }
    return work;
  }

  private async run(peer: NodeId, tree: TreeId, rootDiffers: boolean): Promise<void> {
    const result = await this.deps.exchange(peer, tree, (bytes) => this.pace(bytes), rootDiffers);
    const stats = this.stats;
    stats.exchanges++;
    stats.messages += result.messages;
    stats.bytes += result.bytes;
    if (!result.ok) {
      stats.exchangesFailed++;
      return;
    }
    if (result.agreed) stats.exchangesAgreed++;
    stats.segmentsDeferred += result.segmentsDeferred;
    stats.keysDiffering += result.keysDiffering;
    stats.keysRepaired += result.keysRepaired;
    if (result.complete) stats.lastCompleteMs.set(treeName(tree), this.deps.clock.nowMs());
  }

  /** Holds traffic to bytesPerSecond: each round trip's bytes delay the next one. */
  private async pace(bytes: number): Promise<void> {
    const nowMs = this.deps.clock.nowMs();
    this.nextFreeAtMs = Math.max(this.nextFreeAtMs, nowMs) + (bytes * 1000) / this.options.bytesPerSecond;
    const waitMs = Math.floor(this.nextFreeAtMs - nowMs);
    if (waitMs > 0 && !this.stopped) await this.sleep(waitMs);
  }

  private sleep(delayMs: number): Promise<void> {
    return new Promise((resolve) => {
      const id = ++this.sleeperIds;
      const handle = this.deps.timers.setTimeout(() => {
        this.sleepers.delete(id);
        resolve();
      }, delayMs);
      this.sleepers.set(id, { handle, wake: resolve });
    });
  }

  private scheduleRound(delayMs: number): void {
    if (!this.running) return;
    this.roundTimer = this.deps.timers.setTimeout(() => {
      this.roundTimer = undefined;
      this.round().then(
        () => this.scheduleRound(this.options.intervalMs),
        () => this.scheduleRound(this.options.intervalMs),
      );
    }, delayMs);
  }
}
