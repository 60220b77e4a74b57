import { assert } from "../assert.js";
import { canonicalJson } from "./catalog-digest.js";
import { compareStamps, maxStamp, type NameRecord, type TableIncarnation, type TableSettings } from "./catalog-record.js";

/**
 * The catalog's merge rule, the same on every node (a state-based CRDT in the sense of Shapiro
 * et al., 2011, with one deliberate exception below):
 *
 * 1. The drop floor is the maximum of both floors.
 * 2. Incarnations are united by table id. Two copies of one create keep the settings with the
 *    higher stamp (last writer wins on replication and extensions) and are dead if either is.
 * 3. Settle: every incarnation created below the drop floor dies (a drop beats every create it
 *    saw, and every create with a lower stamp); of the incarnations still live, the one created
 *    first (lowest stamp, then lowest node id) stays and the others die (concurrent creates of
 *    one name keep one table).
 *
 * Death is sticky: an incarnation dead on any node stays dead once merged anywhere, because a
 * node that saw it die may already have purged its items. That makes the merge commutative and
 * idempotent but not associative in one corner (two concurrent creates, and a drop stamped
 * between them by a node that saw only the first: whether the second survives depends on
 * whether some node saw both creates before the drop). Nodes still converge: every state is a
 * settled union of the same events plus a growing set of death marks, and after they all
 * exchange, every node holds every mark. A table that was dead somewhere never comes back.
 */
export function mergeNameRecords(a: NameRecord, b: NameRecord): NameRecord {
  assert(a.name === b.name, `cannot merge catalog records of "${a.name}" and "${b.name}"`);
  const byId = new Map<number, TableIncarnation>();
  for (const incarnation of [...a.incarnations, ...b.incarnations]) {
    const known = byId.get(incarnation.id);
    byId.set(incarnation.id, known === undefined ? incarnation : mergeIncarnations(known, incarnation));
  }
  const incarnations = [...byId.values()].sort((x, y) => x.id - y.id);
  return settleNameRecord({ name: a.name, dropFloor: maxStamp(a.dropFloor, b.dropFloor), incarnations });
}

/** Applies rule 3; a settled record has at most one live incarnation. */
export function settleNameRecord(record: NameRecord): NameRecord {
  const { dropFloor } = record;
  const survivors = record.incarnations.filter((i) => !i.dead && (dropFloor === null || compareStamps(i.created, dropFloor) > 0));
  const first = survivors.reduce<TableIncarnation | undefined>((best, i) => (best === undefined || compareStamps(i.created, best.created) < 0 ? i : best), undefined);
  const incarnations = record.incarnations.map((i) => (i.dead || i === first ? i : killIncarnation(i)));
  return { name: record.name, dropFloor, incarnations };
}

/**
 * A dead incarnation keeps its id, stamps and modes (so its id is never reused and its items
 * get purged) but not its extensions, which only a live table needs; that keeps the
 * catalog's size proportional to live tables' data plus a few dozen bytes per dead one.
 */
export function killIncarnation(incarnation: TableIncarnation): TableIncarnation {
  const { stamp, replication } = incarnation.settings;
  return { ...incarnation, dead: true, settings: { stamp, replication } };
}

function mergeIncarnations(a: TableIncarnation, b: TableIncarnation): TableIncarnation {
  const sameCreate = compareStamps(a.created, b.created) === 0;
  if (!sameCreate) {
    // Two creates derived one id (table-id.ts makes this about 2^-32 per pair of creates no
    // node saw together). Items of both may sit under the id, so neither can be trusted: keep
    // the earlier create's identity, dead, on every node alike.
    const earlier = compareStamps(a.created, b.created) < 0 ? a : b;
    return killIncarnation(earlier);
  }
  const settings = laterSettings(a.settings, b.settings);
  const merged: TableIncarnation = { ...a, settings };
  return a.dead || b.dead ? killIncarnation(merged) : merged;
}

/**
 * The settings with the higher stamp. One node never stamps two updates alike (its HLC only
 * moves forward), but a tie must still resolve the same on every node, so it falls back to the
 * canonical encoding.
 */
function laterSettings(a: TableSettings, b: TableSettings): TableSettings {
  const order = compareStamps(a.stamp, b.stamp);
  if (order !== 0) return order > 0 ? a : b;
  return canonicalJson(a) >= canonicalJson(b) ? a : b;
}
