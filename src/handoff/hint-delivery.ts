import { assert, AssertionError } from "../assert.js";
import type { NodeId } from "../runtime/network.js";
import type { Random, TimerHandle, Timers } from "../runtime/runtime.js";
import type { HintKey } from "./hint-key.js";
import type { Hint, HintCursor, HintStore, ListedHint } from "./hint-store.js";

/**
 * Hands hints back to their owners (Dynamo paper, section 4.6: "once such hinted replica
 * detects that [the owner] has recovered, it will attempt to deliver the replica"). A loop on
 * the runtime's timers; every `intervalMs` it looks at each target with hints and, if the
 * target is up (`isUp`, from membership) and not backing off, sends one batch with `deliver`
 * (the network message lives in the shell) and, once the owner acknowledged, removes the
 * hints that did not change meanwhile (HintStore.remove compares before it deletes; a changed
 * hint is sent again later).
 *
 * Bounds: a batch holds at most `batchHintsMax` hints and `batchBytesMax` stored bytes (a
 * single larger hint still goes alone); at most `targetsInFlightMax` batches are in flight,
 * one per target; hints leave at most at `hintsPerSecondMax` on average (a token bucket filled
 * each tick, holding at most one second's worth), so a node returning to a cluster that kept
 * many hints for it is not flooded. A failed or timed-out batch backs its target off
 * exponentially (`backoffBaseMs` doubling up to `backoffMaxMs`) with equal jitter from the
 * runtime's seeded random, so fallbacks do not retry in lockstep; a success resets it.
 *
 * `deliver` must be idempotent (the owner syncs the set into its own: a duplicate delivery
 * changes nothing). A batch that times out may still arrive; it is then sent again, harmlessly.
 *
 * Re-targeting (with `placement`): a target that is no longer a member of the node's settled
 * ring (it left, or was replaced) never comes back for its hints, so its hints go to each key's
 * current primaries instead, as plain merges (all N: the set merge is idempotent, so a primary
 * that already holds the value is unchanged). A primary that is down gets the hint re-keyed to
 * it in this store (one more entry under its own target, within the store's bounds), so normal
 * delivery hands it over once it is up; only once every primary got it (or holds it as a hint
 * here) is the old hint removed (compare-and-delete, as above). A key that cannot be placed now
 * (no ring, a ring in transition, a table not known here) keeps its hint. Re-targeted batches
 * share the throttle, the in-flight bound and the backoff of their old target.
 *
 * Moved keys (with `placement`): a target that is still a member may no longer be a primary of
 * a hint's key (a ring change moved the partition after the hint was written; the transfer
 * never saw the hint). Every batch is placed key by key, so such a hint goes to the key's
 * current primaries as above, not to the old owner (which would refuse it: replica/ring-fence.ts).
 *
 * Draining (`drain`, a node that leaves or was replaced): the node is about to exit, so hints
 * that would wait here go to another node instead: a hint whose owner is down is handed to a
 * stand-in (the key's first up node after its primaries on the settled ring, which is the
 * fallback a coordinator would ask) as a hint for that owner. `drain` resolves once the store
 * is empty, or when its deadline passes with what it abandoned.
 */
export type HintDeliveryResult = { ok: true } | { ok: false };

/** A key's nodes on the current settled ring: its primaries, then every other member in preference order. */
export interface HintPlace {
  readonly primaries: readonly NodeId[];
  readonly others: readonly NodeId[];
}

/** What re-targeting and draining need to know about the ring (hint-placement.ts builds it from a ring). */
export interface HintPlacement {
  /** This node: a key it is now a primary of is merged locally (`deliver` to self). */
  readonly self: NodeId;
  /** Whether `target` is not a member of the current ring and that ring is settled (false without a ring or during a transition). */
  departed(target: NodeId): boolean;
  /** Where a key lives now; undefined when it cannot be placed now (the hint stays). */
  place(hint: HintKey): HintPlace | undefined;
}

/** What a drain left behind: hints per target still held at its deadline (empty when it drained). */
export interface HintDrainResult {
  readonly drained: boolean;
  readonly abandoned: ReadonlyMap<NodeId, number>;
}

