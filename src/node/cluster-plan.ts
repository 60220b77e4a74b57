import { Packr } from "msgpackr";
import { assert } from "../assert.js";
import type { Membership, PublishOutcome } from "../membership/membership.js";
import { lostTablesOfPlan, type PlanTable } from "../handoff/ownership-plan.js";
import { planRing, ringPlanChangesMax, type RingPlanChange } from "../ring/ring-plan.js";
import { pendingChanges } from "./claim-ring.js";
import { preferenceList } from "../ring/preference-list.js";
import type { RingState } from "../ring/ring-state.js";
import type { NodeId } from "../runtime/network.js";
import type { Runtime, TimerHandle } from "../runtime/runtime.js";
import { metaKey } from "../storage/keyspace.js";
import type { WriteOp } from "../storage/storage-engine.js";
import {
  changeIds,
  defaultPlanRecord,
  departsFrom,
  isNewerPlan,
  parsePlanOp,
  parsePlanOpResult,
  parsePlanRecord,
  type PlanMode,
  type PlanOp,
  type PlanOpResult,
  type PlanRecord,
} from "./cluster-plan-record.js";

/**
 * The cluster's staged membership plan (issue 6, item 2; Riak's `cluster plan` / `commit`):
 * the plan mode ("auto": a node started with --join is claimed in at once; "manual": it stays
 * "joining" and owns nothing until an operator commits its join) and the staged joins, leaves
 * and replacements.
 *
 * Design: the ring leader (membership's leader(): the smallest up node) is the only node that
 * changes the plan and the only one that commits it. Any node takes an operator's request and
 * forwards it to the leader as a "plan.op" request; the leader runs its ops one at a time (a
 * bounded queue), so two commits through two nodes at once are serialised there: the first
 * publishes ring v+1 in transition, the second finds the ring in transition and gets 409.
 *
 * Durability (each op's effect is on disk before its answer): an op writes its new record
 * durably, and only then adopts it in memory, pushes it to the peers and answers; a failed
 * write answers 503 and changes nothing. A commit writes the cleared record and the planned
 * ring (`ringWrite`) in one durable batch BEFORE it publishes the ring: a leader that crashes
 * before the batch committed changed nothing (the commit was never answered; the staged changes
 * stay staged), one that crashes after it restarts with the new ring and the empty plan (the
 * commit took effect; gossip spreads the ring from its disk). Publishing first would let a
 * crash keep the staged changes beside a published ring (they would come back, to be committed
 * a second time), and clearing without the ring would lose an answered commit whose ring
 * never left the leader. The record served to peers while a write is pending is the last
 * durable one. A ring that changes during the write (gossip from another view's leader) makes
 * the commit 409 RingChanged: the staged changes are written back and nothing is published.
 *
 * Every node keeps a copy of the plan record
 * (cluster-plan-record.ts) persisted under a meta key: the leader pushes each change to the up
 * members, and every other node pulls the leader's record each `syncIntervalMs` (sending its own,
 * so a new leader catches up from whoever has the newest). The mode thus survives restarts and
 * leader changes.
 *
 * Two leaders can exist for a moment (two views: membership/ring-leader.ts). Each would then
 * commit its own plan; a commit's ring is published only once a majority of the current ring's
 * members decided it (Membership.publish, membership/ring-register.ts), and only one ring can
 * be decided per version. The node does not pass `ringWrite`: an undecided ring is never
 * persisted as the node's ring; the commit is durable as the record's `committed` changes, which
 * the claim hook builds on whatever ring is decided. A commit's ring can lose that way to
 * a ring the other leader built on the same base (claim-ring.ts, "Committed plan changes"), so
 * the commit keeps its changes in the record (`committed`) until a settled ring shows them: every
 * leader's claim hook builds them first, on whatever ring won, and the leader then drops them.
 * A commit while earlier committed changes are still missing from the settled ring is refused
 * (409 CommitPending); clearing the plan drops them.
 */
