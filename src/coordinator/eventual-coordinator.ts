import { assert } from "../assert.js";
import { MergeBatcher, type MergeBatcherOptions } from "../replica/merge-batch.js";
import type { ReplicaService } from "../replica/replica-service.js";
import { isRingRefusal } from "../replica/ring-fence.js";
import { decodeSiblingRecord, decodeSiblingRecordIfAny } from "../replica/sibling-record.js";
import { partitionOf } from "../ring/partition-hash.js";
import { movingFrom, preferenceList, preferenceListWithFallbacks, type PreferenceListEntry } from "../ring/preference-list.js";
import type { RingState } from "../ring/ring-state.js";
import type { Network, NodeId, RequestResult } from "../runtime/network.js";
import type { Runtime } from "../runtime/runtime.js";
import { itemPartitionKey } from "../storage/item-key.js";
import { isRemoteFailure } from "../transport/remote-failure.js";
import * as dvvset from "../versioning/dotted-version-vector-set.js";
import type { DottedVersionVectorSet } from "../versioning/dotted-version-vector-set.js";
import { compareSiblingsForLww, isSibling, type Sibling } from "../versioning/sibling.js";
import { versionVectorError, type Dot, type VersionVector } from "../versioning/version-vector.js";
import { GetCore, type GetReply } from "./get-core.js";
import { JointGetCore, type ReadCore } from "./joint-get-core.js";
import { PutCore, type PutReply, type PutResponse } from "./put-core.js";
import type { QuorumFailure } from "./quorum-failure.js";
import type { Quorum } from "./quorum-options.js";
import { RecordMemo, recordMemoDefaults, type RecordMemoOptions } from "./record-memo.js";

/**
 * The eventual path's coordinator (DESIGN.md, "The eventual path"; Dynamo paper, sections
 * 4.4-4.7): get, put and delete with causal context over a key's preference list, with
 * fallbacks standing in for down primaries (sloppy quorum).
 *
 * put: the coordinator is this node when it is a primary of the key, else the first primary
 * that is up, which gets the request as "coordinator.put" (its dot must name a replica that
 * keeps the key, so its counter survives). It adds its event locally (ReplicaService
 * .coordinateWrite, early: issued, not yet durable), sends the resulting set to the other
 * replicas as "replica.merge" at once (a fallback keeps it as a hint for the primary it stands
 * in for), so its own commit and theirs overlap; its own copy counts toward w and dw once
 * durable. No dot reuse after a crash: the node coordinates under a per-incarnation actor
 * (replica/actor-epoch.ts). It feeds PutCore and answers once PutCore has enough: ok with the
 * dot it assigned, or the quorum failure.
 * get: "replica.fetch" to every replica, GetCore, answer once r replied with the merged set and
 * its context (dvvset.join); then, without delaying the answer, send the merged set to every
 * replica whose reply differed (read repair). While the key's partition moves (a ring in
 * transition), r of the old list and r of the new (JointGetCore: a gaining node is still
 * filling the partition). A read this node's own reply decides (r=1, this
 * node a primary) is answered from the local record without the fan-out, except one in
 * `soleReadRepairEvery`, which still asks everyone for read repair.
 * delete: a tombstone sibling written like a put.
 *
 * Deadlines: every message carries `requestTimeoutMs` (the network's timeout), so a request
 * ends at the latest when its slowest replica's deadline passes; a forwarded put waits twice
 * that for the remote coordinator's own round.
 *
 * Ring-version fencing (replica/ring-fence.ts): every "replica.merge" carries the version of
 * the ring the key was placed on. A replica whose ring is that new or newer and does not place
 * the write's node refuses it ("ring", naming its version); that reply counts as a failure.
 * When a replica refused a put so, the coordinator learns the newer ring from that replica
 * (`learnRing`, else whatever gossip brought meanwhile) and, if its ring moved on, sends the
 * write once more to the key's new preference list within the put's deadline (twice
 * requestTimeoutMs from the start, 1.5 times for a forwarded put). A put that missed its
 * quorum is answered by that second round (the local copy counts again only if the new ring
 * still places this node); one that met it is answered at once and the second round runs in
 * the background, so the new owners get the copy the refuser would have had.
 *
 * Reads are fenced the same way: every "replica.fetch" carries the ring version the key was
 * placed on (not n: the replica fences with its table's n), and a replica whose newer ring does not place it refuses instead of answering
 * "not found" from a partition it released (handoff/partition-release.ts). The refusal counts
 * toward nothing, so a read that met r did so on replicas that the newest ring they hold still
 * places. A read that missed r (or pr) with a refusal among its replies learns the newer ring
 * from the refuser and reads once more on the key's new preference list, within the read's
 * deadline (requestTimeoutMs after its first round ended); one that met it answers and learns
 * the ring in the background. The local replica is read without a message and without a
 * check: it holds this node's ring, the one the key was placed on.
 */
