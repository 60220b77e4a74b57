import { assert } from "../assert.js";
import type { ReplicaService } from "../replica/replica-service.js";
import { BackgroundTask } from "../replica/background-task.js";
import { tombstoneCheckKeysMax } from "../replica/replica-service.js";
import type { Network, NodeId } from "../runtime/network.js";
import type { Clock, Timers } from "../runtime/runtime.js";
import type { Bytes } from "../storage/storage-engine.js";
import { isRemoteFailure } from "../transport/remote-failure.js";
import * as dvvset from "../versioning/dotted-version-vector-set.js";
import type { DottedVersionVectorSet } from "../versioning/dotted-version-vector-set.js";
import { isSibling, type Sibling } from "../versioning/sibling.js";

/**
 * Tombstone GC (DESIGN.md, "Deletes write tombstones; tombstones are collected only when every
 * replica has them"), driven by each replica's durable tombstone index
 * (replica/tombstone-index.ts), so it covers every tombstone however it was written (a delete,
 * the expiry sweep, a hint, read repair, anti-entropy) and survives restarts.
 *
 * A background pass walks the index in time order. A tombstone-only set whose newest tombstone
 * is at least `graceMs` old is collected by the key's first primary (another primary takes
 * over once it is twice the grace old: the first may have lost or already reaped its copy):
 *
 * 1. every member of the ring must be up, not only the key's primaries (a member that stays
 *    down holds all collection back until it returns, or until a committed plan replaced or
 *    removed it); every member that is up, and every node outside the ring that membership
 *    believes up (a leaver handing its hints on), is asked whether it holds a hint for the key
 *    (for any target). A hint can hold an older version: handed back after the reap it would
 *    bring the value back, so any hint waits the collection out (hints drain once their target
 *    is up);
 * 2. then every primary is asked for its stored set; each must hold exactly this node's set S,
 *    or nothing (it reaped already, or never had the key: either way it holds no older value);
 * 3. then every primary that holds S gets "replica.reap" with S and removes the key only if its
 *    set is still exactly S (ReplicaService.reap), so a write in between survives.
 * Anything else (a member down, a failed reply, a hint, a primary holding another set) leaves
 * the key for a later pass: it is only bytes, and reads already see it as not found.
 *
 * Why nothing comes back (the argument anti-entropy/README.md, "Tombstones", builds on):
 * - Where an older value could still live: on a primary (it missed the delete: step 2 sees a
 *   set other than S and waits for read repair or anti-entropy to bring it S), or in a hint
 *   (step 1: every member of the ring holding one is up and is asked, since none may be down).
 *   A replica down through the whole grace (Cassandra's gc_grace hazard) therefore blocks GC
 *   instead of resurrecting: when it returns, its stale value differs from S and is
 *   superseded by the tombstone first. So does a member that is no primary of the key: it may
 *   have stood in for a down primary as a fallback and hold a hint with an older version,
 *   which it would hand back on its return (the simulator test "a fallback down through the
 *   grace..." showed the value coming back while only primaries had to be up). A member that
 *   is not a primary holds no replica of the key in the settled ring (ownership transfer
 *   moved the key to its primaries before the ring settled, nothing is collected in
 *   transition, and partition-release.ts drops what it no longer serves). Step 1 runs before
 *   step 2 everywhere, and a hint is removed only after its target stored it durably, so a
 *   hint handed back during the check is seen in one step or the other.
 * - Between the reaps on different primaries, a replica that reaped the key does not take the
 *   tombstone back from one not reaped yet (ReplicaService.reap remembers it for a while; an
 *   exchange, a read repair or a hint would copy it back and GC would never finish); a copy
 *   that still lands (that memory lost in a restart) only makes GC run again on that replica:
 *   its index entry is already due.
 * - A ring in transition leaves every key alone (`primariesOf` is undefined), since old owners
 *   may still be streaming older versions.
 *
 * Nodes outside the ring: a node the plan replaced or removed while it was down may hold hints
 * GC could not see; members that held it down at the commit refuse its data messages when it
 * returns, also after they restarted (node/node-cluster.ts refuseRemoved, durable). A node that
 * left while up (a committed leave: the ring lists it as `departing`) holds GC back like a member
 * that is down until it reported that it handed everything on, or an operator forgot it
 * (`departures`, tombstone-reaper-departures.ts): a leaver that
 * went down mid-drain and returns hands its hints on before anything it could bring back is
 * collected. The collector exchanges departure records with every member in the hints check
 * and looks again before step 2, so one member that knows of a pending departure is enough.
 * `stats.waiting` and the /metrics gauge show how much waits for a node that is down, so an
 * operator sees what a long outage holds back.
 *
 * Bounded: one pass step reads at most `batchMax` (<= tombstoneCheckKeysMax) index entries and
 * sends one check per member and phase, and one reap per primary and key.
 */