export interface ClusterPlanOptions {
  /** Needs `network`, `storage`, `timers`. */
  runtime: Runtime;
  membership: Membership<RingState>;
  /**
   * Publishes a ring this node computed as leader: Membership.publish, which (agreed rings) has
   * the current ring's members decide it and resolves what ring that version became.
   */
  publishRing(ring: RingState): void | Promise<PublishOutcome<RingState>>;
  /** Members believed up, this node excluded. */
  upPeers(): readonly NodeId[];
  /** `--plan` at start: the mode of a cluster this node forms (no stored plan, no seeds). */
  initialMode?: PlanMode;
  /** Whether this node forms a new cluster (no seeds, no stored ring). */
  forming: boolean;
  /**
   * The storage write that persists a ring the way the node reads it at start (node-cluster.ts):
   * a commit writes it with the cleared plan in one durable batch. Absent (the simulator): only
   * the plan is written.
   */
  ringWrite?: (ring: RingState) => WriteOp;
  syncIntervalMs?: number;
  requestTimeoutMs?: number;
  onError?: (error: unknown) => void;
  /** The catalog's tables: a commit that would lose data of one is refused unless forced (lostTablesOfPlan). */
  tables?(): readonly PlanTable[];
}

/** `opsQueuedMax`: plan ops waiting at the leader for the one before them; more get 503 PlanBusy. */
export const clusterPlanDefaults = Object.freeze({ syncIntervalMs: 1000, requestTimeoutMs: 2000, opsQueuedMax: 32 });

/** GET /v1/cluster/plan. */
export interface ClusterPlanView {
  mode: PlanMode;
  ringVersion: number;
  changes: RingPlanChange[];
  /** Partitions whose preference list (of nMax replicas) the plan changes: who leaves it, who joins it. */
  transfers: Array<{ partition: number; from: NodeId[]; to: NodeId[] }>;
  /** Per node: partitions it would gain and lose (preference lists), and own as owner after. */
  summary: Array<{ node: NodeId; gains: number; loses: number; owns: number }>;
  /** Why the plan cannot be placed now (empty, the ring in transition, ...). */
  error?: string;
}

export const planMetaKey = metaKey("cluster.plan");
const packr = new Packr({ useRecords: false, moreTypes: false, structuredClone: false });

export class ClusterPlan {
  private record: PlanRecord;
  private readonly self: NodeId;
  private readonly syncIntervalMs: number;
  private readonly requestTimeoutMs: number;
  private timer: TimerHandle | undefined;
  private running = false;
  private persisting: Promise<void> = Promise.resolve();
  /** The leader's ops run one at a time: the tail of that queue and how many wait in it. */
  private opsTail: Promise<unknown> = Promise.resolve();
  private opsQueued = 0;
  /** The record an op is writing (not yet adopted): a peer's record must be newer than it too. */
  private pending: PlanRecord | undefined;

  constructor(private readonly options: ClusterPlanOptions) {
    const { runtime } = options;
    assert(runtime.network !== undefined, "the cluster plan needs the runtime's network");
    this.self = runtime.nodeId;
    this.syncIntervalMs = options.syncIntervalMs ?? clusterPlanDefaults.syncIntervalMs;
    this.requestTimeoutMs = options.requestTimeoutMs ?? clusterPlanDefaults.requestTimeoutMs;
    const stored = storedPlan(runtime);
    if (stored !== undefined) this.record = stored;
    else if (options.forming && options.initialMode !== undefined) {
      this.record = { seq: 1, by: this.self, mode: options.initialMode, changes: [] };
      this.persist();
    } else this.record = defaultPlanRecord(this.self);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule();
  }

