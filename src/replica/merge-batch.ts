import type { MergeMessage } from "./replica-service.js";
import type { Network, NodeId, RequestResult } from "../runtime/network.js";
import { isRemoteFailure } from "../transport/remote-failure.js";
import type { Sibling } from "../versioning/sibling.js";

/**
 * The sending side of "replica.merges" (ReplicaService.mergeMany is the receiving side): the
 * merges a coordinator sends to one peer within one turn go as ONE message, so a peer pays one
 * frame, one request id, one deadline and one reply for them, and stores them under one storage
 * batch (one commit, one anti-entropy plan). Each merge still gets its own reply, what a single
 * "replica.merge" would have answered: one key's refusal or failure is that key's alone.
 *
 * When: the first merge queued schedules a flush with `defer` (by default after the microtasks
 * already queued: the puts of one socket read that reach their merges at the same depth share
 * it). A peer's queue is flushed early when it reaches `itemsMax` merges or `bytesMax` bytes
 * (estimated from keys and values). A flush of one merge sends a plain "replica.merge". The
 * batch's deadline is the earliest of its merges' deadlines.
 *
 * Older peers: one that answers "unknown replica message" is remembered (at most
 * `legacyPeersMax` of them) and gets one "replica.merge" per merge from then on; the batch it
 * refused is sent again that way.
 */
/** One merge of a batch: a "replica.merge" message without its type. */
export type MergeItemWire = Omit<MergeMessage, "type">;

export interface MergeBatcherOptions {
  /** Merges one message carries at most (the receiver refuses more than mergeBatchItemsMax). */
  itemsMax?: number;
  /** Estimated bytes one message carries before it is sent (a merge larger than this goes alone). */
  bytesMax?: number;
  /** Runs `flush` later in this turn (default: after the microtasks queued so far). */
  defer?: (flush: () => void) => void;
}

/** Merges one "replica.merges" message may carry (both sides). */
export const mergeBatchItemsMax = 64;

export const mergeBatchDefaults = Object.freeze({ itemsMax: mergeBatchItemsMax, bytesMax: 256 * 1024 });

/** Peers remembered as not understanding "replica.merges". */
const legacyPeersMax = 1024;

/** What the batcher counts (for tests and profiles). */
export interface MergeBatchStats {
  /** Messages sent: "replica.merges" and lone "replica.merge" alike. */
  messages: number;
  /** Merges sent. */
  merges: number;
}

interface Queued {
  items: MergeItemWire[];
  settle: Array<(result: RequestResult<unknown>) => void>;
  bytes: number;
  timeoutMs: number;
}

export class MergeBatcher {
  readonly stats: MergeBatchStats = { messages: 0, merges: 0 };
  private readonly queues = new Map<NodeId, Queued>();
  private readonly legacy = new Set<NodeId>();
  private scheduled = false;
  private readonly itemsMax: number;
  private readonly bytesMax: number;
  private readonly defer: (flush: () => void) => void;

  constructor(
    private readonly network: Network,
    options: MergeBatcherOptions = {},
  ) {
    this.itemsMax = Math.min(options.itemsMax ?? mergeBatchDefaults.itemsMax, mergeBatchItemsMax);
    this.bytesMax = options.bytesMax ?? mergeBatchDefaults.bytesMax;
    if (!(Number.isSafeInteger(this.itemsMax) && this.itemsMax >= 1)) throw new Error(`merge batch itemsMax must be 1 to ${mergeBatchItemsMax}, got ${options.itemsMax}`);
    if (!(Number.isSafeInteger(this.bytesMax) && this.bytesMax >= 1)) throw new Error(`merge batch bytesMax must be a positive integer, got ${options.bytesMax}`);
    this.defer = options.defer ?? deferToMicrotasks;
  }

  /** Sends one merge to `peer` with the next batch; resolves with that merge's own reply as a request result (never rejects). */
  send<T = unknown>(peer: NodeId, item: MergeItemWire, timeoutMs: number): Promise<RequestResult<T>> {
    return this.queue(peer, item, timeoutMs) as Promise<RequestResult<T>>;
  }

