import type { HintStore } from "../handoff/hint-store.js";
import type { NodeId } from "../runtime/network.js";
import type { StorageEngine } from "../storage/storage-engine.js";
import { decodeItemKey } from "../storage/item-key.js";
import * as dvvset from "../versioning/dotted-version-vector-set.js";
import type { DottedVersionVectorSet } from "../versioning/dotted-version-vector-set.js";
import { compareSiblingsForLww, isSibling, type Sibling } from "../versioning/sibling.js";
import type { Dot, VersionVector } from "../versioning/version-vector.js";
import { defaultKeyLocksOptions, KeyLocks, type KeyLocksOptions } from "./key-locks.js";
import { decodeSiblingRecord, encodeSiblingRecord } from "./sibling-record.js";

/**
 * What a node does for the keys it holds on the eventual path (Dynamo paper, sections 4.4 and
 * 4.5): keep each key's dotted version vector set of siblings, add the coordinator's event to
 * it, and sync in the versions other nodes send (replication, read repair, handed-back hints).
 * A fallback (section 4.6) keeps what it receives for a down primary in the HintStore instead.
 *
 * Every read-modify-write of one key runs under that key's lock (storage reads are synchronous
 * but writes commit later, so two unlocked updates could both start from the old set and the
 * second would drop the first's dot). Writes are durable before they are acknowledged: the
 * coordinator's counter must survive a crash (dvvset.update may never reuse a dot), and a
 * replica's acknowledgement counts toward w and dw.
 *
 * Messages (plain data, so they cross the network as MessagePack):
 *   { type: "replica.fetch", key, hintFor }        -> { ok: true, set: set | null }
 *   { type: "replica.merge", key, set, hintFor, lww } -> { ok: true, durable: true } | { ok: false, error }
 * `hintFor` names the primary a fallback stands in for, or null on a primary.
 */
export interface ReplicaServiceOptions {
  nodeId: NodeId;
  storage: StorageEngine;
  hints: HintStore<Sibling>;
  /** Siblings one key may hold; a coordinated write beyond it is refused (limits.ts siblingsMax). */
  siblingsMax: number;
  locks?: KeyLocksOptions;
}

export interface ConflictOptions {
  /** Last writer wins (table `conflicts: "lww"`): keep only the highest timestamp. */
  lww: boolean;
}

export type CoordinateWriteResult =
  | { ok: true; set: DottedVersionVectorSet<Sibling>; dot: Dot }
  | { ok: false; error: "siblings-full" | "overloaded"; message: string };

export type MergeResult = { ok: true; durable: true } | { ok: false; error: string };

export interface FetchMessage {
  type: "replica.fetch";
  key: Uint8Array;
  hintFor: NodeId | null;
}

export interface MergeMessage {
  type: "replica.merge";
  key: Uint8Array;
  set: DottedVersionVectorSet<Sibling>;
  hintFor: NodeId | null;
  lww: boolean;
}

export const replicaMessagePrefix = "replica.";

export class ReplicaService {
  private readonly locks: KeyLocks;

  constructor(private readonly options: ReplicaServiceOptions) {
    this.locks = new KeyLocks(options.locks ?? defaultKeyLocksOptions);
  }

  /** The key's stored set, or undefined when this node holds nothing for it. */
  fetch(itemKey: Uint8Array): DottedVersionVectorSet<Sibling> | undefined {
    const bytes = this.options.storage.get(itemKey);
    return bytes === undefined ? undefined : decodeSiblingRecord(bytes);
  }