export interface EventualCoordinatorOptions {
  runtime: Runtime;
  replicas: ReplicaService;
  /** Where keys live and who is up (Membership). */
  membership: { ring(): RingState | undefined; isUp(id: NodeId): boolean };
  requestTimeoutMs: number;
  /** Where to count what it does (a simulator shares one across nodes and restarts); a fresh one by default. */
  stats?: EventualCoordinatorStats;
  /**
   * Asks `peer`, which refused a write for a newer ring, for that ring, and adopts it when newer
   * (node/learn-ring.ts); resolves when done or given up. Without it the retry relies on gossip.
   */
  learnRing?: (peer: NodeId) => Promise<void>;
  /**
   * Test only: a deliberately broken coordinator that keeps only the newest sibling (treats
   * every table as last-writer-wins), which the simulator's checker must catch.
   */
  unsafeKeepNewestOnly?: boolean;
  /**
   * A read that this node's own reply decides (r=1, pr at most 1, this node a primary of the
   * key, its record readable) is answered from that record without asking the other replicas;
   * one in this many such reads still asks them all after answering, so read repair keeps
   * working on them (anti-entropy repairs the rest). 1: every such read asks every replica (the
   * Dynamo paper's coordinator); default soleReadRepairEveryDefault.
   */
  soleReadRepairEvery?: number;
  /** The bounds of the decoded-record memo of local reads (record-memo.ts); recordMemoDefaults by default. */
  recordMemo?: RecordMemoOptions;
  /** How replica merges to one peer are batched (replica/merge-batch.ts); mergeBatchDefaults by default. */
  mergeBatch?: MergeBatcherOptions;
}

/** One in this many reads decided by the local replica alone still asks every replica (read repair). */
export const soleReadRepairEveryDefault = 8;

/** What a client proposes; the coordinator stamps the timestamp. */
export type SiblingProposal = Omit<Sibling, "timestamp">;

export interface EventualWriteRequest {
  key: Uint8Array;
  proposal: SiblingProposal;
  /** The causal context of the client's read; undefined for a blind write. */
  context: VersionVector | undefined;
  quorum: Quorum;
  lww: boolean;
}

export type EventualUnavailable = { ok: false; error: "unavailable" | "siblings-full" | "overloaded" | "bad-request"; message: string };

/**
 * A written put: the dot the coordinator assigned; and (from coordinators that know them; a
 * forwarded reply may come from an older node) the write's timestamp, the causal context of
 * the coordinator's stored set after the write, and whether that set held a live (not
 * tombstone, not expired) sibling before it.
 */
export interface EventualPutWritten {
  ok: true;
  dot: Dot;
  timestamp?: number;
  context?: VersionVector;
  existed?: boolean;
}

export type EventualPutResult = EventualPutWritten | QuorumFailure<"w" | "dw" | "pw"> | EventualUnavailable;

export type EventualGetResult =
  | { ok: true; found: boolean; siblings: Sibling[]; set: DottedVersionVectorSet<Sibling>; context: VersionVector }
  | QuorumFailure<"r" | "pr">
  | EventualUnavailable;

interface ForwardedPut {
  type: "coordinator.put";
  key: Uint8Array;
  proposal: SiblingProposal;
  context: VersionVector | null;
  quorum: Quorum;
  lww: boolean;
}

export const coordinatorMessagePrefix = "coordinator.";

/** The errors a put result may carry (EventualPutResult). */
const putErrors: ReadonlySet<string> = new Set(["quorum", "unavailable", "siblings-full", "overloaded", "bad-request"]);

/** What this coordinator did since it started (for the simulator's summary and metrics). */
export interface EventualCoordinatorStats {
  forwarded: number;
  /** Writes sent to a fallback as a hint for a down primary. */
  hinted: number;
  /** Read repairs sent to a replica whose reply differed from the merge. */
  repaired: number;
  /** Puts sent once more on a newer ring after a replica refused them for it (ring-fence.ts). */
  ringRetried?: number;
  /** Reads done once more on a newer ring after a replica refused them for it (ring-fence.ts). */
  readRingRetried?: number;
}

