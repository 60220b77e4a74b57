import { assert } from "../assert.js";
import type { Network, NodeId, RequestResult } from "../runtime/network.js";
import { isRemoteFailure } from "../transport/remote-failure.js";
import type { PaxosRequest } from "./paxos-messages.js";

/**
 * Gathers the prepares, accepts and peeks a proposer sends to one acceptor node while the
 * current work runs (by default: until the microtasks queued so far ran) into ONE
 * "paxos.batch" request, whose reply carries one answer per item, in order (README, "Batched
 * acceptor messages"). The receiver runs every item as it would run it alone (its own lock,
 * refusals and durability; their writes share one storage write), so batching changes what
 * crosses the wire and how often the acceptor commits, never what any one key's round sees.
 *
 * Bounded: at most `itemsMax` items and about `bytesMax` bytes of keys and values per batch
 * (a full batch leaves at once and a new one starts); an item larger than `bytesMax` goes alone.
 * A window with one item for a node sends the plain message. A batch that fails as a whole (a
 * timeout, a broken connection, a handler that threw) fails every item of it alike: each one's
 * outcome is then unknown, as it would be alone. A node that does not know "paxos.batch" (an
 * older version: "unknown paxos message" refusal, which proves it ran nothing) gets the items
 * again one by one, and no more batches from this client.
 */
export interface AcceptorBatchOptions {
  /** Items per batch; 1 turns batching off. */
  itemsMax?: number;
  /** Bytes of keys and values per batch (an item larger than this goes alone). */
  bytesMax?: number;
  /**
   * Runs `flush` once the work that may add items is done. Default: after the microtasks
   * queued so far (deterministic; a whole incoming frame batch's replies produce their next
   * requests before it). A node may pass one that waits for the event loop's I/O phase.
   */
  schedule?: (flush: () => void) => void;
}

export const acceptorBatchDefaults = Object.freeze({ itemsMax: 64, bytesMax: 1024 * 1024 });

/** What the receiver takes in one batch (the sender's itemsMax may not exceed it). */
export const batchItemsMaxAccepted = 256;

export const batchMessageType = "paxos.batch";

export type BatchRequest = { type: typeof batchMessageType; items: PaxosRequest[] };

interface Pending {
  message: PaxosRequest;
  resolve(result: RequestResult): void;
}

interface Window {
  items: Pending[];
  bytes: number;
}

/** Nodes remembered as not knowing batches; past it the set starts over (one more refused batch each). */
const unbatchedNodesMax = 1024;

/** Runs `flush` after the microtasks queued so far, and a few hops more for replies that chain through awaits. */
export function afterMicrotasks(flush: () => void): void {
  let hops = 4;
  const step = (): void => {
    if (--hops === 0) flush();
    else void Promise.resolve().then(step);
  };
  void Promise.resolve().then(step);
}

export class AcceptorBatcher {
  private readonly windows = new Map<NodeId, Window>();
  private scheduled = false;
  private readonly itemsMax: number;
  private readonly bytesMax: number;
  private readonly schedule: (flush: () => void) => void;
  private readonly unbatched = new Set<NodeId>();
  /** Batches and items sent as batches, and items sent alone (for tests and metrics). */
  readonly counts = { batches: 0, batchedItems: 0, single: 0 };

  constructor(
    private readonly network: Network,
    private readonly timeoutMs: number,
    options: AcceptorBatchOptions = {},
  ) {
    this.itemsMax = options.itemsMax ?? acceptorBatchDefaults.itemsMax;
    this.bytesMax = options.bytesMax ?? acceptorBatchDefaults.bytesMax;
    assert(Number.isSafeInteger(this.itemsMax) && this.itemsMax >= 1 && this.itemsMax <= batchItemsMaxAccepted, `acceptor batch itemsMax must be an integer in [1, ${batchItemsMaxAccepted}], got ${this.itemsMax}`);
    assert(Number.isSafeInteger(this.bytesMax) && this.bytesMax > 0, `acceptor batch bytesMax must be a positive integer, got ${this.bytesMax}`);
    this.schedule = options.schedule ?? afterMicrotasks;
  }

