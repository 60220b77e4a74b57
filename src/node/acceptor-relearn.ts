import { relearningRefusal } from "../coordinator/accepted-scan.js";
import type { AcceptorService } from "../paxos/acceptor-service.js";
import { BackgroundTask } from "../replica/background-task.js";
import type { Network, NodeId } from "../runtime/network.js";
import type { Timers } from "../runtime/runtime.js";
import { decodeItemKey } from "../storage/item-key.js";
import { metaKey, Namespace } from "../storage/keyspace.js";
import type { StorageEngine } from "../storage/storage-engine.js";
import { isRemoteFailure } from "../transport/remote-failure.js";
import { ringMetaKey } from "./node-cluster.js";

/**
 * A CASPaxos acceptor must never forget what it promised or accepted: a node that lost its data
 * directory and rejoins under its old node id would otherwise answer as if it had accepted
 * nothing, and a majority made of it and a replica that missed a write loses that write
 * (shoal-node-rebuild-tombstones.test.ts shows it did). So a node whose disk held no ring when
 * it started (a new data directory) keeps its acceptor shut (`gatedAcceptors`: prepare,
 * accept, peek and collect are refused as "overloaded", the local eventual read sees nothing)
 * until it knows which it is. If the first ring it learns does not name it, it is a new node:
 * it becomes an acceptor only through a ring transition, whose ownership transfer re-reads
 * every strong key under the joint acceptor sets, so the gate opens; so does a node that forms
 * a ring of one (a new cluster: no other acceptor exists). If the first ring it learns from a
 * peer names it, it may be a wiped member: the gate stays shut until one
 * relearn pass finished:
 *
 *   every other ring member must be up; each lists its acceptor records (replica.list,
 *   records "accepted", over every table, in pages); each listed key this node is a primary
 *   of is read through CASPaxos (StrongCoordinator.read: the identity change, accept phase
 *   included) while this acceptor still refuses.
 *
 * Why that is enough: while this acceptor refuses, every round that succeeds (the relearn
 * reads and every client round) won a majority of the key's acceptors without it. A read of a
 * key writes the key's latest value, at a ballot above every promise those acceptors made, to
 * such a majority; so afterwards every majority that includes this node includes one of them
 * (the value is not lost) and every round begun before the disk was lost is refused by them
 * (its lower ballot cannot win a majority). This node may then hold nothing for the key: that
 * is what an acceptor that missed the writes holds. A key a member does not list has no
 * accepted value there; every member lists, so a key accepted anywhere is read.
 *
 * The need survives a crash in the middle: a durable marker (`acceptorRelearnMetaKey`) is
 * written before the first pass and removed after the pass that finished. A table this node
 * does not know yet (its catalog still syncing), a member down or a failed read leaves the
 * pass unfinished; the next one starts over after `intervalMs`. The strong path works
 * meanwhile on the other acceptors (a majority of each key's primaries without this node).
 */
export const acceptorRelearnMetaKey = metaKey("acceptor.relearn");

export interface AcceptorRelearnOptions {
  self: NodeId;
  storage: StorageEngine;
  timers: Timers;
  network: Network;
  /** The current ring's members, or undefined before this node has a ring. */
  members: () => readonly NodeId[] | undefined;
  isUp: (node: NodeId) => boolean;
  /** A strong table's n; "skip" for a table that is not strong or was dropped; undefined: not known here yet. */
  strongN: (tableId: number) => number | "skip" | undefined;
  /** The key's primaries (acceptors) in the current ring, or undefined without a ring. */
  primariesOf: (itemKey: Uint8Array, n: number) => readonly NodeId[] | undefined;
  /** StrongCoordinator.read. */
  read: (itemKey: Uint8Array, n: number) => Promise<{ ok: boolean }>;
  requestTimeoutMs: number;
  intervalMs?: number;
  pageMax?: number;
  onError?: (error: unknown) => void;
  onDone?: (keysRead: number) => void;
}