/** Where a key lives on the ring this node holds: the list with fallbacks, its primaries, the ring's version. */
interface Placed {
  ok: true;
  list: PreferenceListEntry[];
  primaries: NodeId[];
  ringVersion: number;
  /** The width placed with: the quorum's n capped at the ring's member count. */
  n: number;
  /**
   * While the ring is in transition and the key's partition moves: its preference list on the
   * previous assignment (and that width). Reads need a quorum of both lists (joint-get-core.ts);
   * writes go to `list` only (ring-fence.ts says why that suffices).
   */
  before?: { list: PreferenceListEntry[]; n: number };
}

/** A replica that refused a write for a newer ring, and that ring's version. */
export interface Refusal {
  node: NodeId;
  ringVersion: number;
}

/** A replica's answer to a replicated write; `ringVersion` when it refused the write for a newer ring. */
type MergeReply = PutReply | { ok: false; error: string; ringVersion: number };

/** A replica's answer to a read; `ringVersion` when it refused the read for a newer ring. */
type FetchReply = GetReply<Sibling> | { ok: false; error: string; ringVersion: number };

export class EventualCoordinator {
  private readonly network: Network;
  private readonly self: NodeId;
  readonly stats: EventualCoordinatorStats;
  private readonly soleReadRepairEvery: number;
  /** Reads the local replica decided alone since start (counts toward the next repairing one). */
  private soleReads = 0;
  /** Decoded local records by their bytes: a read of an unchanged key skips the decode. */
  private readonly records: RecordMemo<DottedVersionVectorSet<Sibling>>;
  /** Replica merges bound for one peer in one turn, sent as one message (replica/merge-batch.ts). */
  readonly merges: MergeBatcher;

  constructor(private readonly options: EventualCoordinatorOptions) {
    assert(options.runtime.network !== undefined, "the eventual coordinator needs the runtime's network");
    this.network = options.runtime.network;
    this.self = options.runtime.nodeId;
    this.stats = options.stats ?? { forwarded: 0, hinted: 0, repaired: 0 };
    this.records = new RecordMemo(options.recordMemo ?? recordMemoDefaults);
    this.merges = new MergeBatcher(this.network, options.mergeBatch);
    this.soleReadRepairEvery = options.soleReadRepairEvery ?? soleReadRepairEveryDefault;
    assert(Number.isSafeInteger(this.soleReadRepairEvery) && this.soleReadRepairEvery >= 1, `soleReadRepairEvery must be a positive integer, got ${this.soleReadRepairEvery}`);
  }

  put(request: EventualWriteRequest): Promise<EventualPutResult> {
    const deadlineMs = this.options.runtime.clock.nowMs() + 2 * this.options.requestTimeoutMs;
    const placed = this.place(request.key, request.quorum.n);
    if (!placed.ok) return Promise.resolve(placed);
    // Not async: the usual put is coordinated here, and its promise is handed on as it is.
    if (placed.primaries.includes(this.self)) return this.coordinatePut(request, placed, deadlineMs);
    return this.forwardPut(request, placed);
  }

  /** Sends the put to the key's first primary that is up, which coordinates it ("coordinator.put"). */
  private async forwardPut(request: EventualWriteRequest, placed: Placed): Promise<EventualPutResult> {
    const target = placed.primaries.find((node) => this.isUp(node));
    if (target === undefined) return unavailable(`no primary of the key is up among ${placed.primaries.join(", ")}`);
    const message: ForwardedPut = { type: "coordinator.put", ...request, context: request.context ?? null };
    this.stats.forwarded++;
    const result = await this.network.request<EventualPutResult>(target, message, { timeoutMs: 2 * this.options.requestTimeoutMs });
    if (!result.ok) return unavailable(`forwarding the write to ${target} failed: ${result.error}`);
    if (isRemoteFailure(result.reply)) return unavailable(`coordinator ${target} failed: ${result.reply.shoalRemoteFailure.message}`);
    const reply = result.reply as Partial<EventualPutResult> | null;
    if (reply?.ok === true && !(Array.isArray(reply.dot) && reply.dot.length === 2)) return unavailable(`coordinator ${target} acknowledged without a dot`);
    if (typeof reply?.ok !== "boolean") return unavailable(`coordinator ${target} answered something that is not a write result`);
    // A refusal this node has no answer type for (a target without a ring: "no-ring") is unavailability.
    if (reply.ok === false && !putErrors.has(String(reply.error))) return unavailable(`coordinator ${target} refused: ${String((reply as { message?: unknown }).message ?? reply.error)}`);
    return result.reply;
  }