  /** Whether messages may travel in batches (itemsMax above 1). */
  get batching(): boolean {
    return this.itemsMax > 1;
  }

  /** Sends `message` to `node`, in the node's current batch; resolves with its own answer. */
  request(node: NodeId, message: PaxosRequest): Promise<RequestResult> {
    if (this.itemsMax === 1 || this.unbatched.has(node)) return this.sendAlone(node, message);
    const bytes = sizeOf(message);
    if (bytes > this.bytesMax) return this.sendAlone(node, message);
    return new Promise<RequestResult>((resolve) => {
      let window = this.windows.get(node);
      if (window !== undefined && window.bytes + bytes > this.bytesMax) {
        this.windows.delete(node);
        this.send(node, window.items);
        window = undefined;
      }
      if (window === undefined) {
        window = { items: [], bytes: 0 };
        this.windows.set(node, window);
      }
      window.items.push({ message, resolve });
      window.bytes += bytes;
      if (window.items.length >= this.itemsMax) {
        this.windows.delete(node);
        this.send(node, window.items);
      } else if (!this.scheduled) {
        this.scheduled = true;
        this.schedule(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const windows = [...this.windows];
    this.windows.clear();
    for (const [node, window] of windows) this.send(node, window.items);
  }

  private send(node: NodeId, items: Pending[]): void {
    if (items.length === 1) {
      const only = items[0]!;
      void this.sendAlone(node, only.message).then(only.resolve);
      return;
    }
    this.counts.batches++;
    this.counts.batchedItems += items.length;
    const batch: BatchRequest = { type: batchMessageType, items: items.map((item) => item.message) };
    void this.network.request(node, batch, { timeoutMs: this.timeoutMs }).then((result) => {
      if (result.ok && isUnknownBatch(result.reply)) {
        if (this.unbatched.size >= unbatchedNodesMax) this.unbatched.clear();
        this.unbatched.add(node);
        for (const item of items) void this.sendAlone(node, item.message).then(item.resolve);
        return;
      }
      const replies = result.ok && !isRemoteFailure(result.reply) ? repliesOf(result.reply, items.length) : undefined;
      for (let i = 0; i < items.length; i++) {
        // The whole batch failed (or came back unreadable): each item's outcome is unknown, as alone.
        if (!result.ok) items[i]!.resolve(result);
        else items[i]!.resolve({ ok: true, reply: replies === undefined ? (isRemoteFailure(result.reply) ? result.reply : malformedBatchReply) : replies[i] });
      }
    });
  }

  private sendAlone(node: NodeId, message: PaxosRequest): Promise<RequestResult> {
    this.counts.single++;
    return this.network.request(node, message, { timeoutMs: this.timeoutMs });
  }
}

const malformedBatchReply = Object.freeze({ ok: false, refusal: "malformed", message: "paxos.batch reply is not one answer per item" });

function repliesOf(reply: unknown, count: number): unknown[] | undefined {
  const r = reply as { ok?: unknown; replies?: unknown } | null;
  return r?.ok === true && Array.isArray(r.replies) && r.replies.length === count ? r.replies : undefined;
}

/** An older acceptor's answer to a message type it does not know: it ran nothing. */
function isUnknownBatch(reply: unknown): boolean {
  const r = reply as { ok?: unknown; refusal?: unknown; message?: unknown } | null;
  return r?.ok === false && r.refusal === "malformed" && typeof r.message === "string" && r.message === `unknown paxos message ${batchMessageType}`;
}

/** Bytes an item adds to a batch: its key and value, and a fixed allowance for the rest. */
function sizeOf(message: PaxosRequest): number {
  const base = 64;
  if (message.type === "paxos.fence") return base;
  if (message.type === "paxos.accept.bytes") return base + message.body.length;
  const key = message.key.length;
  if (message.type !== "paxos.accept" || message.value === null) return base + key;
  const value = message.value;
  let metadata = 0;
  for (const [name, text] of value.metadata) metadata += name.length + text.length;
  return base + key + value.value.length + value.contentType.length + value.version.length + metadata + 16 * message.origins.length;
}
