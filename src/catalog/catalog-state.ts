import { CatalogDigest, bucketOfName, canonicalJson, hashNameRecord } from "./catalog-digest.js";
import { definitionOf, liveIncarnation, type NameRecord } from "./catalog-record.js";
import { killIncarnation, mergeNameRecords } from "./merge-name-record.js";
import type { TableDefinition } from "./table-definition.js";

/**
 * The catalog in memory: every name's record, and what the hot paths read derived from them
 * (the live definition by name, the live ids, every id ever seen, the digest). Synchronous and
 * free of I/O: TableCatalog persists what `apply` changed.
 *
 * Ids clashing across names (two creates no node saw together derived one id, table-id.ts): a
 * live incarnation arriving with an id another name already holds dies here. Nodes that saw the
 * two in different orders kill different ones, and the sticky death marks then kill both
 * everywhere; nodes that all saw one order agree on that one. Either way every node converges,
 * and an id is never queued for purging while a live table holds it.
 */
export interface AppliedChange {
  /** The name's record after the merge (the same object when nothing changed). */
  record: NameRecord;
  changed: boolean;
  /** Ids that died here, or arrived dead and unseen: their items must be purged. */
  died: number[];
}

export class CatalogState {
  private readonly records = new Map<string, NameRecord>();
  private readonly live = new Map<string, TableDefinition>();
  private readonly liveIds = new Set<number>();
  /** Every id any record holds, live or dead, and the name holding it. */
  private readonly idOwners = new Map<number, string>();
  private readonly recordBytes = new Map<string, number>();
  /** Names by digest bucket, so a sync reply reads only the buckets it needs. */
  private readonly bucketNames = new Map<number, Set<string>>();
  private incarnationTotal = 0;
  readonly digest = new CatalogDigest();

  record(name: string): NameRecord | undefined {
    return this.records.get(name);
  }

  definition(name: string): TableDefinition | undefined {
    return this.live.get(name);
  }

  definitions(): TableDefinition[] {
    return [...this.live.values()];
  }

  isLive(id: number): boolean {
    return this.liveIds.has(id);
  }

  isIdSeen(id: number): boolean {
    return this.idOwners.has(id);
  }

  get liveCount(): number {
    return this.live.size;
  }

  get incarnationCount(): number {
    return this.incarnationTotal;
  }

  /** Merges `incoming` into the name's record and updates every index. */
  apply(incoming: NameRecord): AppliedChange {
    const before = this.records.get(incoming.name);
    const merged = this.resolveIdClashes(before === undefined ? incoming : mergeNameRecords(before, incoming));
    // Compared exactly, not by hash: a missed change could be a drop.
    if (before !== undefined && canonicalJson(before) === canonicalJson(merged)) return { record: before, changed: false, died: [] };
    const { hash, bytes } = hashNameRecord(merged);
    const died = this.diedIds(before, merged);
    this.replace(before, merged);
    this.digest.set(merged.name, hash);
    this.recordBytes.set(merged.name, bytes);
    return { record: merged, changed: true, died: died.filter((id) => !this.liveIds.has(id)) };
  }

  /**
   * Records of the given digest buckets, bucket by bucket in the order given, up to about
   * `bytesMax` (always at least one record if any exists).
   */
  recordsInBuckets(buckets: readonly number[], bytesMax: number): NameRecord[] {
    const result: NameRecord[] = [];
    let bytes = 0;
    for (const bucket of buckets) {
      for (const name of this.bucketNames.get(bucket) ?? []) {
        const size = this.recordBytes.get(name) ?? 0;
        if (result.length > 0 && bytes + size > bytesMax) return result;
        result.push(this.records.get(name)!);
        bytes += size;
      }
    }
    return result;
  }

  private diedIds(before: NameRecord | undefined, after: NameRecord): number[] {
    const wasLive = new Set((before?.incarnations ?? []).filter((i) => !i.dead).map((i) => i.id));
    return after.incarnations.filter((i) => i.dead && (wasLive.has(i.id) || !this.idOwners.has(i.id))).map((i) => i.id);
  }

  private replace(before: NameRecord | undefined, after: NameRecord): void {
    for (const incarnation of before?.incarnations ?? []) this.liveIds.delete(incarnation.id);
    this.incarnationTotal += after.incarnations.length - (before?.incarnations.length ?? 0);
    for (const incarnation of after.incarnations) {
      if (!this.idOwners.has(incarnation.id)) this.idOwners.set(incarnation.id, after.name);
    }
    if (before === undefined) {
      const bucket = bucketOfName(after.name);
      const names = this.bucketNames.get(bucket) ?? new Set<string>();
      this.bucketNames.set(bucket, names.add(after.name));
    }
    this.records.set(after.name, after);
    const live = liveIncarnation(after);
    if (live === undefined) this.live.delete(after.name);
    else {
      this.live.set(after.name, definitionOf(after.name, live));
      this.liveIds.add(live.id);
    }
  }

  /** Kills a live incarnation whose id another name holds (see above). */
  private resolveIdClashes(record: NameRecord): NameRecord {
    let clashed = false;
    const incarnations = record.incarnations.map((incarnation) => {
      if (incarnation.dead) return incarnation;
      const owner = this.idOwners.get(incarnation.id);
      if (owner === undefined || owner === record.name) return incarnation;
      clashed = true;
      return killIncarnation(incarnation);
    });
    return clashed ? { ...record, incarnations } : record;
  }
}
