import { pack, unpack } from "msgpackr";
import { metaKey } from "../storage/keyspace.js";
import type { StorageEngine } from "../storage/storage-engine.js";

/**
 * The actor under which this node coordinates eventual writes: its node id plus an epoch that
 * every start raises durably (per-incarnation actor ids; Riak's answer to KV679).
 *
 * Why: dvvset.update may never issue a dot twice. A coordinator derives a key's next counter
 * from its own stored set, so that set had to be durable before any other replica stored the
 * dot: else a crash could lose it while a replica keeps it, and the restarted node would issue
 * the same dot again for another value (dot reuse). That put two durable writes in series on
 * every put (the coordinator's, then the replicas'). Under an actor that no earlier incarnation
 * used, a restarted node can never reissue a dot its lost writes carried, so the coordinator's
 * own write may commit in parallel with the replicas' (ReplicaService.coordinateWrite,
 * `early`). Within one incarnation nothing is lost without a crash: the key's lock is held
 * until the local write is durable, so the next write of the key reads the set that holds the
 * dot; a local write that fails after the dot left (`renew`) moves to a fresh epoch before the
 * key's lock is released.
 *
 * Epoch 0 is the plain node id: a data directory without the record (a new node, or one
 * written by a build that made the coordinator's write durable first, so the plain id never
 * lost a dot) starts there. The record is written (durably) on the first `ready()`, which every
 * dot waits for: a node that never coordinates an eventual write writes nothing, and since no
 * dot was issued under an epoch never written, the next start may take the same one again.
 *
 * Cost: each epoch is one more entry in the version vector of every key the node coordinates a
 * write for after that start; the entry stays (a superseded entry cannot be dropped without
 * every replica agreeing). So vectors grow by one entry per start of a coordinator that then
 * writes the key: a node started a thousand times would reach dvvset's parse bound of 1024
 * entries on a key it writes after every start. Compacting old epochs' entries (folding them
 * once every replica holds the same entry, as tombstone GC does for keys) is open work; so is
 * keeping the epoch across a clean stop.
 */
export const actorEpochKey = metaKey("replica.actorEpoch");

/** Epochs never reach this (one per start); past it the node refuses to start coordinating rather than wrap. */
export const actorEpochMax = Number.MAX_SAFE_INTEGER;

/** The dvvset actor id of `nodeId` in `epoch`: the node id itself in epoch 0, else `nodeId:epoch` (base 36; node ids hold no ':'). */
export function actorIdOf(nodeId: string, epoch: number): string {
  return epoch === 0 ? nodeId : `${nodeId}:${epoch.toString(36)}`;
}

export class ActorEpoch {
  private current: number;
  /** Whether the current epoch's record is unwritten, being written, durable, or its write failed (written again on the next `ready()`). */
  private state: "unwritten" | "writing" | "durable" | "failed" = "unwritten";
  private pending: Promise<void> | undefined;

  private constructor(
    private readonly storage: StorageEngine,
    readonly nodeId: string,
    stored: number | undefined,
  ) {
    this.current = stored === undefined ? 0 : stored + 1;
  }

  /** Reads the last epoch; this incarnation's is one more, written durably on the first `ready()`. */
  static open(storage: StorageEngine, nodeId: string): ActorEpoch {
    const bytes = storage.get(actorEpochKey);
    const stored = bytes === undefined ? undefined : (unpack(bytes) as unknown);
    if (stored !== undefined && !(Number.isSafeInteger(stored) && (stored as number) >= 0 && (stored as number) < actorEpochMax)) {
      throw new Error(`replica.actorEpoch holds ${String(stored)}, not an epoch (a safe integer from 0)`);
    }
    return new ActorEpoch(storage, nodeId, stored as number | undefined);
  }

  get epoch(): number {
    return this.current;
  }

  /** The actor id to coordinate under now. Only valid once `ready()` resolved. */
  get actorId(): string {
    return actorIdOf(this.nodeId, this.current);
  }

  /** Undefined when the current epoch is durable; else a promise that resolves when it is (writing it first when nobody did, or again after a failed write; rejects if the write fails). */
  ready(): Promise<void> | undefined {
    if (this.state === "durable") return undefined;
    if (this.state !== "writing") this.pending = this.persist(this.current);
    return this.pending;
  }

  /**
   * A write under the current actor may have left this node without its own durable copy (the
   * local write failed): move to the next epoch. Call it before releasing the key's lock;
   * coordinated writes wait for `ready()` meanwhile.
   */
  renew(): void {
    this.current++;
    this.pending = this.persist(this.current);
  }

  private persist(epoch: number): Promise<void> {
    this.state = "writing";
    let written: Promise<void>;
    try {
      written = this.storage.write([{ type: "put", key: actorEpochKey, value: pack(epoch) }], { durable: true });
    } catch (error) {
      written = Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    written = written.then(
      () => {
        if (this.current === epoch) this.state = "durable";
      },
      (error: unknown) => {
        if (this.current === epoch) this.state = "failed";
        throw error;
      },
    );
    // The rejection is reported to whoever awaits ready(); none may be waiting.
    written.catch(() => undefined);
    return written;
  }
}
