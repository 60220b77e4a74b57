import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { compareStamps, liveIncarnation, type CatalogStamp, type NameRecord, type TableIncarnation } from "./catalog-record.js";
import { mergeNameRecords, settleNameRecord } from "./merge-name-record.js";

// The laws of the catalog's merge rule over small universes of creates, updates and drops of
// one name: what every node relies on to converge without coordination.

const nodes = ["a", "b", "c"] as const;
const runs = { numRuns: 200, seed: 7 };

type CatalogEvent =
  | { kind: "create"; created: CatalogStamp }
  | { kind: "update"; created: CatalogStamp; stamp: CatalogStamp; n: number }
  | { kind: "drop"; stamp: CatalogStamp };

const stampArb = fc.record({ at: fc.integer({ min: 1, max: 30 }), by: fc.constantFrom(...nodes) }).map((s): CatalogStamp => ({ at: s.at, by: s.by }));
const eventArb: fc.Arbitrary<CatalogEvent> = fc.oneof(
  stampArb.map((created): CatalogEvent => ({ kind: "create", created })),
  fc.tuple(stampArb, stampArb, fc.integer({ min: 1, max: 5 })).map(([created, stamp, n]): CatalogEvent => ({ kind: "update", created, stamp: { at: created.at + stamp.at, by: stamp.by }, n })),
  stampArb.map((stamp): CatalogEvent => ({ kind: "drop", stamp })),
);

/** One create's id: a pure function of its stamp, as table-id.ts makes it. */
function idOf(created: CatalogStamp): number {
  return created.at * 10 + nodes.indexOf(created.by as (typeof nodes)[number]) + 1;
}

function incarnation(created: CatalogStamp, stamp: CatalogStamp, n: number): TableIncarnation {
  const extensions = { n };
  return { id: idOf(created), created, createdAtMs: created.at, consistency: "eventual", conflicts: "siblings", settings: { stamp, replication: { n, r: 1, w: 1 }, extensions }, dead: false };
}

function recordOf(event: CatalogEvent): NameRecord {
  switch (event.kind) {
    case "create":
      return settleNameRecord({ name: "t", dropFloor: null, incarnations: [incarnation(event.created, event.created, 3)] });
    case "update":
      return settleNameRecord({ name: "t", dropFloor: null, incarnations: [incarnation(event.created, event.stamp, event.n)] });
    case "drop":
      return { name: "t", dropFloor: event.stamp, incarnations: [] };
  }
}

/** A replica's state after it saw `events`, in order. */
function replicaOf(events: readonly CatalogEvent[]): NameRecord {
  return events.reduce<NameRecord>((state, event) => mergeNameRecords(state, recordOf(event)), { name: "t", dropFloor: null, incarnations: [] });
}

const replicaArb = fc.array(eventArb, { maxLength: 8 }).map(replicaOf);

test("merge is commutative", () => {
  fc.assert(fc.property(replicaArb, replicaArb, (a, b) => assert.deepEqual(mergeNameRecords(a, b), mergeNameRecords(b, a))), runs);
});

test("merge is idempotent on settled records", () => {
  fc.assert(fc.property(replicaArb, (a) => assert.deepEqual(mergeNameRecords(a, a), a)), runs);
});

test("a merged record has at most one live table, created after the drop floor", () => {
  fc.assert(
    fc.property(replicaArb, replicaArb, (a, b) => {
      const merged = mergeNameRecords(a, b);
      assert.ok(merged.incarnations.filter((i) => !i.dead).length <= 1);
      const live = liveIncarnation(merged);
      if (live !== undefined && merged.dropFloor !== null) assert.ok(compareStamps(live.created, merged.dropFloor) > 0);
    }),
    runs,
  );
});

test("of concurrent live creates the one with the lowest stamp stays", () => {
  fc.assert(
    fc.property(fc.uniqueArray(stampArb, { minLength: 2, maxLength: 4, selector: (s) => `${s.at}/${s.by}` }), (stamps) => {
      const merged = replicaOf(stamps.map((created) => ({ kind: "create", created })));
      const lowest = [...stamps].sort(compareStamps)[0]!;
      assert.equal(liveIncarnation(merged)?.id, idOf(lowest));
    }),
    runs,
  );
});

test("a dead table stays dead through any later merge", () => {
  fc.assert(
    fc.property(replicaArb, replicaArb, (a, b) => {
      const merged = mergeNameRecords(a, b);
      const dead = new Set([...a.incarnations, ...b.incarnations].filter((i) => i.dead).map((i) => i.id));
      for (const i of merged.incarnations) if (dead.has(i.id)) assert.ok(i.dead, `table ${i.id} came back`);
    }),
    runs,
  );
});

test("replicas that saw different events in different orders converge once they exchange", () => {
  fc.assert(
    fc.property(
      fc.array(fc.array(eventArb, { maxLength: 6 }), { minLength: 2, maxLength: 4 }),
      fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 10 }),
      (histories, gossip) => {
        const replicas = histories.map(replicaOf);
        const count = replicas.length;
        for (const [from, to] of gossip) replicas[to % count] = mergeNameRecords(replicas[to % count]!, replicas[from % count]!);
        // Anti-entropy until nothing changes (death marks are finite, so this terminates).
        for (let round = 0; round < 4; round++) {
          for (let i = 0; i < count; i++) for (let j = 0; j < count; j++) replicas[j] = mergeNameRecords(replicas[j]!, replicas[i]!);
        }
        for (const replica of replicas) assert.deepEqual(replica, replicas[0]);
        assert.deepEqual(mergeNameRecords(replicas[0]!, replicas[0]!), replicas[0]);
      },
    ),
    runs,
  );
});

test("the latest update of a live table wins on every replica", () => {
  const created = { at: 1, by: "a" };
  const early = recordOf({ kind: "update", created, stamp: { at: 5, by: "b" }, n: 2 });
  const late = recordOf({ kind: "update", created, stamp: { at: 5, by: "c" }, n: 4 });
  for (const merged of [mergeNameRecords(early, late), mergeNameRecords(late, early)]) {
    assert.equal(liveIncarnation(merged)?.settings.replication.n, 4);
  }
});

test("two creates that derived one id both die, so neither table's items are trusted", () => {
  const first = incarnation({ at: 1, by: "a" }, { at: 1, by: "a" }, 3);
  const clash = { ...incarnation({ at: 2, by: "b" }, { at: 2, by: "b" }, 3), id: first.id };
  const merged = mergeNameRecords({ name: "t", dropFloor: null, incarnations: [first] }, { name: "t", dropFloor: null, incarnations: [clash] });
  assert.equal(liveIncarnation(merged), undefined);
  assert.equal(merged.incarnations.length, 1);
});