  delete(request: Omit<EventualWriteRequest, "proposal">): Promise<EventualPutResult> {
    const tombstone: SiblingProposal = { value: new Uint8Array(0), contentType: "application/octet-stream", metadata: [], tombstone: true, expiresAtMs: null };
    return this.put({ ...request, proposal: tombstone });
  }

  /** `partitionKey`: the key's partition key when the caller has it (else decoded from `key`). */
  async get(key: Uint8Array, quorum: Quorum, lww: boolean, partitionKey?: Uint8Array): Promise<EventualGetResult> {
    const placed = this.place(key, quorum.n, partitionKey);
    if (!placed.ok) return placed;
    const core = readCore(placed, quorum);
    const local = core.targets.some((replica) => replica.node === this.self) ? this.localRecord(key) : undefined;
    if (core.targets.length === 1 && core.targets[0]!.node === this.self) {
      // The only replica is this node (n=1, or a one-member ring): its reply is at hand, so
      // the quorum is decided now, without a promise per replica; a lone replica's reply is
      // the merge, so there is nothing to repair. No ring fence to check: the replica is this
      // node, whose ring placed the key.
      core.addReply(this.self, local!.error !== undefined ? { ok: false, error: local!.error } : { ok: true, set: local!.set });
      return readResult(core, lww);
    }
    if (local !== undefined && local.error === undefined && this.decidesAlone(placed, quorum)) {
      // r=1 and this node is a primary (on the old list too while the partition moves): its own
      // reply meets the quorum and is the answer whatever the others say (a fan-out would answer
      // with it too, as it arrives first), so the others are asked only by one read in
      // soleReadRepairEvery, for read repair.
      const alone = new GetCore<Sibling>({ n: quorum.n, r: 1, pr: quorum.pr, preferenceList: [{ node: this.self, primary: true }] });
      alone.addReply(this.self, { ok: true, set: local.set });
      return readResult(alone, lww);
    }
    const refusals: Refusal[] = [];
    await this.gather(key, core, placed, local, lww, refusals, this.options.requestTimeoutMs);
    if (refusals.length > 0) return (await this.readOnNewerRing(key, quorum, lww, core, placed, refusals)) ?? readResult(core, lww);
    return readResult(core, lww);
  }

  /**
   * A read that met a refusal for a newer ring (ring-fence.ts): when it missed its quorum, learn
   * that ring and read once more on the key's new preference list (undefined when there is no
   * newer ring to read on, or no time left); when it met it, learn the ring in the background.
   */
  private async readOnNewerRing(key: Uint8Array, quorum: Quorum, lww: boolean, core: ReadCore<Sibling>, placed: Placed, refusals: readonly Refusal[]): Promise<EventualGetResult | undefined> {
    const deadlineMs = this.options.runtime.clock.nowMs() + this.options.requestTimeoutMs;
    if (core.response().ok) {
      void this.learnNewerRing(refusals, placed.ringVersion, deadlineMs).catch(() => undefined);
      return undefined;
    }
    const again = await this.placeOnNewerRing(key, quorum.n, placed, refusals, deadlineMs);
    if (again === undefined) return undefined;
    this.stats.readRingRetried = (this.stats.readRingRetried ?? 0) + 1;
    const retry = readCore(again.placed, quorum);
    const local = retry.targets.some((replica) => replica.node === this.self) ? this.localRecord(key) : undefined;
    await this.gather(key, retry, again.placed, local, lww, [], again.remainingMs);
    return readResult(retry, lww);
  }