export interface TombstoneReaperOptions {
  self: NodeId;
  clock: Clock;
  timers: Timers;
  network: Network | undefined;
  replicas: Pick<ReplicaService, "reap" | "tombstonesDue" | "checkTombstones">;
  /**
   * The key's primaries (its preference list), or undefined when GC must leave it alone: no
   * ring, a ring in transition, or a table that is not eventual or not known here.
   */
  primariesOf: (itemKey: Uint8Array) => readonly NodeId[] | undefined;
  /** Every member of the ring: all must be up for any collection, and each is asked for hints. */
  members: () => readonly NodeId[];
  /** Nodes outside the ring believed up (a leaver draining its hints): asked for hints too. Default none. */
  outsiders?: () => readonly NodeId[];
  isUp: (node: NodeId) => boolean;
  /**
   * Nodes that left the ring with data not handed on yet (tombstone-reaper-departures.ts): each
   * holds collection back while it is not up, and is asked for hints while it is. `wire`/`merge`
   * carry the records in the hints check. Default none.
   */
  departures?: { pending(): readonly NodeId[]; wire(): unknown; merge(value: unknown): void };
  graceMs: number;
  requestTimeoutMs: number;
  /** Pause between passes over the index. */
  intervalMs?: number;
  /** Index entries one step reads. */
  batchMax?: number;
  onError?: (error: unknown) => void;
}

/**
 * The grace outlasts hinted handoff's longest retry pause (hint-delivery.ts, backoffMaxMs 60 s)
 * and a few anti-entropy rounds, so a delete normally reached every replica by the time GC
 * looks; GC does not depend on it for safety (the checks above do), only for doing little
 * useless work.
 */
export const tombstoneReaperDefaults = Object.freeze({ graceMs: 90_000, intervalMs: 10_000, batchMax: 128 });

export interface TombstoneReaperStats {
  /** Due index entries this node led a collection for. */
  attempted: number;
  /** Keys removed from every primary that held them. */
  collected: number;
  /** Replicas that removed a key. */
  reaped: number;
  /** Keys left for a later pass (a hint, a primary with another set, a failed reply). */
  deferred: number;
  /** Due keys left because a member of the ring was down (not counted in `attempted`); counted at every pass. */
  blockedKeys: number;
  /** Steps that left a due key for a member down, or did not look at the index (this node not in the ring). */
  blockedPasses: number;
  /** Due keys this node would collect that the last complete pass left because a member was down (a gauge). */
  waiting: number;
}

interface Candidate {
  key: Bytes;
  primaries: readonly NodeId[];
}

export class TombstoneReaper {
  private readonly task: BackgroundTask;
  private readonly batchMax: number;
  private cursor: Bytes | undefined;
  /** Due keys left for a member down in the pass under way (published as `stats.waiting` at its end). */
  private waitingInPass = 0;
  readonly stats: TombstoneReaperStats = { attempted: 0, collected: 0, reaped: 0, deferred: 0, blockedKeys: 0, blockedPasses: 0, waiting: 0 };

