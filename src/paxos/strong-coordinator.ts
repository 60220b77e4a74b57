import { assert } from "../assert.js";
import type { Network, NodeId } from "../runtime/network.js";
import type { Runtime } from "../runtime/runtime.js";
import type { AcceptorService } from "./acceptor-service.js";

/**
 * The strong path's coordinator (DESIGN.md, "The strong path"; CASPaxos, Rystsov 2018): one
 * register per key, replicated on the key's N primary replicas as acceptors. Any node
 * proposes. A change is a function of the current value: prepare/promise with a strict
 * majority, apply the function to the highest-ballot accepted value, accept/accepted with a
 * strict majority, answer. A read is the identity change, accept phase included.
 *
 * Example:
 *   const strong = new StrongCoordinator({ runtime, acceptors: new AcceptorService({ runtime }), placement, requestTimeoutMs: 500 });
 *   const added = await strong.change(key, 3, (current) => ({ type: "set", value: next(current) }));
 *   if (!added.ok && added.error === "indeterminate") { ... it may have happened ... }
 */
export interface StrongValue {
  value: Uint8Array;
  contentType: string;
  metadata: [string, string][];
  expiresAtMs: number | null;
}

/** A value as accepted: `timestamp` is the HLC of the accept that set it; `version` names it. */
export type StrongVersioned = StrongValue & { timestamp: number; version: string };

export type StrongDecision = { type: "set"; value: StrongValue } | { type: "delete" } | { type: "keep" };

/**
 * "unavailable": provably nothing was accepted (the change did not happen);
 * "indeterminate": accepts went out but no majority confirmed them in time (it may have
 * happened, now or later); "overloaded": refused before any round (it did not happen).
 */
export type StrongResult<T> = { ok: true; value: T } | { ok: false; error: "unavailable" | "indeterminate" | "overloaded"; message: string };

export interface StrongPlacement {
  /**
   * The key's N primary replicas (never fallbacks), and while its partition moves, the
   * previous set too; undefined when this node cannot place keys yet (no ring).
   */
  acceptorsFor(itemKey: Uint8Array, n: number): { acceptors: NodeId[]; previous?: NodeId[] } | undefined;
}

export type StrongChange = { before: StrongVersioned | undefined; after: StrongVersioned | undefined };

export interface StrongCoordinatorOptions {
  runtime: Runtime;
  /** This node's acceptor (answered by a local call, not the network). */
  acceptors: AcceptorService;
  placement: StrongPlacement;
  /** Deadline of each prepare, accept and collect message. */
  requestTimeoutMs: number;
  /** Rounds one batch of changes may start before it gives up. */
  attemptsMax?: number;
  /** Backoff after a refused or failed round: uniform in [0, min(max, base * 2^attempt)). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Changes waiting on one key behind the running round; past it: "overloaded". */
  changesQueuedPerKeyMax?: number;
  /** Keys with a round running or changes queued; past it: "overloaded". */
  keysActiveMax?: number;
  /** Queued changes combined into one round. */
  changesPerRoundMax?: number;
  /** Test only: answer reads from the prepare phase without accepting (the broken variant). */
  unsafeReadWithoutAccept?: boolean;
}

export const strongCoordinatorDefaults = Object.freeze({
  attemptsMax: 6,
  backoffBaseMs: 10,
  backoffMaxMs: 400,
  changesQueuedPerKeyMax: 1024,
  keysActiveMax: 100_000,
  changesPerRoundMax: 64,
});

export const paxosMessagePrefix = "paxos.";

export class StrongCoordinator {
  private readonly network: Network | undefined;

  constructor(private readonly options: StrongCoordinatorOptions) {
    assert(options.requestTimeoutMs > 0, `requestTimeoutMs must be positive, got ${options.requestTimeoutMs}`);
    this.network = options.runtime.network;
  }

  change(itemKey: Uint8Array, n: number, decide: (current: StrongVersioned | undefined) => StrongDecision): Promise<StrongResult<StrongChange>> {
    void itemKey;
    void n;
    void decide;
    return Promise.resolve({ ok: false, error: "unavailable", message: "not yet implemented" });
  }

  async read(itemKey: Uint8Array, n: number): Promise<StrongResult<StrongVersioned | undefined>> {
    const changed = await this.change(itemKey, n, () => ({ type: "keep" }));
    return changed.ok ? { ok: true, value: changed.value.after } : changed;
  }

  /** This node's acceptor only (?consistency=eventual); `acceptedAtMs` says when it accepted. */
  readLocal(itemKey: Uint8Array): { value: StrongVersioned | undefined; acceptedAtMs?: number } {
    const accepted = this.options.acceptors.record(itemKey)?.accepted;
    if (accepted === undefined) return { value: undefined };
    const value = accepted.value;
    const live = value !== undefined && (value.expiresAtMs === null || value.expiresAtMs > this.options.runtime.clock.nowMs());
    return { value: live ? value : undefined, acceptedAtMs: accepted.acceptedAtMs };
  }

  /** Serves every "paxos." message addressed to this node's acceptor. */
  handle(from: NodeId, message: unknown): Promise<unknown> {
    void from;
    void message;
    void this.network;
    return Promise.resolve({ ok: false, refusal: "overloaded" });
  }
}