export interface HintDeliveryOptions<T> {
  store: Pick<HintStore<T>, "listForTarget" | "remove" | "countByTarget" | "add">;
  timers: Timers;
  random: Random;
  /** Whether membership believes `node` is up (a down target is skipped, not backed off). */
  isUp: (node: NodeId) => boolean;
  /**
   * Sends hints to `node`; resolves ok once it stored them: as its own data, or, with `hintFor`,
   * as hints for that node (a draining node's stand-in). `node` may be this node (re-targeting).
   */
  deliver: (node: NodeId, hints: readonly ListedHint<T>[], options?: { hintFor?: NodeId }) => Promise<HintDeliveryResult>;
  /** Re-targets hints for departed nodes and lets `drain` hand hints to stand-ins; without it neither happens. */
  placement?: HintPlacement;
  intervalMs?: number;
  batchHintsMax?: number;
  batchBytesMax?: number;
  hintsPerSecondMax?: number;
  targetsInFlightMax?: number;
  /** A batch not acknowledged within this counts as failed. */
  deliverTimeoutMs?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** How long `drain` waits at most (default 60 s). */
  drainMaxMs?: number;
}

export const hintDeliveryDefaults = Object.freeze({
  intervalMs: 100,
  batchHintsMax: 100,
  batchBytesMax: 4 * 1024 * 1024,
  hintsPerSecondMax: 1000,
  targetsInFlightMax: 4,
  deliverTimeoutMs: 30_000,
  backoffBaseMs: 200,
  backoffMaxMs: 60_000,
  /** How long `drain` waits at most for the store to empty. */
  drainMaxMs: 60_000,
});

type Settings = { -readonly [K in keyof typeof hintDeliveryDefaults]: number };

/** Doublings before the backoff delay is certainly capped (keeps 2^k finite and exact). */
const BACKOFF_DOUBLINGS_MAX = 30;

export class HintDelivery<T> {
  private readonly settings: Settings;
  private readonly inFlight = new Map<NodeId, Promise<void>>();
  private readonly failures = new Map<NodeId, number>();
  private readonly backingOff = new Map<NodeId, TimerHandle>();
  private readonly cursors = new Map<NodeId, HintCursor>();
  private tick: TimerHandle | undefined;
  private running = false;
  private tokens = 0;
  private deliveredCount = 0;
  private failedBatches = 0;
  private retargetedCount = 0;
  private abandonedCount = 0;
  private draining = false;

  constructor(private readonly options: HintDeliveryOptions<T>) {
    const settings: Settings = { ...hintDeliveryDefaults };
    for (const name of Object.keys(settings) as (keyof Settings)[]) {
      const value = options[name] ?? settings[name];
      assert(Number.isSafeInteger(value) && value > 0, `hint delivery: ${name} must be a positive integer, got ${value}`);
      settings[name] = value;
    }
    assert(settings.backoffBaseMs <= settings.backoffMaxMs, "hint delivery: backoffBaseMs must not exceed backoffMaxMs");
    this.settings = settings;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule();
  }

  /** Stops sending; resolves once batches in flight settled. Clears every timer it holds. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.tick !== undefined) this.options.timers.clearTimeout(this.tick);
    this.tick = undefined;
    for (const handle of this.backingOff.values()) this.options.timers.clearTimeout(handle);
    this.backingOff.clear();
    await Promise.all(this.inFlight.values());
  }

  /**
   * Hints handed back and removed (re-targeted ones included), hints re-targeted, hints a drain
   * abandoned at its deadline, and batches that failed, since construction.
   */
  stats(): { delivered: number; retargeted: number; abandoned: number; failedBatches: number; inFlight: number; backingOff: number; draining: boolean } {
    return {
      delivered: this.deliveredCount,
      retargeted: this.retargetedCount,
      abandoned: this.abandonedCount,
      failedBatches: this.failedBatches,
      inFlight: this.inFlight.size,
      backingOff: this.backingOff.size,
      draining: this.draining,
    };
  }

  /**
   * From now on, hints that would wait for a down owner go to a stand-in instead (see the
   * class comment); backoffs in progress end now, so the drain starts at the next tick.
   * Idempotent; a node that is leaving calls it at every start.
   */
  startDraining(): void {
    assert(this.options.placement !== undefined, "hint delivery: draining needs a placement");
    if (this.draining) return;
    this.draining = true;
    for (const handle of this.backingOff.values()) this.options.timers.clearTimeout(handle);
    this.backingOff.clear();
    this.failures.clear();
  }

