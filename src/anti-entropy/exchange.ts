import { Packr } from "msgpackr";
import type { Network, NodeId } from "../runtime/network.js";
import * as dvvset from "../versioning/dotted-version-vector-set.js";
import type { DottedVersionVectorSet } from "../versioning/dotted-version-vector-set.js";
import { isSibling, type Sibling } from "../versioning/sibling.js";
import type { AntiEntropyRequest, ExchangeBounds } from "./anti-entropy-messages.js";
import type { HashTrees } from "./hash-trees.js";
import { merkleFanOut, MerkleTree, type MerkleLevel } from "./merkle-tree.js";
import type { ReplicaAccess } from "./replica-access.js";
import type { TreeId } from "./segment-index.js";
import { VERSION_HASH_BYTES, versionHashesEqual } from "./version-hash.js";

/**
 * One Merkle exchange of one tree with one peer replica (Dynamo paper, section 4.7), run by
 * the initiator:
 *
 * 1. compare roots: equal trees cost this one round trip;
 * 2. compare the 32 top segments, then the leaf segments under the top segments that differ;
 * 3. list both sides' (key, version hash) entries of the differing leaf segments, in batches,
 *    and collect the keys whose hashes differ (or that one side lacks);
 * 4. repair them in batches: fetch the peer's sets, merge each into the local replica, push
 *    the merged local set back wherever it differs from the peer's. Both merges are the normal
 *    versioned merge (replica-access.ts), so nothing superseded ever returns, and a replica
 *    that just reaped a tombstone does not take it back (ReplicaService.reap; README.md,
 *    "Tombstones").
 *
 * Traffic therefore grows with the number of differing keys (and the segments they fall in),
 * not with the number of keys. At most keysPerExchangeMax keys are repaired per exchange; the
 * rest show up in the next one (`complete: false`). `pace` is awaited after each round trip
 * with its bytes, so the scheduler can hold an exchange to a byte rate.
 *
 * Under a steady write load most differences are writes still landing on the replicas, which
 * normal replication settles a moment later. With `young`, a differing leaf segment written
 * here within `youngMs` is put off to a later exchange (HashTrees.deferYoung: at most
 * `deferralsMax` times in a row), so the exchange neither lists nor repairs its keys now and
 * reports `complete: false`. The schedule compares roots of many trees in one round trip
 * (`compareRoots`) and starts an exchange only for the trees that differ (`rootDiffers`).
 */
export interface ExchangeContext {
  network: Network;
  trees: HashTrees;
  replica: ReplicaAccess;
  requestTimeoutMs: number;
  bounds: ExchangeBounds;
  pace?: (bytes: number) => Promise<void>;
  young?: YoungDeferral;
}

/** Put off differing segments written here within `youngMs`, at most `deferralsMax` exchanges in a row. */
export interface YoungDeferral {
  youngMs: number;
  deferralsMax: number;
}

/** A write's deadline is a few seconds at most; three rounds at the default interval is 30 s. */
export const youngDeferralDefaults: Readonly<YoungDeferral> = Object.freeze({ youngMs: 5_000, deferralsMax: 3 });

export interface ExchangeTraffic {
  messages: number;
  bytes: number;
}

export type ExchangeResult =
  | ({ ok: true; agreed: boolean; complete: boolean; keysDiffering: number; keysRepaired: number; segmentsDeferred: number } & ExchangeTraffic)
  | ({ ok: false; error: string } & ExchangeTraffic);

const packr = new Packr({ useRecords: false, moreTypes: false, structuredClone: false });
const emptyTree = new MerkleTree();

class ExchangeFailure {
  constructor(readonly error: string) {}
}

export async function runExchange(context: ExchangeContext, peer: NodeId, tree: TreeId, options: { rootDiffers?: boolean } = {}): Promise<ExchangeResult> {
  const exchange = new Exchange(context, peer, tree);
  try {
    return await exchange.run(options.rootDiffers === true);
  } catch (thrown) {
    if (!(thrown instanceof ExchangeFailure)) throw thrown;
    return { ok: false, error: thrown.error, messages: exchange.traffic.messages, bytes: exchange.traffic.bytes };
  }
}

export type RootsResult =
  | ({ ok: true; differs: boolean[] } & ExchangeTraffic)
  | ({ ok: false; error: string; unsupported: boolean } & ExchangeTraffic);

/**
 * Compares the roots of `trees` (at most bounds.rootsPerRequestMax) with one peer in one round
 * trip; `differs[i]` is true when tree i's roots differ. `unsupported`: the peer does not know
 * the request (an older node), so the caller compares them one exchange at a time instead.
 */