  /** Asks every replica of `core.targets` for the key and feeds `core`; resolves once it has enough (read repair follows once all answered). */
  private gather(key: Uint8Array, core: ReadCore<Sibling>, placed: Placed, local: LocalRecord | undefined, lww: boolean, refusals: Refusal[], timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const targets = core.targets;
      let pending = targets.length;
      for (const replica of targets) {
        void asReply(this.fetchFrom(key, replica, local, placed, timeoutMs)).then((reply) => {
          if (!reply.ok && "ringVersion" in reply) refusals.push({ node: replica.node, ringVersion: reply.ringVersion });
          core.addReply(replica.node, reply);
          pending--;
          if (core.enough()) resolve();
          if (pending === 0) {
            resolve();
            void this.repair(key, core, lww, placed).catch(() => undefined); // a repair that fails is retried by the next read
          }
        });
      }
      if (targets.length === 0) resolve();
    });
  }

  /** Serves "coordinator.put" forwarded by a node that is not a primary of the key. */
  async handle(_from: NodeId, message: unknown): Promise<unknown> {
    const forwarded = message as ForwardedPut;
    if (forwarded?.type !== "coordinator.put") return unavailable(`unknown coordinator message ${String(forwarded?.type)}`);
    const problem = forwardedPutProblem(forwarded);
    if (problem !== undefined) return { ok: false, error: "bad-request", message: problem };
    const deadlineMs = this.options.runtime.clock.nowMs() + 1.5 * this.options.requestTimeoutMs;
    const placed = this.place(forwarded.key, forwarded.quorum.n);
    if (!placed.ok) return placed;
    // Coordinate here even if this node's ring disagrees: forwarding again could loop.
    return this.coordinatePut({ ...forwarded, context: forwarded.context ?? undefined }, placed, deadlineMs);
  }

  private async coordinatePut(request: EventualWriteRequest, placed: Placed, deadlineMs: number): Promise<EventualPutResult> {
    const lww = request.lww || this.options.unsafeKeepNewestOnly === true;
    const sibling: Sibling = { ...request.proposal, timestamp: this.options.runtime.hlc.now() };
    // Early: replicate while the local write commits (one durable write on the put's path, not two in series; ReplicaService.coordinateWrite).
    const local = await this.options.replicas.coordinateWrite(request.key, sibling, request.context, { lww }, { early: true });
    if (!local.ok) return local;
    const localReply: Promise<MergeReply> = local.durable.then(() => localDurable, thrownReply);
    const refusals: Refusal[] = [];
    let answered = false;
    let retrying = false;
    const retry = (): Promise<PutResponse | undefined> => {
      retrying = true;
      return this.retryOnNewerRing(request, local.set, placed, refusals, lww, deadlineMs, localReply);
    };
    // A refusal after the answer (the quorum was met without the refuser): the new owners still
    // get the copy the refuser would have had, in the background.
    const refused = (): void => {
      if (answered && !retrying) void retry().catch(() => undefined);
    };
    let response = await this.replicate(request, local.set, placed, lww, this.options.requestTimeoutMs, refusals, localReply, refused);
    if (!response.ok && refusals.length > 0) response = (await retry()) ?? response;
    answered = true;
    if (refusals.length > 0 && !retrying) refused();
    if (!response.ok) return response;
    const nowMs = this.options.runtime.clock.nowMs();
    const existed = local.before !== undefined && holdsLive(local.before, nowMs);
    return { ok: true, dot: local.dot, timestamp: sibling.timestamp, context: dvvset.join(local.set), existed };
  }

  /** This node's record of the key, its bytes and its set (read once per get, also to compare other replicas' bytes with). */
  private localRecord(key: Uint8Array): LocalRecord {
    const bytes = this.options.replicas.fetchRecord(key);
    if (bytes === undefined) return { bytes, set: undefined };
    try {
      return { bytes, set: this.records.decode(key, bytes, decodeSiblingRecord) };
    } catch (error) {
      return { bytes: undefined, set: undefined, error: error instanceof Error ? error.message : String(error) };
    }
  }

  /**
   * One replica's reply to a read. A primary is asked for its record's bytes (`record: true`):
   * when they equal this node's own, its set is this node's set, so neither side decodes, packs
   * or parses a set for the usual read of a converged key; different bytes are decoded here.
   * A node that predates `record` answers with the set, which is parsed as before.
   */
  private async fetchFrom(key: Uint8Array, replica: PreferenceListEntry, local: LocalRecord | undefined, placed: { ringVersion: number }, timeoutMs: number): Promise<FetchReply> {
    if (replica.node === this.self) {
      if (local?.error !== undefined) return { ok: false, error: local.error };
      return { ok: true, set: local === undefined ? this.options.replicas.fetch(key) : local.set };
    }
    const hintFor = replica.standsInFor ?? null;
    // The fence costs the read one integer (ringVersion): no n, unlike a merge, since a replica
    // that refuses for its own n only makes this read learn the ring and ask again.
    const message = hintFor === null ? { type: "replica.fetch", key, hintFor, record: true, ringVersion: placed.ringVersion } : { type: "replica.fetch", key, hintFor, ringVersion: placed.ringVersion };
    const result = await this.network.request<{ ok: boolean; set?: unknown; record?: unknown; error?: string }>(replica.node, message, { timeoutMs });
    const failure = replyFailure(result);
    if (failure !== undefined) {
      if (result.ok && isRingRefusal(result.reply)) return { ok: false, error: `ring: ${result.reply.message}`, ringVersion: result.reply.ringVersion };
      return { ok: false, error: failure };
    }
    const reply = (result as { ok: true; reply: { set?: unknown; record?: unknown } }).reply;
    if (reply.record !== undefined) return recordReply(replica.node, reply.record, local);
    if (reply.set === null || reply.set === undefined) return { ok: true, set: undefined };
    const parsed = dvvset.parse(reply.set, isSibling);
    return parsed.ok ? { ok: true, set: parsed.set } : { ok: false, error: `fetch from ${replica.node}: ${parsed.error}` };
  }

  /**
   * Sends the coordinated set to every replica of `placed.list` but this node (whose copy is
   * already stored and counts when the list names it) and answers once PutCore has enough.
   * A replica that refuses it for a newer ring is added to `refusals` and `refused` is called
   * (also after the answer, when it replies late).
   */
  private async replicate(request: EventualWriteRequest, set: DottedVersionVectorSet<Sibling>, placed: Placed, lww: boolean, timeoutMs: number, refusals: Refusal[], localReply: Promise<MergeReply>, refused?: () => void): Promise<PutResponse> {
    const { quorum } = request;
    // When a forwarded write reached a node its ring does not place for the key, the local
    // copy counts toward nothing; the list's replicas still get the write.
    const replicas = placed.list;
    const core = new PutCore({ n: quorum.n, w: Math.min(quorum.w, quorum.n), dw: quorum.dw, pw: quorum.pw, preferenceList: replicas });
    // A failure is answered once this node's own copy counted too, so it names everything it got.
    let localPending = replicas.some((replica) => replica.node === this.self);
    await new Promise<void>((resolve) => {
      const settle = (): void => {
        if (core.enough() && (!localPending || core.response().ok)) resolve();
      };
      for (const replica of replicas) {
        if (replica.node === this.self) {
          // This node's copy counts once it is durable (it commits alongside the others).
          void localReply.then((reply) => {
            core.addReply(this.self, reply);
            localPending = false;
            settle();
          });
          continue;
        }
        if (!replica.primary) this.stats.hinted++;
        // sendMerge never rejects (a thrown error is a failed reply), so one callback per replica.
        void this.sendMerge(request.key, set, replica, lww, placed, timeoutMs).then((reply) => {
          core.addReply(replica.node, reply);
          if ("ringVersion" in reply) {
            refusals.push({ node: replica.node, ringVersion: reply.ringVersion });
            refused?.();
          }
          settle();
        });
      }
      settle();
    });
    return core.response();
  }

  /**
   * A put that missed its quorum while replicas refused it for a newer ring: learn that ring
   * from the refuser with the newest, and when this node's ring moved past the one the put was
   * placed on, replicate once more on the key's new preference list before `deadlineMs`.
   * Undefined when there is nothing newer to try (or no time left).
   */
  private async retryOnNewerRing(request: EventualWriteRequest, set: DottedVersionVectorSet<Sibling>, placed: Placed, refusals: readonly Refusal[], lww: boolean, deadlineMs: number, localReply: Promise<MergeReply>): Promise<PutResponse | undefined> {
    const again = await this.placeOnNewerRing(request.key, request.quorum.n, placed, refusals, deadlineMs);
    if (again === undefined) return undefined;
    this.stats.ringRetried = (this.stats.ringRetried ?? 0) + 1;
    return this.replicate(request, set, again.placed, lww, again.remainingMs, [], localReply);
  }

  /**
   * After replicas refused a request for a newer ring: learn the newest refuser's ring (when this
   * node's is older), then place the key again. Undefined unless this node's ring moved past
   * the one `placed` came from with time left before `deadlineMs`; `remainingMs` is at most
   * requestTimeoutMs.
   */
  private async placeOnNewerRing(key: Uint8Array, n: number, placed: Placed, refusals: readonly Refusal[], deadlineMs: number): Promise<{ placed: Placed; remainingMs: number } | undefined> {
    if (!(await this.learnNewerRing(refusals, placed.ringVersion, deadlineMs))) return undefined;
    const again = this.place(key, n);
    const remainingMs = Math.floor(deadlineMs - this.options.runtime.clock.nowMs());
    if (!again.ok || again.ringVersion <= placed.ringVersion || remainingMs <= 0) return undefined;
    return { placed: again, remainingMs: Math.min(this.options.requestTimeoutMs, remainingMs) };
  }

  /**
   * Learns the ring of the refuser with the newest version (`learnRing`) when this node's ring
   * is older than it and there is time before `deadlineMs`. False when no refusal names a ring
   * newer than `placedVersion` (nothing to learn or retry).
   */
  async learnNewerRing(refusals: readonly Refusal[], placedVersion: number, deadlineMs: number): Promise<boolean> {
    if (refusals.length === 0) return false;
    const newest = refusals.reduce((a, b) => (b.ringVersion > a.ringVersion ? b : a));
    if (newest.ringVersion <= placedVersion) return false;
    if ((this.options.membership.ring()?.version ?? -1) < newest.ringVersion && this.options.learnRing !== undefined && this.options.runtime.clock.nowMs() < deadlineMs) {
      await this.options.learnRing(newest.node).catch(() => undefined);
    }
    return true;
  }

  /**
   * One replica's reply to a replicated write; never rejects: a local merge or a send that
   * throws is a failed reply. Chained without an async frame: fewer promises per replica of every put.
   */
  private sendMerge(key: Uint8Array, set: DottedVersionVectorSet<Sibling>, replica: PreferenceListEntry, lww: boolean, placed: { ringVersion: number; n: number }, timeoutMs: number): Promise<MergeReply> {
    try {
      if (replica.node === this.self) return this.options.replicas.merge(key, set, { lww }).then(undefined, thrownReply);
      // Batched per peer and turn (replica/merge-batch.ts): one "replica.merges" for all of them, one reply each.
      const item = { key, set, hintFor: replica.standsInFor ?? null, lww, ringVersion: placed.ringVersion, n: placed.n };
      return this.merges.send<{ ok: boolean; durable?: boolean }>(replica.node, item, timeoutMs).then(mergeReplyOf, thrownReply);
    } catch (error) {
      return Promise.resolve(thrownReply(error));
    }
  }

  /** Read repair (paper, section 5): the merged set to every replica whose reply differed. */
  private async repair(key: Uint8Array, core: ReadCore<Sibling>, lww: boolean, placed: { ringVersion: number; n: number }): Promise<void> {
    const merged = core.mergedSet();
    if (merged === undefined) return;
    const stale = core.repairs();
    this.stats.repaired += stale.length;
    const keepNewest = lww || this.options.unsafeKeepNewestOnly === true;
    await Promise.all(stale.map((replica) => this.sendMerge(key, merged, replica, keepNewest, placed, this.options.requestTimeoutMs)));
  }

  /** Whether this read is answered from the local record alone (see soleReadRepairEvery); counts it. */
  private decidesAlone(placed: Placed, quorum: Quorum): boolean {
    if (Math.min(quorum.r, quorum.n) !== 1 || quorum.pr > 1) return false;
    if (!placed.list.some((replica) => replica.node === this.self && replica.primary)) return false;
    if (placed.before !== undefined && !placed.before.list.some((replica) => replica.node === this.self && replica.primary)) return false;
    this.soleReads++;
    return this.soleReads % this.soleReadRepairEvery !== 0;
  }

  private place(key: Uint8Array, n: number, partitionKey?: Uint8Array): Placed | EventualUnavailable {
    const ring = this.options.membership.ring();
    if (ring === undefined) return unavailable("this node has no ring yet");
    const partition = partitionOf(partitionKey ?? itemPartitionKey(key), ring.partitionCount);
    const width = Math.min(n, ring.members.length);
    const list = preferenceListWithFallbacks(ring, partition, width, (id) => this.isUp(id));
    const primaries = preferenceList(ring, partition, width);
    const moving = movingFrom(ring, partition, n);
    if (moving === undefined) return { ok: true, list, primaries, ringVersion: ring.version, n: width };
    const before = { list: preferenceListWithFallbacks(moving.ring, partition, moving.n, (id) => this.isUp(id)), n: moving.n };
    return { ok: true, list, primaries, ringVersion: ring.version, n: width, before };
  }

  private isUp(id: NodeId): boolean {
    return id === this.self || this.options.membership.isUp(id);
  }
}