export const acceptorRelearnDefaults = Object.freeze({ intervalMs: 1_000, pageMax: 256 });

export interface RelearnStats {
  passes: number;
  keysRead: number;
  /** Why the last unfinished pass stopped. */
  lastProblem: string | undefined;
}

type RelearnState = "open" | "undecided" | "relearning";

export class AcceptorRelearn {
  private state: RelearnState;
  private readonly task: BackgroundTask;
  readonly stats: RelearnStats = { passes: 0, keysRead: 0, lastProblem: undefined };

  /** Read at start, before the cluster persists a ring: a new data directory, or a relearn that did not finish. */
  static diskState(storage: StorageEngine): { fresh: boolean; unfinished: boolean } {
    return { fresh: storage.get(ringMetaKey) === undefined, unfinished: storage.get(acceptorRelearnMetaKey) !== undefined };
  }

  constructor(
    private readonly options: AcceptorRelearnOptions,
    disk: { fresh: boolean; unfinished: boolean },
  ) {
    this.state = disk.unfinished ? "relearning" : disk.fresh ? "undecided" : "open";
    this.task = new BackgroundTask({
      timers: options.timers,
      step: () => this.step(),
      idleDelayMs: options.intervalMs ?? acceptorRelearnDefaults.intervalMs,
      // While undecided, look for the first ring often: it is what tells a new node from a wiped one.
      busyDelayMs: 20,
      onError: options.onError ?? (() => undefined),
    });
  }

  /** Whether the acceptor must refuse (see above). */
  get gated(): boolean {
    return this.state !== "open";
  }

  /** Starts watching for the first ring (a new data directory) or the passes of an unfinished relearn. */
  start(): void {
    // A ring of one this node formed itself (no seeds, new directory): a new cluster, nothing to relearn.
    const members = this.options.members();
    if (this.state === "undecided" && members !== undefined && members.length === 1 && members[0] === this.options.self) this.state = "open";
    if (this.state !== "open") this.task.start();
  }

  /** The first ring a node with a new data directory learns decides between a new node and a wiped member. */
  private async decide(members: readonly NodeId[]): Promise<void> {
    if (!members.includes(this.options.self)) {
      this.state = "open";
      void this.task.stop();
      return;
    }
    await this.options.storage.write([{ type: "put", key: acceptorRelearnMetaKey, value: Uint8Array.of(1) }], { durable: true });
    this.state = "relearning";
  }