export async function compareRoots(context: ExchangeContext, peer: NodeId, trees: readonly TreeId[]): Promise<RootsResult> {
  const message = { type: "anti-entropy.roots" as const, trees: [...trees] };
  const result = await context.network.request<{ ok?: unknown; error?: unknown; roots?: unknown }>(peer, message, { timeoutMs: context.requestTimeoutMs });
  const bytes = packr.pack(message).length + (result.ok ? packr.pack(result.reply).length : 0);
  const traffic = { messages: result.ok ? 2 : 1, bytes };
  if (!result.ok) return { ok: false, error: `anti-entropy.roots: ${result.error}`, unsupported: false, ...traffic };
  await context.pace?.(bytes);
  const reply = result.reply;
  if (reply === null || typeof reply !== "object" || reply.ok !== true) {
    const error = String((reply as { error?: unknown } | null)?.error ?? "malformed reply");
    return { ok: false, error: `anti-entropy.roots: ${error}`, unsupported: error.startsWith("unknown anti-entropy message"), ...traffic };
  }
  const roots = reply.roots;
  if (!(roots instanceof Uint8Array) || roots.length !== trees.length * VERSION_HASH_BYTES) return { ok: false, error: "anti-entropy.roots: malformed reply", unsupported: false, ...traffic };
  const differs = trees.map((tree, i) => !sameHashAt(context.trees.hashedTree(tree)?.root() ?? emptyTree.root(), roots.subarray(i * VERSION_HASH_BYTES), 0));
  return { ok: true, differs, ...traffic };
}

class Exchange {
  readonly traffic: ExchangeTraffic = { messages: 0, bytes: 0 };

  constructor(
    private readonly context: ExchangeContext,
    private readonly peer: NodeId,
    private readonly tree: TreeId,
  ) {}

  /** `rootDiffers`: the roots were compared already (compareRoots) and differed. */
  async run(rootDiffers: boolean): Promise<ExchangeResult> {
    if (!rootDiffers) {
      const root = await this.request<{ root: Uint8Array }>({ type: "anti-entropy.root", tree: this.tree });
      if (versionHashesEqual(root.root, this.local().root())) return this.done({ agreed: true, complete: true, keysDiffering: 0, keysRepaired: 0, segmentsDeferred: 0 });
    }
    const young = this.context.young !== undefined && this.context.young.youngMs > 0 ? this.context.young : undefined;
    const tops = (await this.differing(1, range(merkleFanOut))).indexes;
    const leaves = await this.differing(2, tops.flatMap((top) => range(merkleFanOut).map((i) => top * merkleFanOut + i)), young?.youngMs);
    const split = young === undefined ? { compare: leaves.indexes, deferred: 0 } : this.context.trees.deferYoung(this.tree, leaves.indexes, young.youngMs, young.deferralsMax, leaves.youngOnPeer);
    const { keys, complete } = await this.differingKeys(split.compare);
    let repaired = 0;
    for (let i = 0; i < keys.length; i += this.context.bounds.repairBatchMax) {
      repaired += await this.repair(keys.slice(i, i + this.context.bounds.repairBatchMax));
    }
    return this.done({ agreed: false, complete: complete && split.deferred === 0, keysDiffering: keys.length, keysRepaired: repaired, segmentsDeferred: split.deferred });
  }

  private local(): MerkleTree {
    return this.context.trees.hashedTree(this.tree) ?? emptyTree;
  }

  /**
   * The indexes at `level` whose hashes differ between the two trees; with `youngMs`, also those
   * of them the peer wrote within youngMs (a peer that does not answer it: none).
   */
  private async differing(level: MerkleLevel, indexes: number[], youngMs?: number): Promise<{ indexes: number[]; youngOnPeer: Set<number> }> {
    const youngOnPeer = new Set<number>();
    if (indexes.length === 0) return { indexes: [], youngOnPeer };
    const reply = await this.request<{ hashes: Uint8Array; young?: unknown }>({ type: "anti-entropy.hashes", tree: this.tree, level, indexes, ...(youngMs === undefined ? {} : { youngMs }) });
    const remote = reply.hashes;
    if (!(remote instanceof Uint8Array) || remote.length !== indexes.length * VERSION_HASH_BYTES) throw new ExchangeFailure("hashes: malformed reply");
    const young = reply.young instanceof Uint8Array && reply.young.length === indexes.length ? reply.young : undefined;
    const local = this.local().hashes(level, indexes);
    const differing = indexes.filter((index, i) => {
      if (sameHashAt(local, remote, i)) return false;
      if (young?.[i] === 1) youngOnPeer.add(index);
      return true;
    });
    return { indexes: differing, youngOnPeer };
  }