/** The read's quorum arithmetic: a quorum of the preference list, or of the old and the new list while the key's partition moves. */
function readCore(placed: Placed, quorum: Quorum): ReadCore<Sibling> {
  const after = { n: quorum.n, r: Math.min(quorum.r, quorum.n), pr: quorum.pr, preferenceList: placed.list };
  if (placed.before === undefined) return new GetCore<Sibling>(after);
  // The old list's quorums are capped at its width, as the new list's are at the ring's (a
  // transition from a one-member ring has a one-replica old list).
  const n = placed.before.n;
  return new JointGetCore<Sibling>({ before: { n, r: Math.min(quorum.r, n), pr: Math.min(quorum.pr, n), preferenceList: placed.before.list }, after });
}

/** What a read answers once its GetCore has enough: the merged set (kept by last-writer-wins on lww tables), its live siblings and its context. */
function readResult(core: ReadCore<Sibling>, lww: boolean): EventualGetResult {
  const response = core.response();
  if (!response.ok) return response;
  const merged = response.found ? response.set : dvvset.empty<Sibling>();
  const set = lww ? dvvset.lww(merged, compareSiblingsForLww) : merged;
  const siblings = dvvset.values(set).filter((sibling) => !sibling.tombstone);
  return { ok: true, found: siblings.length > 0, siblings, set, context: dvvset.join(set) };
}