  constructor(private readonly options: TombstoneReaperOptions) {
    this.batchMax = options.batchMax ?? tombstoneReaperDefaults.batchMax;
    assert(Number.isSafeInteger(options.graceMs) && options.graceMs >= 0, `tombstone grace must be a non-negative integer, got ${options.graceMs}`);
    assert(Number.isSafeInteger(this.batchMax) && this.batchMax >= 1 && this.batchMax <= tombstoneCheckKeysMax, `tombstone GC batch must be 1 to ${tombstoneCheckKeysMax}, got ${this.batchMax}`);
    this.task = new BackgroundTask({
      timers: options.timers,
      step: () => this.step(),
      idleDelayMs: options.intervalMs ?? tombstoneReaperDefaults.intervalMs,
      busyDelayMs: 0,
      onError: options.onError ?? (() => undefined),
    });
  }

  start(): void {
    this.task.start();
  }

  /** Stops the passes; waits for a running step (its tombstones stay or go as decided). */
  stop(): Promise<void> {
    return this.task.stop();
  }

  /**
   * One bounded step of the pass; true when more index entries follow. Public for tests, which
   * may run steps themselves instead of waiting for the timer.
   */
  async step(): Promise<boolean> {
    const { clock, graceMs, self } = this.options;
    // A node outside the ring collects nothing (it is no primary of anything).
    if (!this.options.members().includes(self)) {
      this.cursor = undefined;
      this.stats.blockedPasses++;
      return false;
    }
    const nowMs = clock.nowMs();
    if (this.cursor === undefined) this.waitingInPass = 0;
    const { due, next } = this.options.replicas.tombstonesDue(nowMs - graceMs + 1, this.batchMax, this.cursor);
    this.cursor = next ?? undefined;
    // A member down may hold a hint with an older version (as a fallback), or a stale replica:
    // nothing is collected until every member is up again.
    const membersUp = this.allUp(this.options.members()) && this.allUp(this.options.departures?.pending() ?? []);
    const candidates: Candidate[] = [];
    let blocked = 0;
    for (const entry of due) {
      const primaries = this.options.primariesOf(entry.itemKey);
      if (primaries === undefined || !primaries.includes(self)) continue;
      if (primaries[0] !== self && entry.timeMs > nowMs - 2 * graceMs) continue;
      if (!membersUp) blocked++;
      else candidates.push({ key: entry.itemKey, primaries });
    }
    if (blocked > 0) {
      this.stats.blockedKeys += blocked;
      this.stats.blockedPasses++;
      this.waitingInPass += blocked;
    }
    if (next === null) this.stats.waiting = this.waitingInPass;
    if (candidates.length > 0) await this.collect(candidates);
    return next !== null;
  }

  private async collect(candidates: Candidate[]): Promise<void> {
    this.stats.attempted += candidates.length;
    // Every member (step() checked they are all up) and every node outside the ring that is up.
    const ring = this.options.members();
    const outside = new Set([...(this.options.outsiders?.() ?? []), ...(this.options.departures?.pending() ?? [])]);
    const outsiders = [...outside].filter((id) => !ring.includes(id) && this.allUp([id]));
    const members = [...ring, ...outsiders];
    // 1. No member that is up holds a hint for the key.
    const hinted = new Set<number>();
    const hintReplies = await Promise.all(members.map((node) => this.ask(node, candidates.map((c) => c.key), "hints")));
    for (const reply of hintReplies) {
      if (reply === undefined) {
        this.stats.deferred += candidates.length;
        return;
      }
      reply.forEach((held, i) => held === true && hinted.add(i));
    }
    // The replies carried the members' departure records: a pending one for a node not up holds everything back.
    if (!this.allUp(this.options.departures?.pending() ?? [])) {
      this.stats.deferred += candidates.length;
      return;
    }
    const unhinted = candidates.filter((_, i) => !hinted.has(i));
    this.stats.deferred += hinted.size;
    // 2. Every primary holds exactly this node's set, or nothing.
    const sets = await this.setsOnPrimaries(unhinted);
    const reaps: { node: NodeId; key: Bytes; set: DottedVersionVectorSet<Sibling> }[] = [];
    let ready = 0;
    for (const [i, candidate] of unhinted.entries()) {
      const held = sets[i];
      const mine = held?.get(this.options.self);
      const agreed = mine !== undefined && mine !== null && held!.size === candidate.primaries.length && [...held!.values()].every((set) => set === null || dvvset.equal(set, mine));
      if (!agreed) {
        this.stats.deferred++;
        continue;
      }
      ready++;
      for (const [node, set] of held!) if (set !== null) reaps.push({ node, key: candidate.key, set: mine });
    }
    // 3. Conditional reaps on every primary that holds it.
    const results = await Promise.all(reaps.map((reap) => this.reapOn(reap.node, reap.key, reap.set)));
    this.stats.reaped += results.filter(Boolean).length;
    this.stats.collected += ready;
  }

