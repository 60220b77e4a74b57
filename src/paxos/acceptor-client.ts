import { AssertionError } from "../assert.js";
import type { NodeId, RequestResult } from "../runtime/network.js";
import type { Runtime } from "../runtime/runtime.js";
import { describeThrown, isRemoteFailure } from "../transport/remote-failure.js";
import type { Proposal } from "./acceptor-record.js";
import { AcceptorBatcher, type AcceptorBatchOptions } from "./acceptor-batch.js";
import type { AcceptorService } from "./acceptor-service.js";
import type { Ballot } from "./ballot.js";
import {
  acceptMessage,
  acceptReplyToWire,
  collectMessage,
  fenceMessage,
  parseAcceptReply,
  parsePeekReply,
  peekMessage,
  peekReplyToWire,
  type Accepted,
  type Peeked,
  parsePrepareReply,
  prepareMessage,
  prepareReplyToWire,
  type ParsedReply,
  type Promised,
  type PaxosRequest,
} from "./paxos-messages.js";

/**
 * How a proposer reaches one acceptor: this node's own by a local call (no network hop), any
 * other by a "paxos." request with the deadline. Every outcome is a value: an answer (ok or
 * refused with the ballot to beat), or "failed" when nothing usable came back (a timeout, an
 * unreachable node, a handler that threw, a reply that does not parse). A failed accept may
 * still have been stored; only a refusal proves it was not.
 */
export type AcceptorAnswer<T> = ParsedReply<T> | { kind: "failed"; message: string };

export class AcceptorClient {
  /** Prepares, accepts and peeks to other nodes, gathered per node (acceptor-batch.ts); undefined without a network. */
  readonly batcher: AcceptorBatcher | undefined;
  /** The last accept message built, with what it was built from (see acceptMessageOf). */
  private lastAccept: { key: Uint8Array; ballot: Ballot; proposal: Proposal; next: Ballot | undefined; message: PaxosRequest } | undefined;

  /** `ringVersion`: this node's ring version, which its own acceptor fences with. `batch`: acceptor-batch.ts options. */
  constructor(private readonly options: { runtime: Runtime; acceptors: AcceptorService; requestTimeoutMs: number; ringVersion: () => number; batch?: AcceptorBatchOptions }) {
    const network = options.runtime.network;
    this.batcher = network === undefined ? undefined : new AcceptorBatcher(network, options.requestTimeoutMs, options.batch);
  }

  async prepare(node: NodeId, key: Uint8Array, ballot: Ballot): Promise<AcceptorAnswer<Promised>> {
    if (node === this.options.runtime.nodeId) return local(async () => parsePrepareReply(prepareReplyToWire(await this.options.acceptors.prepare(key, ballot, this.options.ringVersion()))));
    return failedIfMalformed(parsed(await this.batched(node, prepareMessage(key, ballot)), parsePrepareReply));
  }

  /** `next`: ask the acceptor to promise this later ballot of ours with the accept (the piggybacked prepare). */
  async accept(node: NodeId, key: Uint8Array, ballot: Ballot, proposal: Proposal, next?: Ballot): Promise<AcceptorAnswer<Accepted>> {
    if (node === this.options.runtime.nodeId) return local(async () => parseAcceptReply(acceptReplyToWire(await this.options.acceptors.accept(key, ballot, proposal, this.options.ringVersion(), next))));
    return failedIfMalformed(parsed(await this.batched(node, this.acceptMessageOf(key, ballot, proposal, next)), parseAcceptReply));
  }

  /**
   * The accept's message, built once per round: a proposer sends the same accept to every
   * remote acceptor of the key in one synchronous loop, so the last one built is reused when
   * all four arguments are the very same objects. Messages are never mutated once built.
   */
  private acceptMessageOf(key: Uint8Array, ballot: Ballot, proposal: Proposal, next: Ballot | undefined): PaxosRequest {
    const last = this.lastAccept;
    if (last !== undefined && last.key === key && last.ballot === ballot && last.proposal === proposal && last.next === next) return last.message;
    const message = acceptMessage(key, ballot, proposal, next);
    this.lastAccept = { key, ballot, proposal, next, message };
    return message;
  }

  async peek(node: NodeId, key: Uint8Array, epoch: number): Promise<AcceptorAnswer<Peeked>> {
    if (node === this.options.runtime.nodeId) return local(async () => parsePeekReply(peekReplyToWire(await this.options.acceptors.peek(key, epoch, this.options.ringVersion()))));
    return failedIfMalformed(parsed(await this.batched(node, peekMessage(key, epoch)), parsePeekReply));
  }

  /** The GC step; its answer does not matter (a tombstone not collected stays, and is retried). */
  async collect(node: NodeId, key: Uint8Array, ballot: Ballot): Promise<void> {
    if (node === this.options.runtime.nodeId) {
      await local(async () => ({ kind: "ok", reply: await this.options.acceptors.collect(key, ballot, this.options.ringVersion()) }));
      return;
    }
    await this.request(node, collectMessage(key, ballot));
  }

  /** Raises `node`'s ring fence to `ringVersion`; true once it answered that its fence is at least that. */
  async fence(node: NodeId, ringVersion: number): Promise<boolean> {
    if (node === this.options.runtime.nodeId) return (await this.options.acceptors.fence(ringVersion)).fence >= ringVersion;
    const result = await this.request(node, fenceMessage(ringVersion));
    if (!result.ok || isRemoteFailure(result.reply)) return false;
    const reply = result.reply as { ok?: unknown; fence?: unknown } | null;
    return reply?.ok === true && typeof reply.fence === "number" && reply.fence >= ringVersion;
  }

  private batched(node: NodeId, message: PaxosRequest): Promise<RequestResult> {
    return this.batcher === undefined ? Promise.resolve({ ok: false, error: "unreachable" }) : this.batcher.request(node, message);
  }

  private request(node: NodeId, message: PaxosRequest): Promise<RequestResult> {
    const network = this.options.runtime.network;
    if (network === undefined) return Promise.resolve({ ok: false, error: "unreachable" });
    return network.request(node, message, { timeoutMs: this.options.requestTimeoutMs });
  }
}

function parsed<T>(result: RequestResult, parse: (reply: unknown) => ParsedReply<T>): AcceptorAnswer<T> {
  if (!result.ok) return { kind: "failed", message: result.error };
  if (isRemoteFailure(result.reply)) return { kind: "failed", message: result.reply.shoalRemoteFailure.message };
  return parse(result.reply);
}

function failedIfMalformed<T>(answer: AcceptorAnswer<T>): AcceptorAnswer<T> {
  return answer.kind === "malformed" ? { kind: "failed", message: answer.message } : answer;
}

/**
 * The local acceptor's answer; one that threw (a storage failure) counts as failed, like a
 * remote one. A failed assertion is a bug, not an operating error, and keeps propagating.
 */
async function local<T>(work: () => Promise<ParsedReply<T>>): Promise<AcceptorAnswer<T>> {
  try {
    return failedIfMalformed(await work());
  } catch (error) {
    if (error instanceof AssertionError) throw error;
    return { kind: "failed", message: describeThrown(error) };
  }
}