interface LocalRecord {
  bytes: Uint8Array | undefined;
  set: DottedVersionVectorSet<Sibling> | undefined;
  /** Why the local record could not be read (it counts as this replica's failed reply). */
  error?: string;
}

/** A `record` reply as a GetReply: null is nothing held; bytes equal to ours are our set; others are decoded (a record that is not a sibling set is a failed reply). */
function recordReply(node: NodeId, record: unknown, local: LocalRecord | undefined): GetReply<Sibling> {
  if (record === null) return { ok: true, set: undefined };
  if (!(record instanceof Uint8Array)) return { ok: false, error: `fetch from ${node}: the record is not bytes` };
  if (local?.bytes !== undefined && bytesEqual(record, local.bytes)) return { ok: true, set: local.set };
  try {
    const set = decodeSiblingRecordIfAny(record);
    return set === undefined ? { ok: false, error: `fetch from ${node}: the record is not a sibling set` } : { ok: true, set };
  } catch (error) {
    return { ok: false, error: `fetch from ${node}: ${error instanceof Error ? error.message : String(error)}` };
  }
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);
}

/** Whether the set holds a sibling that is neither a tombstone nor expired at `nowMs` (walked in place: every put asks). */
function holdsLive(set: DottedVersionVectorSet<Sibling>, nowMs: number): boolean {
  const live = (s: Sibling): boolean => !s.tombstone && (s.expiresAtMs === null || s.expiresAtMs > nowMs);
  for (let i = 0; i < set.entries.length; i++) {
    const values = set.entries[i]![2];
    for (let j = 0; j < values.length; j++) if (live(values[j]!)) return true;
  }
  for (let i = 0; i < set.anonymous.length; i++) if (live(set.anonymous[i]!)) return true;
  return false;
}