  /**
   * The coordinator's local event (paper, section 4.4): the proposal `sibling` with the causal
   * `context` of the client's read (undefined: a blind write, concurrent with everything) gets
   * the next dot of `nodeId`, supersedes exactly what the context saw, and is stored durably.
   */
  async coordinateWrite(itemKey: Uint8Array, sibling: Sibling, context: VersionVector | undefined, conflicts: ConflictOptions): Promise<CoordinateWriteResult> {
    const nodeId = this.options.nodeId;
    return this.locked(itemKey, async () => {
      const local = this.fetch(itemKey) ?? dvvset.empty<Sibling>();
      const proposal = context === undefined ? dvvset.newValue(sibling) : dvvset.newWithContext(context, sibling);
      const updated = dvvset.update(proposal, local, nodeId);
      const stored = conflicts.lww ? dvvset.lww(updated, compareSiblingsForLww) : updated;
      const count = dvvset.size(stored);
      if (count > this.options.siblingsMax) {
        return { ok: false, error: "siblings-full", message: `the write would keep ${count} siblings; the limit is ${this.options.siblingsMax}` } as const;
      }
      await this.options.storage.write([{ type: "put", key: itemKey, value: encodeSiblingRecord(stored) }], { durable: true });
      const counter = updated.entries.find((entry) => entry[0] === nodeId)![1];
      return { ok: true, set: stored, dot: [nodeId, counter] as const } as const;
    });
  }

  /** A version from another node (replication, read repair, handoff): sync it into the local set. */
  async merge(itemKey: Uint8Array, set: DottedVersionVectorSet<Sibling>, conflicts: ConflictOptions): Promise<MergeResult> {
    return this.locked(itemKey, async () => {
      const local = this.fetch(itemKey);
      const synced = local === undefined ? set : dvvset.sync(local, set);
      const stored = conflicts.lww ? dvvset.lww(synced, compareSiblingsForLww) : synced;
      if (local !== undefined && dvvset.equal(local, stored)) return { ok: true, durable: true } as const;
      await this.options.storage.write([{ type: "put", key: itemKey, value: encodeSiblingRecord(stored) }], { durable: true });
      return { ok: true, durable: true } as const;
    });
  }

  /** Serves "replica.fetch" and "replica.merge" (a handler that throws reaches the caller as a RemoteFailure). */
  async handle(_from: NodeId, message: unknown): Promise<unknown> {
    const type = (message as { type?: unknown } | null)?.type;
    if (type === "replica.fetch") return this.handleFetch(message as FetchMessage);
    if (type === "replica.merge") return this.handleMerge(message as MergeMessage);
    return { ok: false, error: `unknown replica message ${String(type)}` };
  }

  private handleFetch(message: FetchMessage): unknown {
    if (!(message.key instanceof Uint8Array)) return { ok: false, error: "fetch: key is not bytes" };
    if (message.hintFor === null) return { ok: true, set: this.fetch(message.key) ?? null };
    const hint = this.options.hints.get({ target: message.hintFor, tableId: decodeItemKey(message.key).tableId, key: message.key });
    return { ok: true, set: hint ?? null };
  }

  private async handleMerge(message: MergeMessage): Promise<MergeResult> {
    if (!(message.key instanceof Uint8Array)) return { ok: false, error: "merge: key is not bytes" };
    const parsed = dvvset.parse(message.set, isSibling);
    if (!parsed.ok) return { ok: false, error: `merge: ${parsed.error}` };
    if (message.hintFor === null || message.hintFor === this.options.nodeId) {
      return this.merge(message.key, parsed.set, { lww: message.lww === true });
    }
    const hint = { target: message.hintFor, tableId: decodeItemKey(message.key).tableId, key: message.key, set: parsed.set };
    const added = await this.options.hints.add(hint, { durable: true });
    return added.ok ? { ok: true, durable: true } : { ok: false, error: added.error };
  }

  private async locked<R>(itemKey: Uint8Array, work: () => Promise<R>): Promise<R | { ok: false; error: "overloaded"; message: string }> {
    const lockKey = Buffer.from(itemKey.buffer, itemKey.byteOffset, itemKey.byteLength).toString("latin1");
    if (!(await this.locks.acquire([lockKey]))) return { ok: false, error: "overloaded", message: "too many writes waiting on one key" };
    try {
      return await work();
    } finally {
      this.locks.release([lockKey]);
    }
  }
}

