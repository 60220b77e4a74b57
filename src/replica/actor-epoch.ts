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
 * once every replica holds the same entry, as tombstone GC does for keys) is open work.
 *
 * A clean stop keeps the epoch (`stop`): once every write the node issued is durable here, it
 * stores the epoch marked clean, and the next start takes the same epoch again (a dot issued
 * under it is in the node's own sets, so counters go on from there), writing it back unmarked,
 * durably, before its first dot. So vectors grow by one entry per crash (kill -9, power loss,
 * a failed local write), not per restart. A crash during the stop leaves the unmarked record:
 * the next start moves on, as after any crash.
 */
export const actorEpochKey = metaKey("replica.actorEpoch");

/** Epochs never reach this (one per start); past it the node refuses to start coordinating rather than wrap. */
export const actorEpochMax = Number.MAX_SAFE_INTEGER;

/** The dvvset actor id of `nodeId` in `epoch`: the node id itself in epoch 0, else `nodeId:epoch` (base 36; node ids hold no ':'). */
export function actorIdOf(nodeId: string, epoch: number): string {
  return epoch === 0 ? nodeId : `${nodeId}:${epoch.toString(36)}`;
}

/** What the record holds: the epoch in use (a bare integer), or one a clean stop left (`{ epoch, clean: true }`). */
type StoredEpoch = { epoch: number; clean: boolean };

export class ActorEpoch {
  private current: number;
  /** Whether the current epoch's record is unwritten, being written, durable, or its write failed (written again on the next `ready()`); stopped after `stop`. */
  private state: "unwritten" | "writing" | "durable" | "failed" | "stopped" = "unwritten";
  private pending: Promise<void> | undefined;

  private constructor(
    private readonly storage: StorageEngine,
    readonly nodeId: string,
    stored: StoredEpoch | undefined,
  ) {
    this.current = stored === undefined ? 0 : stored.clean ? stored.epoch : stored.epoch + 1;
  }

  /** Reads the last epoch; this incarnation's is one more (the same after a clean stop), written durably on the first `ready()`. */
  static open(storage: StorageEngine, nodeId: string): ActorEpoch {
    const bytes = storage.get(actorEpochKey);
    return new ActorEpoch(storage, nodeId, bytes === undefined ? undefined : parseStored(unpack(bytes) as unknown));
  }

  /** True once `stop` was called: no dot may be issued under this instance any more. */
  get stopped(): boolean {
    return this.state === "stopped";
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
    if (this.state === "stopped") return Promise.reject(new Error("the node is stopping"));
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
    const stopped = this.state === "stopped";
    this.pending = this.persist(this.current);
    if (stopped) this.state = "stopped"; // the record moves on (no clean mark), and no dot is issued here any more
  }

  /**
   * A clean stop: from now on `ready()` refuses (no dot is issued here any more); `drained`
   * must resolve once every write issued before is durable or failed. Then, when the epoch was
   * in use (durable) and no failed write moved it on meanwhile (`renew`), stores it marked
   * clean, so the next start takes it again. Otherwise the record is left as it is (an epoch
   * never made ready issued nothing; one being written, or renewed, is moved past on the next
   * start, as after a crash).
   */
  async stop(drained: () => Promise<void>): Promise<void> {
    const inUse = this.state === "durable";
    const epoch = this.current;
    this.state = "stopped";
    await drained();
    if (!inUse || this.current !== epoch) return;
    await this.storage.write([{ type: "put", key: actorEpochKey, value: pack({ epoch, clean: true }) }], { durable: true });
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
        if (this.current === epoch && this.state === "writing") this.state = "durable";
      },
      (error: unknown) => {
        if (this.current === epoch && this.state === "writing") this.state = "failed";
        throw error;
      },
    );
    // The rejection is reported to whoever awaits ready(); none may be waiting.
    written.catch(() => undefined);
    return written;
  }
}

function parseStored(stored: unknown): StoredEpoch {
  const isEpoch = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0 && (value as number) < actorEpochMax;
  if (isEpoch(stored)) return { epoch: stored, clean: false };
  if (typeof stored === "object" && stored !== null && isEpoch((stored as { epoch?: unknown }).epoch) && (stored as { clean?: unknown }).clean === true) return { epoch: (stored as { epoch: number }).epoch, clean: true };
  throw new Error(`replica.actorEpoch holds ${JSON.stringify(stored) ?? String(stored)}, not an epoch (a safe integer from 0, or { epoch, clean: true })`);
}