  private allUp(nodes: readonly NodeId[]): boolean {
    return nodes.every((id) => id === this.options.self || this.options.isUp(id));
  }

  /** For each candidate, its primaries' stored sets (null: none); undefined where a primary did not answer. */
  private async setsOnPrimaries(candidates: Candidate[]): Promise<(Map<NodeId, DottedVersionVectorSet<Sibling> | null> | undefined)[]> {
    const byNode = new Map<NodeId, number[]>();
    candidates.forEach((candidate, i) => {
      for (const node of candidate.primaries) byNode.set(node, [...(byNode.get(node) ?? []), i]);
    });
    const results: (Map<NodeId, DottedVersionVectorSet<Sibling> | null> | undefined)[] = candidates.map(() => new Map());
    await Promise.all(
      [...byNode].map(async ([node, indexes]) => {
        const reply = await this.ask(node, indexes.map((i) => candidates[i]!.key), "sets");
        indexes.forEach((index, j) => {
          const set = reply?.[j];
          if (reply === undefined || set === undefined || typeof set === "boolean") results[index] = undefined;
          else results[index]?.set(node, set);
        });
      }),
    );
    return results;
  }

  /** A "replica.tombstones" check on `node` (locally for this node); undefined when it failed. */
  private async ask(node: NodeId, keys: Bytes[], what: "hints" | "sets"): Promise<(boolean | DottedVersionVectorSet<Sibling> | null)[] | undefined> {
    if (node === this.options.self) return this.options.replicas.checkTombstones(keys, what);
    if (this.options.network === undefined) return undefined;
    const departures = what === "hints" ? this.options.departures : undefined;
    const message = departures === undefined ? { type: "replica.tombstones", keys, what } : { type: "replica.tombstones", keys, what, departures: departures.wire() };
    const result = await this.options.network.request<{ ok?: boolean; results?: unknown; departures?: unknown }>(node, message, { timeoutMs: this.options.requestTimeoutMs });
    if (!result.ok || isRemoteFailure(result.reply) || result.reply?.ok !== true) return undefined;
    if (departures !== undefined && result.reply.departures !== undefined) departures.merge(result.reply.departures);
    const raw = result.reply.results;
    if (!Array.isArray(raw) || raw.length !== keys.length) return undefined;
    const parsed: (boolean | DottedVersionVectorSet<Sibling> | null)[] = [];
    for (const item of raw) {
      if (what === "hints") {
        if (typeof item !== "boolean") return undefined;
        parsed.push(item);
      } else if (item === null) {
        parsed.push(null);
      } else {
        const set = dvvset.parse(item, isSibling);
        if (!set.ok) return undefined;
        parsed.push(set.set);
      }
    }
    return parsed;
  }

  private async reapOn(node: NodeId, key: Bytes, set: DottedVersionVectorSet<Sibling>): Promise<boolean> {
    try {
      if (node === this.options.self) return await this.options.replicas.reap(key, set);
      if (this.options.network === undefined) return false;
      const result = await this.options.network.request<{ ok?: boolean; reaped?: boolean }>(node, { type: "replica.reap", key, set }, { timeoutMs: this.options.requestTimeoutMs });
      return result.ok && result.reply?.ok === true && result.reply.reaped === true;
    } catch {
      return false; // a storage closed under a reap at shutdown: the tombstone stays
    }
  }
}