  /** Keys whose version hashes differ in the given leaf segments, at most keysPerExchangeMax. */
  private async differingKeys(segments: number[]): Promise<{ keys: Uint8Array[]; complete: boolean }> {
    const { segmentsPerRequestMax, keysPerExchangeMax } = this.context.bounds;
    const keys: Uint8Array[] = [];
    let rest = segments;
    while (rest.length > 0 && keys.length < keysPerExchangeMax) {
      const reply = await this.request<{ segments: [number, [Uint8Array, Uint8Array][] | null][] }>({ type: "anti-entropy.keys", tree: this.tree, segments: rest.slice(0, segmentsPerRequestMax) });
      if (!Array.isArray(reply.segments) || reply.segments.length === 0) throw new ExchangeFailure("keys: empty reply");
      for (const [segment, entries] of reply.segments) {
        if (entries !== null) keys.push(...this.compareSegment(segment, entries));
      }
      const answered = new Set(reply.segments.map(([segment]) => segment));
      rest = rest.filter((segment) => !answered.has(segment));
    }
    return { keys: keys.slice(0, keysPerExchangeMax), complete: rest.length === 0 && keys.length <= keysPerExchangeMax };
  }

  private compareSegment(segment: number, remote: [Uint8Array, Uint8Array][]): Uint8Array[] {
    const local = new Map(this.context.trees.listSegment(this.tree, segment, this.context.bounds.keysPerReplyMax + 1).map((e) => [keyName(e.itemKey), e]));
    const differing: Uint8Array[] = [];
    for (const [itemKey, hash] of remote) {
      const name = keyName(itemKey);
      const mine = local.get(name);
      local.delete(name);
      if (mine === undefined || !versionHashesEqual(mine.hash, hash)) differing.push(itemKey);
    }
    for (const mine of local.values()) differing.push(mine.itemKey);
    return differing;
  }

  /** Syncs a batch both ways through the normal merge; returns the keys either side changed. */
  private async repair(keys: Uint8Array[]): Promise<number> {
    const reply = await this.request<{ sets: unknown[] }>({ type: "anti-entropy.fetch", keys });
    if (!Array.isArray(reply.sets) || reply.sets.length !== keys.length) throw new ExchangeFailure("fetch: malformed reply");
    const pushes: [Uint8Array, DottedVersionVectorSet<Sibling>][] = [];
    let changed = 0;
    for (const [i, key] of keys.entries()) {
      const remote = parseRemoteSet(reply.sets[i]);
      const before = this.context.replica.fetch(key);
      if (remote !== undefined) {
        await this.context.replica.merge(key, remote);
        this.context.trees.forgetWrite(this.tree, key);
      }
      const after = this.context.replica.fetch(key);
      const localChanged = after !== undefined && (before === undefined || !dvvset.equal(before, after));
      const remoteBehind = after !== undefined && (remote === undefined || !dvvset.equal(remote, after));
      if (remoteBehind) pushes.push([key, after]);
      if (localChanged || remoteBehind) changed++;
    }
    if (pushes.length > 0) await this.request({ type: "anti-entropy.merge", entries: pushes });
    return changed;
  }

  private async request<T>(message: AntiEntropyRequest): Promise<T> {
    const result = await this.context.network.request<{ ok?: unknown; error?: unknown }>(this.peer, message, { timeoutMs: this.context.requestTimeoutMs });
    const bytes = packr.pack(message).length + (result.ok ? packr.pack(result.reply).length : 0);
    this.traffic.messages += result.ok ? 2 : 1;
    this.traffic.bytes += bytes;
    if (!result.ok) throw new ExchangeFailure(`${message.type}: ${result.error}`);
    const reply = result.reply;
    if (reply === null || typeof reply !== "object" || reply.ok !== true) throw new ExchangeFailure(`${message.type}: ${String((reply as { error?: unknown } | null)?.error ?? "malformed reply")}`);
    await this.context.pace?.(bytes);
    return reply as T;
  }

  private done(outcome: { agreed: boolean; complete: boolean; keysDiffering: number; keysRepaired: number; segmentsDeferred: number }): ExchangeResult {
    return { ok: true, ...outcome, ...this.traffic };
  }
}

function parseRemoteSet(data: unknown): DottedVersionVectorSet<Sibling> | undefined {
  if (data === null || data === undefined) return undefined;
  const parsed = dvvset.parse(data, isSibling);
  if (!parsed.ok) throw new ExchangeFailure(`fetch: ${parsed.error}`);
  return parsed.set;
}

function sameHashAt(a: Uint8Array, b: Uint8Array, index: number): boolean {
  const at = index * VERSION_HASH_BYTES;
  for (let i = at; i < at + VERSION_HASH_BYTES; i++) if (a[i] !== b[i]) return false;
  return true;
}

function range(count: number): number[] {
  return Array.from({ length: count }, (_, i) => i);
}

function keyName(itemKey: Uint8Array): string {
  return Buffer.from(itemKey.buffer, itemKey.byteOffset, itemKey.byteLength).toString("latin1");
}