  stop(): void {
    this.running = false;
    if (this.timer !== undefined) this.options.runtime.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Waits for the plan's pending writes (tests, shutdown). */
  async flushed(): Promise<void> {
    await this.opsTail;
    await this.persisting;
  }

  get current(): PlanRecord {
    return this.record;
  }

  mode(): PlanMode {
    return this.record.mode;
  }

  /** Ids named by staged (or committed) changes: the automatic claim leaves them to the plan. */
  stagedIds(): ReadonlySet<NodeId> {
    return new Set([...this.record.changes, ...(this.record.committed ?? [])].flatMap(changeIds));
  }

  /** Changes committed that a settled ring may not show yet: the claim hook builds them (claim-ring.ts). */
  committedChanges(): readonly RingPlanChange[] {
    return this.record.committed ?? [];
  }

  /**
   * The leader's step, each sync interval: once a settled ring shows every committed change,
   * they are dropped from the record (one op, queued like the others). Until then they cost
   * nothing: the claim hook builds only what the ring does not show.
   */
  ringChanged(): void {
    const ring = this.options.membership.ring();
    const committed = this.record.committed ?? [];
    if (committed.length === 0 || ring === undefined || ring.previous !== undefined) return;
    if (this.options.membership.leader() !== this.self || pendingChanges(ring, committed).length > 0) return;
    void this.apply({ kind: "settled" });
  }

  /** This node's view of the plan and what it would move; `nMax` as for GET /v1/cluster. */
  view(nMax: number): ClusterPlanView {
    const ring = this.options.membership.ring();
    const base = { mode: this.record.mode, ringVersion: ring?.version ?? 0, changes: [...this.record.changes], transfers: [], summary: [] };
    if (ring === undefined) return { ...base, error: "this node holds no ring yet" };
    if (this.record.changes.length === 0) return { ...base, error: "no changes are staged" };
    const planned = planRing(ring, this.record.changes);
    if (!planned.ok) return { ...base, error: planned.error };
    return { ...base, ...moves(ring, planned.ring, nMax) };
  }

  /**
   * Applies an operator's op through the ring leader: here when this node leads, else by one
   * "plan.op" request. The leader's record is adopted from a successful answer, so a read
   * through the same node sees its own change.
   */
  async execute(op: PlanOp): Promise<PlanOpResult> {
    const leader = this.options.membership.leader();
    if (leader === undefined) return failure(503, "LeaderUnknown", "no ring leader is known yet; try again once the cluster formed");
    if (leader === this.self) return this.apply(op);
    return this.askLeader(leader, op, false);
  }

  /** Sends `op` to `peer` (a seed, before membership starts), which applies or forwards it. */
  async requestVia(peer: NodeId, op: PlanOp): Promise<PlanOpResult> {
    return this.ask(peer, op, false);
  }

  /** Serves "plan." messages. */
  handle(_from: NodeId, message: unknown): unknown {
    // plan.op answers a promise (the op's durable write comes first); plan.sync answers at once.
    if (typeof message !== "object" || message === null) return undefined;
    const m = message as { type?: unknown; record?: unknown; op?: unknown; forwarded?: unknown };
    if (m.type === "plan.sync") {
      const record = parsePlanRecord(m.record);
      if (record !== undefined) this.adopt(record);
      return { record: this.record };
    }
    if (m.type !== "plan.op") return undefined;
    const op = parsePlanOp(m.op);
    if (op === undefined) return failure(400, "BadPlanOp", "the plan operation is malformed");
    const leader = this.options.membership.leader();
    if (leader === this.self) return this.apply(op);
    if (m.forwarded === true || leader === undefined) return failure(503, "NotLeader", `${this.self} is not the ring leader (its leader is ${leader ?? "unknown"}); try again`);
    return this.askLeader(leader, op, true);
  }

  /** Adopts a newer record (from a peer or a leader's answer). */
  adopt(record: PlanRecord): boolean {
    if (!isNewerPlan(record, this.record)) return false;
    if (this.pending !== undefined && !isNewerPlan(record, this.pending)) return false;
    this.record = record;
    this.persist();
    return true;
  }

  private async askLeader(leader: NodeId, op: PlanOp, forwarded: boolean): Promise<PlanOpResult> {
    return this.ask(leader, op, forwarded, `the ring leader ${leader}`);
  }

  private async ask(peer: NodeId, op: PlanOp, forwarded: boolean, label = peer): Promise<PlanOpResult> {
    const network = this.options.runtime.network!;
    const answer = await network.request(peer, { type: "plan.op", op, forwarded }, { timeoutMs: this.requestTimeoutMs });
    if (!answer.ok) return failure(503, "LeaderUnreachable", `${label} did not answer the plan request (${answer.error}); try again`);
    const result = parsePlanOpResult(answer.reply);
    if (result === undefined) return failure(503, "LeaderUnreachable", `${label} gave no plan answer (it may be starting or stopping); try again`);
    if (result.ok) this.adopt(result.record);
    return result;
  }

  /** The leader's step, queued behind the op before it (see "Durability" above). */
  private apply(op: PlanOp | { kind: "settled" }): Promise<PlanOpResult> {
    const queuedMax = clusterPlanDefaults.opsQueuedMax;
    if (this.opsQueued >= queuedMax) return Promise.resolve(failure(503, "PlanBusy", `${this.opsQueued} plan operations are waiting at the leader; the limit is ${queuedMax}; try again`));
    this.opsQueued++;
    const run = this.opsTail.then(() => this.applyNow(op));
    this.opsTail = run.catch(() => undefined).finally(() => this.opsQueued--);
    return run.catch((error: unknown) => {
      this.options.onError?.(error);
      return failure(503, "PlanFailed", `the plan operation failed: ${error instanceof Error ? error.message : String(error)}; try again`);
    });
  }

  private async applyNow(op: PlanOp | { kind: "settled" }): Promise<PlanOpResult> {
    const committed = this.record.committed ?? [];
    switch (op.kind) {
      case "mode":
        return this.change({ mode: op.mode, changes: this.record.changes, committed });
      case "clear":
        return this.change({ mode: this.record.mode, changes: [], committed: [] });
      case "stage": {
        const problem = this.stageProblem(op.change);
        if (problem !== undefined) return problem;
        return this.change({ mode: this.record.mode, changes: [...this.record.changes, op.change], committed });
      }
      case "commit":
        return this.commit(op.force === true);
      case "settled": {
        const ring = this.options.membership.ring();
        if (committed.length === 0 || ring === undefined || ring.previous !== undefined || pendingChanges(ring, committed).length > 0) return { ok: true, record: this.record };
        return this.change({ mode: this.record.mode, changes: this.record.changes, committed: [] });
      }
    }
  }

  private async commit(force: boolean): Promise<PlanOpResult> {
    const membership = this.options.membership;
    const ring = membership.ring();
    const { mode, changes } = this.record;
    const prior = this.record.committed ?? [];
    if (ring === undefined) return failure(409, "NoRing", "the leader holds no ring yet; try again once the cluster formed");
    if (ring.previous !== undefined) return failure(409, "RingInTransition", `ring ${ring.version} is still in transition (partitions moving); commit again once GET /v1/cluster shows pendingTransfers 0`);
    if (changes.length === 0) return failure(409, "PlanEmpty", "no changes are staged; stage one with POST /v1/cluster/plan first");
    const earlier = pendingChanges(ring, this.record.committed ?? []);
    if (earlier.length > 0) return failure(409, "CommitPending", `an earlier commit's changes are not in ring ${ring.version} yet (${JSON.stringify(earlier)}); commit again once they are, or clear the plan (DELETE /v1/cluster/plan) to drop them`);
    for (const change of changes) {
      const incoming = "join" in change ? change.join : "replace" in change ? change.replace[1] : undefined;
      if (incoming !== undefined && !membership.isUp(incoming)) {
        return failure(409, "NodeNotLive", `${incoming} is ${membership.member(incoming)?.state ?? "unknown"}; a node that receives partitions must be running`);
      }
    }
    // A node taken out that this leader believes running departs (GC waits for its report); one suspect or down is removed (ring-state.ts `departing`).
    const planned = planRing(ring, changes, { departs: (id) => departsFrom(membership.member(id)?.state) });
    if (!planned.ok) return failure(409, "PlanUnplaceable", planned.error);
    const lost = force ? [] : lostTablesOfPlan(ring, planned.ring, this.options.tables?.() ?? [], (id) => membership.isUp(id));
    if (lost.length > 0) return failure(409, "DataLoss", dataLossMessage(ring, planned.ring, lost, (id) => membership.isUp(id)));
    // The cleared plan and the new ring, durable together, before anyone sees the ring.
    // The changes stay in the record as committed until a settled ring shows them (claim-ring.ts).
    const cleared = await this.persistRecord({ mode, changes: [], committed: changes }, planned.ring);
    if (!cleared.ok) return cleared;
    const now = membership.ring();
    if (now !== ring) {
      const restored = await this.persistRecord({ mode, changes, committed: prior }, now);
      if (restored.ok) this.push();
      return failure(409, "RingChanged", `the ring changed to version ${now?.version ?? "none"} while the commit was being written; nothing was committed${restored.ok ? " and the changes stay staged" : ""}; commit again`);
    }
    const published = await Promise.resolve(this.options.publishRing(planned.ring)).catch((error: unknown): PublishOutcome<RingState> => ({ ok: false, reason: error instanceof Error ? error.message : String(error) }));
    this.push();
    // The commit is durable in the record (`committed`) whatever the ring decision came to: a ring
    // another leader got decided first, or no majority of the ring's members reached, leaves the
    // changes to the claim hook, which builds them on the next version (claim-ring.ts). The
    // answer names a ring version only when this commit's ring is the decided one.
    if (published !== undefined && !(published.ok && published.won)) {
      this.options.onError?.(new Error(`commit: ring ${planned.ring.version} was not published as planned (${published.ok ? `another ring of version ${published.ring.version} was decided first` : published.reason}); the committed changes are rebuilt on the next ring`));
      return { ok: true, record: this.record };
    }
    return { ok: true, record: this.record, ringVersion: planned.ring.version };
  }

  private stageProblem(change: RingPlanChange): PlanOpResult | undefined {
    const { membership } = this.options;
    const ring = membership.ring();
    const changes = this.record.changes;
    if (changes.length >= ringPlanChangesMax) return failure(400, "PlanTooLarge", `${changes.length} changes are staged; the limit is ${ringPlanChangesMax}`);
    // Staged changes only: a committed change's ids are held from the claim, not from a new stage.
    const staged = new Set(changes.flatMap(changeIds));
    const named = changeIds(change).find((id) => staged.has(id));
    if (named !== undefined) return failure(400, "DuplicateChange", `${named} is already named by a staged change; clear the plan (DELETE /v1/cluster/plan) to change it`);
    const inRing = (id: NodeId) => ring?.members.some((m) => m.id === id) === true;
    const joiner = (id: NodeId): PlanOpResult | undefined => {
      const member = membership.member(id);
      if (member === undefined) return failure(400, "UnknownNode", `${id} is not a node of this cluster; start it with --join first`);
      if (inRing(id)) return failure(400, "AlreadyMember", `${id} already owns partitions`);
      if (member.state !== "joining") return failure(400, "NotJoining", `${id} is ${member.state}, not joining; only a node started with --join that owns nothing can be added`);
      return undefined;
    };
    const ringMember = (id: NodeId) => (inRing(id) ? undefined : failure(400, "UnknownNode", `${id} is not a ring member${ring === undefined ? " (no ring yet)" : ` of ring ${ring.version}`}`));
    const problem = "join" in change ? joiner(change.join) : "leave" in change ? ringMember(change.leave) : (ringMember(change.replace[0]) ?? joiner(change.replace[1]));
    if (problem !== undefined) return problem;
    if (ring !== undefined && ring.previous === undefined) {
      const planned = planRing(ring, [...changes, change]);
      if (!planned.ok) return failure(400, "PlanUnplaceable", planned.error);
    }
    return undefined;
  }

  /** An op's new record: durable first, then adopted and pushed to the up peers. */
  private async change(next: Pick<PlanRecord, "mode" | "changes" | "committed">): Promise<PlanOpResult> {
    const written = await this.persistRecord(next);
    if (written.ok) this.push();
    return written;
  }

  /**
   * Writes the record that follows the current one (with `ring`, when given and `ringWrite`
   * is set, in the same batch) durably, then adopts it. A failed write changes nothing.
   */
  private async persistRecord(next: Pick<PlanRecord, "mode" | "changes" | "committed">, ring?: RingState): Promise<PlanOpResult> {
    const committed = next.committed !== undefined && next.committed.length > 0 ? { committed: next.committed } : {};
    const record: PlanRecord = { seq: Math.max(this.record.seq, this.pending?.seq ?? 0) + 1, by: this.self, mode: next.mode, changes: next.changes, ...committed };
    const extra = ring !== undefined && this.options.ringWrite !== undefined ? [this.options.ringWrite(ring)] : [];
    this.pending = record;
    try {
      await this.write(record, extra);
    } catch (error) {
      this.options.onError?.(error);
      return failure(503, "PlanNotPersisted", `the leader could not write the plan durably (${error instanceof Error ? error.message : String(error)}); nothing changed; try again`);
    } finally {
      this.pending = undefined;
    }
    if (isNewerPlan(record, this.record)) this.record = record;
    return { ok: true, record };
  }

  private push(): void {
    const network = this.options.runtime.network!;
    for (const peer of this.options.upPeers()) network.send(peer, { type: "plan.sync", record: this.record });
  }

  /** Durable writes of records, in the order they were asked for; the promise rejects when this one failed. */
  private write(record: PlanRecord, extra: readonly WriteOp[] = []): Promise<void> {
    const { storage } = this.options.runtime;
    const written = this.persisting.then(() => storage.write([{ type: "put", key: planMetaKey, value: packr.pack(record) }, ...extra], { durable: true }));
    this.persisting = written.catch(() => undefined);
    return written;
  }

  /** A record adopted from a peer, written in the background (nothing is answered on it). */
  private persist(): void {
    this.write(this.record).catch((error: unknown) => this.options.onError?.(error));
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = this.options.runtime.timers.setTimeout(() => {
      void this.sync()
        .catch((error: unknown) => this.options.onError?.(error))
        .then(() => this.ringChanged())
        .then(() => this.schedule());
    }, this.syncIntervalMs);
  }

  /** One pull from the leader (sending this node's record along). */
  private async sync(): Promise<void> {
    const leader = this.options.membership.leader();
    if (leader === undefined || leader === this.self) return;
    const answer = await this.options.runtime.network!.request<{ record?: unknown }>(leader, { type: "plan.sync", record: this.record }, { timeoutMs: this.requestTimeoutMs });
    if (!answer.ok) return;
    const record = parsePlanRecord(answer.reply?.record);
    if (record !== undefined) this.adopt(record);
  }
}

function dataLossMessage(ring: RingState, next: RingState, lost: readonly PlanTable[], isUp: (id: NodeId) => boolean): string {
  const gone = ring.members.filter((m) => !isUp(m.id) && !next.members.some((n) => n.id === m.id)).map((m) => m.id);
  const named = lost.slice(0, 10).map((t) => `${t.name} (n=${t.n}, ${t.strong ? "strong" : "eventual"})`).join(", ") + (lost.length > 10 ? ` and ${lost.length - 10} more` : "");
  return `committing would lose data: ${gone.join(", ")} ${gone.length === 1 ? "is" : "are"} down and the plan no longer places it, and it holds the only copies the surviving replicas cannot vouch for of tables ${named}; start it again so its data can be pulled, or commit with force (POST /v1/cluster/commit?force=true, shoal cluster commit --force) to accept the loss`;
}

function failure(status: number, code: string, message: string): PlanOpResult {
  return { ok: false, status, code, message };
}

function storedPlan(runtime: Runtime): PlanRecord | undefined {
  const bytes = runtime.storage.get(planMetaKey);
  return bytes === undefined ? undefined : parsePlanRecord(packr.unpack(bytes));
}

/** What a planned ring moves, on preference lists of nMax replicas. */
function moves(ring: RingState, next: RingState, nMax: number): Pick<ClusterPlanView, "transfers" | "summary"> {
  const transfers: ClusterPlanView["transfers"] = [];
  const nodes = new Map<NodeId, { gains: number; loses: number; owns: number }>();
  const entry = (id: NodeId) => nodes.get(id) ?? nodes.set(id, { gains: 0, loses: 0, owns: 0 }).get(id)!;
  for (const m of [...ring.members, ...next.members]) entry(m.id);
  for (const owner of next.owners) entry(owner).owns++;
  for (let p = 0; p < ring.partitionCount; p++) {
    const was = preferenceList(ring, p, nMax);
    const now = preferenceList(next, p, nMax);
    const from = was.filter((id) => !now.includes(id));
    const to = now.filter((id) => !was.includes(id));
    if (from.length === 0 && to.length === 0) continue;
    transfers.push({ partition: p, from, to });
    for (const id of from) entry(id).loses++;
    for (const id of to) entry(id).gains++;
  }
  const summary = [...nodes].map(([node, counts]) => ({ node, ...counts })).sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
  return { transfers, summary };
}