  private async step(): Promise<boolean> {
    if (this.state === "undecided") {
      const members = this.options.members();
      if (members === undefined) return true;
      await this.decide(members);
      return this.gated; // relearning: the first pass right away
    }
    return this.pass();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  /** One whole relearn pass; false (try again later) while it could not finish. */
  async pass(): Promise<boolean> {
    if (this.state !== "relearning") return false;
    this.stats.passes++;
    const problem = await this.relearn();
    this.stats.lastProblem = problem;
    if (problem !== undefined) return false;
    await this.options.storage.write([{ type: "delete", key: acceptorRelearnMetaKey }], { durable: true });
    this.state = "open";
    this.options.onDone?.(this.stats.keysRead);
    void this.task.stop();
    return false;
  }

  /** Undefined when every key was read; else why not. */
  private async relearn(): Promise<string | undefined> {
    const members = this.options.members();
    if (members === undefined || !members.includes(this.options.self)) return "no ring placing this node yet";
    const others = members.filter((id) => id !== this.options.self);
    const down = others.filter((id) => !this.options.isUp(id));
    if (down.length > 0) return `members down: ${down.join(", ")}`;
    let problem: string | undefined;
    for (const peer of others) {
      let low: { key: Uint8Array; inclusive: boolean } | null = null;
      for (;;) {
        const page = await this.list(peer, low);
        if (typeof page === "string") return page;
        for (const key of page.keys) {
          const found = await this.relearnKey(key);
          if (found !== undefined) problem ??= found;
        }
        if (page.exhausted || page.keys.length === 0) break;
        low = { key: page.keys[page.keys.length - 1]!, inclusive: false };
      }
    }
    return problem;
  }

  private async relearnKey(key: Uint8Array): Promise<string | undefined> {
    const n = this.options.strongN(decodeItemKey(key).tableId);
    if (n === "skip") return undefined;
    if (n === undefined) return `table ${decodeItemKey(key).tableId} is not known here yet`;
    const primaries = this.options.primariesOf(key, n);
    if (primaries === undefined) return "no ring";
    if (!primaries.includes(this.options.self)) return undefined;
    const read = await this.options.read(key, n);
    if (!read.ok) return "a relearn read failed";
    this.stats.keysRead++;
    return undefined;
  }

  private async list(peer: NodeId, low: { key: Uint8Array; inclusive: boolean } | null): Promise<{ keys: Uint8Array[]; exhausted: boolean } | string> {
    const message = { type: "replica.list", prefix: Uint8Array.of(Namespace.items), low, high: null, reverse: false, limit: this.options.pageMax ?? acceptorRelearnDefaults.pageMax, records: "accepted" };
    const result = await this.options.network.request<{ ok?: boolean; entries?: unknown; exhausted?: unknown }>(peer, message, { timeoutMs: this.options.requestTimeoutMs });
    if (!result.ok) return `listing ${peer}: ${result.error}`;
    const reply = result.reply;
    if (isRemoteFailure(reply) || reply?.ok !== true || !Array.isArray(reply.entries)) return `listing ${peer}: refused`;
    const keys: Uint8Array[] = [];
    for (const entry of reply.entries as unknown[]) {
      if (!Array.isArray(entry) || !(entry[0] instanceof Uint8Array)) return `listing ${peer}: malformed entry`;
      keys.push(entry[0]);
    }
    return { keys, exhausted: reply.exhausted === true };
  }
}

/**
 * The "replica." handler of a node whose acceptor may be relearning: while `gated()`, a
 * listing of its acceptor records for a client's strong Scan/Query ("replica.query", records
 * "accepted") is refused, so the listing counts only acceptors that hold what they accepted
 * (an empty store would stand in a majority for records it lost). The relearn pass and the
 * ownership transfer list with "replica.list" and are served as before (two nodes relearning
 * at once must still list each other).
 */
export function refuseAcceptedScans(handler: (from: NodeId, message: unknown) => unknown, gated: () => boolean): (from: NodeId, message: unknown) => unknown {
  return (from, message) => {
    const m = message as { type?: unknown; records?: unknown } | null;
    if (gated() && m?.type === "replica.query" && m.records === "accepted") return { ok: false, error: relearningRefusal };
    return handler(from, message);
  };
}

/**
 * The acceptor a gated node's StrongCoordinator uses: while `gated()`, prepare, accept, peek
 * and collect are refused ("overloaded": a refusal that proves nothing was stored and asks the
 * proposer for nothing) and the local record reads as absent; everything else passes through.
 */
export function gatedAcceptors(acceptors: AcceptorService, gated: () => boolean): AcceptorService {
  const refused = { ok: false, refusal: "overloaded" } as const;
  return new Proxy(acceptors, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== "function") return value;
      // `alone`: the whole local round (paxos/local-change.ts), refused like prepare and accept.
      if (property === "prepare" || property === "accept" || property === "peek" || property === "collect" || property === "alone") {
        return (...args: unknown[]) => (gated() ? Promise.resolve(refused) : (value as (...a: unknown[]) => unknown).apply(target, args));
      }
      if (property === "record") return (...args: unknown[]) => (gated() ? undefined : (value as (...a: unknown[]) => unknown).apply(target, args));
      return (value as (...a: unknown[]) => unknown).bind(target);
    },
  });
}