  /**
   * Drains the store before the node exits: startDraining, then waits (checking every tick)
   * until no hint is left or `maxMs` (default drainMaxMs) passed or the loop stopped. What is
   * left then is abandoned: counted in stats().abandoned and returned per target, for the
   * caller to log. The loop must be running (start).
   */
  async drain(maxMs = this.settings.drainMaxMs): Promise<HintDrainResult> {
    assert(Number.isSafeInteger(maxMs) && maxMs > 0, `hint delivery: drain's maxMs must be a positive integer, got ${maxMs}`);
    this.startDraining();
    const { timers } = this.options;
    const { intervalMs } = this.settings;
    for (let waitedMs = 0; this.running && this.options.store.countByTarget().size > 0 && waitedMs < maxMs; waitedMs += intervalMs) {
      await new Promise<void>((resolve) => timers.setTimeout(resolve, Math.min(intervalMs, maxMs - waitedMs)));
    }
    const abandoned = new Map(this.options.store.countByTarget());
    for (const count of abandoned.values()) this.abandonedCount += count;
    return { drained: abandoned.size === 0, abandoned };
  }

  private schedule(): void {
    this.tick = this.options.timers.setTimeout(() => this.onTick(), this.settings.intervalMs);
  }

  private onTick(): void {
    this.tick = undefined;
    if (!this.running) return;
    const { hintsPerSecondMax, intervalMs } = this.settings;
    this.tokens = Math.min(hintsPerSecondMax, this.tokens + (hintsPerSecondMax * intervalMs) / 1000);
    const targets = this.options.store.countByTarget();
    this.forgetDrainedTargets(targets);
    for (const target of [...targets.keys()]) {
      if (this.inFlight.size >= this.settings.targetsInFlightMax || this.tokens < 1) break;
      if (this.inFlight.has(target) || this.backingOff.has(target)) continue;
      const route = this.routeOf(target);
      if (route !== "wait") this.startBatch(target, route);
    }
    this.schedule();
  }

  /** Failure counts and cursors of targets with no hints left (bounds both maps by the store's targets). */
  private forgetDrainedTargets(targets: ReadonlyMap<NodeId, number>): void {
    for (const target of this.failures.keys()) {
      if (!targets.has(target) && !this.backingOff.has(target) && !this.inFlight.has(target)) this.failures.delete(target);
    }
    for (const target of this.cursors.keys()) if (!targets.has(target)) this.cursors.delete(target);
  }

  /**
   * Where a target's hints go now: to the target ("owner"), to each key's current primaries or
   * a draining node's stand-ins ("elsewhere"), or nowhere yet ("wait": the target is down).
   */
  private routeOf(target: NodeId): "owner" | "elsewhere" | "wait" {
    const { placement } = this.options;
    if (placement?.departed(target) === true) return "elsewhere";
    if (this.options.isUp(target)) return "owner";
    return this.draining ? "elsewhere" : "wait";
  }

  private startBatch(target: NodeId, route: "owner" | "elsewhere"): void {
    const after = this.cursors.get(target);
    const limit = Math.min(this.settings.batchHintsMax, Math.floor(this.tokens));
    const { hints, resumeAfter } = this.options.store.listForTarget(target, {
      limit,
      bytesMax: this.settings.batchBytesMax,
      ...(after !== undefined ? { after } : {}),
    });
    // Past the end: start over from the target's first hint on the next tick.
    if (resumeAfter === null) this.cursors.delete(target);
    else this.cursors.set(target, resumeAfter);
    if (hints.length === 0) return;
    this.tokens -= hints.length;
    const sending = this.send(target, hints, after, route).finally(() => this.inFlight.delete(target));
    this.inFlight.set(target, sending);
  }

  private async send(target: NodeId, hints: readonly ListedHint<T>[], after: HintCursor | undefined, route: "owner" | "elsewhere"): Promise<void> {
    let result: HintDeliveryResult;
    let moved: readonly ListedHint<T>[] = hints;
    let rerouted = 0;
    try {
      if (route === "owner" && this.options.placement === undefined) result = await this.deliverWithDeadline(target, hints);
      else ({ result, moved, rerouted } = await this.sendElsewhere(target, hints, route));
    } catch (error) {
      if (error instanceof AssertionError) throw error;
      result = { ok: false };
    }
    if (!result.ok) {
      // Resend this batch first when the target is tried again.
      if (after === undefined) this.cursors.delete(target);
      else this.cursors.set(target, after);
      this.backOff(target);
      return;
    }
    this.failures.delete(target);
    const removed = await this.options.store.remove(moved);
    this.deliveredCount += removed;
    this.retargetedCount += Math.min(removed, rerouted);
  }