  private queue(peer: NodeId, item: MergeItemWire, timeoutMs: number): Promise<RequestResult<unknown>> {
    if (this.legacy.has(peer)) return this.sendOne(peer, item, timeoutMs);
    const bytes = estimateBytes(item);
    let queue = this.queues.get(peer);
    if (queue !== undefined && queue.bytes + bytes > this.bytesMax) {
      this.flushPeer(peer, queue);
      queue = undefined;
    }
    if (queue === undefined) {
      queue = { items: [], settle: [], bytes: 0, timeoutMs };
      this.queues.set(peer, queue);
    }
    const reply = new Promise<RequestResult<unknown>>((resolve) => queue.settle.push(resolve));
    queue.items.push(item);
    queue.bytes += bytes;
    queue.timeoutMs = Math.min(queue.timeoutMs, timeoutMs);
    if (queue.items.length >= this.itemsMax || queue.bytes >= this.bytesMax) this.flushPeer(peer, queue);
    else if (!this.scheduled) {
      this.scheduled = true;
      this.defer(this.flush);
    }
    return reply;
  }

  /** Sends every queued merge now. */
  readonly flush = (): void => {
    this.scheduled = false;
    for (const [peer, queue] of this.queues) this.flushPeer(peer, queue);
  };

  private flushPeer(peer: NodeId, queue: Queued): void {
    this.queues.delete(peer);
    if (queue.items.length === 1) {
      void this.sendOne(peer, queue.items[0]!, queue.timeoutMs).then(queue.settle[0]);
      return;
    }
    this.stats.messages++;
    this.stats.merges += queue.items.length;
    const message = { type: "replica.merges", merges: queue.items };
    void this.request(peer, message, queue.timeoutMs).then((result) => this.answer(peer, queue, result));
  }

  private answer(peer: NodeId, queue: Queued, result: RequestResult<unknown>): void {
    const { items, settle } = queue;
    if (result.ok && !isRemoteFailure(result.reply)) {
      const reply = result.reply as { ok?: unknown; replies?: unknown; error?: unknown } | null;
      if (reply?.ok === true && Array.isArray(reply.replies) && reply.replies.length === items.length) {
        for (let i = 0; i < items.length; i++) settle[i]!({ ok: true, reply: reply.replies[i] });
        return;
      }
      if (reply?.ok === false && typeof reply.error === "string" && reply.error.startsWith("unknown replica message")) {
        // A peer that predates "replica.merges": one message per merge from now on.
        if (this.legacy.size < legacyPeersMax) this.legacy.add(peer);
        for (let i = 0; i < items.length; i++) void this.sendOne(peer, items[i]!, queue.timeoutMs).then(settle[i]);
        return;
      }
      const why = reply?.ok === false && typeof reply.error === "string" ? reply.error : "the reply to replica.merges is not one reply per merge";
      for (let i = 0; i < items.length; i++) settle[i]!({ ok: true, reply: { ok: false, error: why } });
      return;
    }
    // Unreachable, timed out, or the peer's handler threw: every merge of the batch got that answer.
    for (let i = 0; i < items.length; i++) settle[i]!(result);
  }

  private sendOne(peer: NodeId, item: MergeItemWire, timeoutMs: number): Promise<RequestResult<unknown>> {
    this.stats.messages++;
    this.stats.merges++;
    return this.request(peer, { type: "replica.merge", ...item }, timeoutMs);
  }

  /** A request whose send threw is a failed result, never a rejection. */
  private request(peer: NodeId, message: unknown, timeoutMs: number): Promise<RequestResult<unknown>> {
    try {
      return this.network.request(peer, message, { timeoutMs }).then(undefined, () => ({ ok: false, error: "unreachable" }) as const);
    } catch {
      return Promise.resolve({ ok: false, error: "unreachable" });
    }
  }
}

function deferToMicrotasks(flush: () => void): void {
  void Promise.resolve().then(flush);
}

/** About what one merge adds to a message: its key, and each sibling's value, content type and fixed fields. */
function estimateBytes(item: MergeItemWire): number {
  let bytes = item.key.byteLength + 32;
  const add = (sibling: Sibling): void => {
    bytes += sibling.value.byteLength + sibling.contentType.length + 48 + 32 * sibling.metadata.length;
  };
  for (const entry of item.set.entries) {
    bytes += 24;
    for (const sibling of entry[2]) add(sibling);
  }
  for (const sibling of item.set.anonymous) add(sibling);
  return bytes;
}