const localDurable: MergeReply = Object.freeze({ ok: true, durable: true });

/** What a replica answered to "replica.merge", as a MergeReply. */
function mergeReplyOf(result: RequestResult<{ ok: boolean; durable?: boolean }>): MergeReply {
  if (result.ok && isRingRefusal(result.reply)) return { ok: false, error: `ring: ${result.reply.message}`, ringVersion: result.reply.ringVersion };
  const failure = replyFailure(result);
  if (failure !== undefined) return { ok: false, error: failure };
  return { ok: true, durable: (result as { ok: true; reply: { durable?: boolean } }).reply.durable === true };
}

/** A send or local handling that threw, as a failed reply. */
function thrownReply(error: unknown): { ok: false; error: string } {
  return { ok: false, error: error instanceof Error ? error.message : String(error) };
}

/** A replica whose handling threw locally counts as a failed reply, like a remote failure. */
function asReply<R>(work: Promise<R>): Promise<R | { ok: false; error: string }> {
  return work.catch((error: unknown) => ({ ok: false, error: error instanceof Error ? error.message : String(error) }) as const);
}

function unavailable(message: string): EventualUnavailable {
  return { ok: false, error: "unavailable", message };
}

/** Why a replica's reply counts as failed, or undefined when it is an ok reply. */
function replyFailure(result: RequestResult<{ ok: boolean; error?: string }>): string | undefined {
  if (!result.ok) return result.error;
  if (isRemoteFailure(result.reply)) return result.reply.shoalRemoteFailure.message;
  if (result.reply?.ok !== true) return result.reply?.error ?? "refused";
  return undefined;
}

function forwardedPutProblem(message: ForwardedPut): string | undefined {
  if (!(message.key instanceof Uint8Array)) return "key is not bytes";
  if (message.context !== null && (!Array.isArray(message.context) || versionVectorError(message.context) !== undefined)) return "context is not a version vector";
  if (!isSibling({ ...message.proposal, timestamp: 0 })) return "proposal is not a sibling";
  const q = message.quorum as Partial<Quorum> | undefined;
  const fields = [q?.n, q?.r, q?.w, q?.dw, q?.pr, q?.pw];
  if (!fields.every((value) => typeof value === "number" && Number.isSafeInteger(value) && value >= 0) || q!.n! < 1 || q!.w! < 1) return "quorum is malformed";
  return undefined;
}
