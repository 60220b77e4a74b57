import { AssertionError } from "../assert.js";
import type { NodeId, RequestResult } from "../runtime/network.js";
import type { Runtime } from "../runtime/runtime.js";
import { describeThrown, isRemoteFailure } from "../transport/remote-failure.js";
import { encodeProposal, type EncodedProposal, type Proposal } from "./acceptor-record.js";
import { AcceptorBatcher, type AcceptorBatchOptions } from "./acceptor-batch.js";
import type { AcceptorService } from "./acceptor-service.js";
import type { Ballot } from "./ballot.js";
import {
  acceptBytesMessage,
  acceptMessage,
  acceptReplyToWire,
  collectMessage,
  fenceMessage,
  isUnknownAcceptBytes,
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
  /** The last accept built, with what it was built from (see acceptOf). */
  private lastAccept: BuiltAccept | undefined;
  /** Nodes that answered a "paxos.accept.bytes" as an unknown message (an older version): they get the plain accept. */
  private readonly plainAcceptNodes = new Set<NodeId>();

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
    const built = this.acceptOf(key, ballot, proposal, next);
    if (node === this.options.runtime.nodeId) return local(async () => parseAcceptReply(acceptReplyToWire(await this.options.acceptors.accept(key, ballot, built.encoded, this.options.ringVersion(), next))));
    // Batches carry plain accepts (a receiver of the version before batches and accept bytes
    // refuses a batch holding an item it does not know as a whole, which would hide the reason).
    if (this.batcher?.batching === true || this.plainAcceptNodes.has(node)) return failedIfMalformed(parsed(await this.batched(node, plainAccept(built)), parseAcceptReply));
    let result = await this.batched(node, built.bytes);
    if (result.ok && isUnknownAcceptBytes(result.reply)) {
      // It ran nothing (README, "Accepts as bytes"): the plain accept, to this node from now on.
      if (this.plainAcceptNodes.size >= plainAcceptNodesMax) this.plainAcceptNodes.clear();
      this.plainAcceptNodes.add(node);
      result = await this.batched(node, plainAccept(built));
    }
    return failedIfMalformed(parsed(result, parseAcceptReply));
  }

  /**
   * The accept's proposal bytes and message, built once per round: a proposer sends the same
   * accept to every acceptor of the key in one synchronous loop, so the last one built is reused
   * when all four arguments are the very same objects. Nothing built is mutated afterwards.
   */
  private acceptOf(key: Uint8Array, ballot: Ballot, proposal: Proposal, next: Ballot | undefined): BuiltAccept {
    const last = this.lastAccept;
    if (last !== undefined && last.key === key && last.ballot === ballot && last.proposal === proposal && last.next === next) return last;
    const encoded = encodeProposal(proposal);
    const built: BuiltAccept = { key, ballot, proposal, next, encoded, bytes: acceptBytesMessage(key, ballot, encoded, next), plain: undefined };
    this.lastAccept = built;
    return built;
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

/** One round's accept: the proposal's record bytes, the "paxos.accept.bytes" message, and the plain message once one is needed. */
interface BuiltAccept {
  key: Uint8Array;
  ballot: Ballot;
  proposal: Proposal;
  next: Ballot | undefined;
  encoded: EncodedProposal;
  bytes: PaxosRequest;
  plain: PaxosRequest | undefined;
}

function plainAccept(built: BuiltAccept): PaxosRequest {
  return (built.plain ??= acceptMessage(built.key, built.ballot, built.proposal, built.next));
}

/** Nodes remembered as not knowing accept bytes; past it the set starts over (one more refused accept each). */
const plainAcceptNodesMax = 1024;

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