  /**
   * A batch of `target`'s hints placed key by key: a hint whose key the settled ring no longer
   * places on `target` (the target departed, or the key's partition moved away from it) goes to
   * the key's current primaries (re-keyed here for a primary that is down, unless draining);
   * the others go to `target` itself (route "owner": it is up; a key that cannot be placed now
   * goes to it too, as before re-targeting existed) or, for a draining node, to a stand-in for it
   * when it is down. The target refuses a hint for a key its ring does not place on it
   * (replica/ring-fence.ts), so a hint is never left behind on a node that released the key.
   * Ok once every send and re-key succeeded; `moved` are the hints fully placed (a hint that
   * cannot be placed now stays for a later tick), `rerouted` how many of them went elsewhere.
   */
  private async sendElsewhere(target: NodeId, hints: readonly ListedHint<T>[], route: "owner" | "elsewhere"): Promise<{ result: HintDeliveryResult; moved: ListedHint<T>[]; rerouted: number }> {
    const placement = this.options.placement!;
    const departed = route === "elsewhere" && placement.departed(target);
    const sends = new Map<string, { node: NodeId; hintFor: NodeId | undefined; hints: ListedHint<T>[] }>();
    const rekeys: Hint<T>[] = [];
    const moved: ListedHint<T>[] = [];
    let rerouted = 0;
    const up = (node: NodeId): boolean => node === placement.self || this.options.isUp(node);
    for (const hint of hints) {
      const place = placement.place(hint);
      if (place === undefined && route === "elsewhere") continue;
      const owners = place !== undefined && (departed || !place.primaries.includes(target)) ? place.primaries : [target];
      const steps: { node: NodeId; hintFor?: NodeId }[] = [];
      const hintRekeys: Hint<T>[] = [];
      for (const owner of owners) {
        if (up(owner)) steps.push({ node: owner });
        else if (!this.draining) hintRekeys.push({ target: owner, tableId: hint.tableId, key: hint.key, set: hint.set });
        else {
          const standIn = place === undefined ? undefined : [...place.others, ...place.primaries].find((node) => node !== owner && node !== placement.self && this.options.isUp(node));
          if (standIn === undefined) break;
          steps.push({ node: standIn, hintFor: owner });
        }
      }
      if (owners.length === 0 || steps.length + hintRekeys.length < owners.length) continue;
      if (owners.length !== 1 || owners[0] !== target || steps.some((step) => step.node !== target)) rerouted++;
      for (const step of steps) {
        const id = `${step.node}\u0000${step.hintFor ?? ""}`;
        const send = sends.get(id) ?? { node: step.node, hintFor: step.hintFor, hints: [] };
        send.hints.push(hint);
        sends.set(id, send);
      }
      rekeys.push(...hintRekeys);
      moved.push(hint);
    }
    const results = await Promise.all([...sends.values()].map((send) => this.deliverWithDeadline(send.node, send.hints, send.hintFor)));
    if (!results.every((result) => result.ok)) return { result: { ok: false }, moved: [], rerouted: 0 };
    for (const hint of rekeys) {
      const added = await this.options.store.add(hint, { durable: true });
      if (!added.ok) return { result: { ok: false }, moved: [], rerouted: 0 };
    }
    return { result: { ok: true }, moved, rerouted };
  }

  private deliverWithDeadline(target: NodeId, hints: readonly ListedHint<T>[], hintFor?: NodeId): Promise<HintDeliveryResult> {
    const { timers } = this.options;
    return new Promise<HintDeliveryResult>((resolve, reject) => {
      const deadline = timers.setTimeout(() => resolve({ ok: false }), this.settings.deliverTimeoutMs);
      this.options.deliver(target, hints, ...(hintFor !== undefined ? [{ hintFor }] : [])).then(
        (result) => {
          timers.clearTimeout(deadline);
          resolve(result);
        },
        (error: unknown) => {
          timers.clearTimeout(deadline);
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
  }

  private backOff(target: NodeId): void {
    this.failedBatches++;
    const failures = Math.min((this.failures.get(target) ?? 0) + 1, BACKOFF_DOUBLINGS_MAX);
    this.failures.set(target, failures);
    const { backoffBaseMs, backoffMaxMs } = this.settings;
    const ceilingMs = Math.min(backoffMaxMs, backoffBaseMs * 2 ** (failures - 1));
    // Equal jitter: half the delay fixed, half random, so retries spread but still grow.
    const delayMs = ceilingMs / 2 + this.options.random.next() * (ceilingMs / 2);
    if (!this.running) return;
    const handle = this.options.timers.setTimeout(() => this.backingOff.delete(target), delayMs);
    this.backingOff.set(target, handle);
  }
}
