import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { claimInitial, claimJoin, claimLeave, reclaim, type ClaimResult } from "./claim.js";
import { movedPartitionCount, ringDiff } from "./ring-diff.js";
import { preferenceList } from "./preference-list.js";
import { partitionShares, ringMembersMax, ringProblem, ringState, ringsEqual, type RingMember, type RingState } from "./ring-state.js";

const node = (i: number): RingMember => ({ id: `node-${String(i).padStart(2, "0")}` });
const nodes = (count: number, from = 0): RingMember[] => Array.from({ length: count }, (_, i) => node(from + i));

function ok(result: ClaimResult): RingState {
  assert.ok(result.ok, `claim failed: ${JSON.stringify(result)}`);
  return result.ring;
}

function shares(ring: RingState): number[] {
  return [...partitionShares(ring).values()];
}

/** Partitions whose owner owns another of the next `window - 1` partitions too. */
function spacingViolations(ring: RingState, window: number): number {
  let violations = 0;
  for (let p = 0; p < ring.partitionCount; p++) {
    for (let k = 1; k < window; k++) {
      if (ring.owners[(p + k) % ring.partitionCount] === ring.owners[p]) {
        violations++;
        break;
      }
    }
  }
  return violations;
}

/** The longest walk, over all partitions, that preferenceList needs to find n distinct owners. */
function longestWalk(ring: RingState, n: number): number {
  const wanted = Math.min(n, ring.members.length);
  let longest = 0;
  for (let p = 0; p < ring.partitionCount; p++) {
    const seen = new Set<string>();
    let steps = 0;
    while (seen.size < wanted) seen.add(ring.owners[(p + steps++) % ring.partitionCount]!);
    longest = Math.max(longest, steps);
  }
  return longest;
}

type Step = { kind: "join" } | { kind: "leave"; pick: number };

/** Applies join/leave steps, keeping 1..16 members; yields every intermediate ring with its step. */
function* replay(start: RingState, steps: readonly Step[], firstNewNode: number): Generator<{ before: RingState; after: RingState; step: Step; joined?: string; left?: string }> {
  let ring = start;
  let next = firstNewNode;
  for (const step of steps) {
    const size = ring.members.length;
    if ((step.kind === "join" && size < 16 && size < ring.partitionCount) || size === 1) {
      const member = node(next++);
      const after = ok(claimJoin(ring, member));
      yield { before: ring, after, step, joined: member.id };
      ring = after;
    } else {
      const leaver = ring.members[(step.kind === "leave" ? step.pick : 0) % size]!.id;
      const after = ok(claimLeave(ring, leaver));
      yield { before: ring, after, step, left: leaver };
      ring = after;
    }
  }
}

const partitionCounts = fc.constantFrom(16, 32, 64, 128, 256);
const stepsArbitrary = fc.array(fc.oneof(fc.constant<Step>({ kind: "join" }), fc.nat(15).map((pick): Step => ({ kind: "leave", pick }))), { maxLength: 10 });
const scenario = fc
  .record({ partitionCount: partitionCounts, size: fc.integer({ min: 1, max: 16 }), steps: stepsArbitrary })
  .filter(({ partitionCount, size }) => size <= partitionCount);
const propertyOptions = { seed: 0x41e6, numRuns: 100 };

test("the first claim gives every member floor(P/M) or ceil(P/M) partitions", () => {
  for (const partitionCount of [8, 64, 256, 1024]) {
    for (let size = 1; size <= Math.min(16, partitionCount); size++) {
      const ring = ok(claimInitial(nodes(size), { partitionCount }));
      const counts = shares(ring);
      assert.equal(counts.length, size);
      assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `P=${partitionCount} M=${size}: ${counts}`);
      assert.equal(ring.version, 1);
      assert.equal(ringProblem(ring), undefined);
    }
  }
});

test("max/min share is at most 1.25 for 3..16 nodes whenever P >= 4 per node (the default 256 included)", () => {
  for (const partitionCount of [64, 128, 256, 512, 1024]) {
    for (let size = 3; size <= 16; size++) {
      const counts = shares(ok(claimInitial(nodes(size), { partitionCount })));
      assert.ok(Math.max(...counts) / Math.min(...counts) <= 1.25, `P=${partitionCount} M=${size}: ${counts}`);
    }
  }
});

test("the 1.25 bound needs P >= 4 per node: 32 partitions over 12 nodes cannot meet it", () => {
  const counts = shares(ok(claimInitial(nodes(12), { partitionCount: 32 })));
  assert.equal(Math.max(...counts) / Math.min(...counts), 1.5);
});

test("law: shares stay within one of each other over any join/leave sequence", () => {
  fc.assert(
    fc.property(scenario, ({ partitionCount, size, steps }) => {
      for (const { after } of replay(ok(claimInitial(nodes(size), { partitionCount })), steps, size)) {
        const counts = shares(after);
        assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `${counts}`);
        if (after.members.length >= 3 && partitionCount >= 4 * after.members.length) assert.ok(Math.max(...counts) / Math.min(...counts) <= 1.25, `${counts}`);
        assert.equal(ringProblem(after), undefined);
      }
    }),
    propertyOptions,
  );
});

test("law: a join moves exactly the joiner's share, floor(P/M), all of it to the joiner", () => {
  fc.assert(
    fc.property(scenario, ({ partitionCount, size, steps }) => {
      for (const { before, after, joined } of replay(ok(claimInitial(nodes(size), { partitionCount })), steps, size)) {
        if (joined === undefined) continue;
        const minimum = Math.floor(partitionCount / after.members.length);
        const transfers = ringDiff(before, after);
        assert.equal(transfers.length, minimum);
        assert.deepEqual(transfers.filter((t) => t.to !== joined), []);
        assert.equal(after.version, before.version + 1);
      }
    }),
    propertyOptions,
  );
});

test("law: a leave moves only the leaver's partitions", () => {
  fc.assert(
    fc.property(scenario, ({ partitionCount, size, steps }) => {
      for (const { before, after, left } of replay(ok(claimInitial(nodes(size), { partitionCount })), steps, size)) {
        if (left === undefined) continue;
        const transfers = ringDiff(before, after);
        assert.equal(transfers.length, before.owners.filter((o) => o === left).length);
        assert.deepEqual(transfers.filter((t) => t.from !== left), []);
        assert.equal(after.owners.includes(left) || after.members.some((m) => m.id === left), false, "the leaver is gone");
      }
    }),
    propertyOptions,
  );
});

test("law: claim is deterministic and ignores the order members are given in", () => {
  fc.assert(
    fc.property(scenario, fc.integer(), ({ partitionCount, size, steps }, shuffleSeed) => {
      const members = nodes(size);
      const shuffled = [...members].sort((a, b) => ((a.id.charCodeAt(6) * 31 + shuffleSeed) % 7) - ((b.id.charCodeAt(6) * 31 + shuffleSeed) % 7));
      const first = ok(claimInitial(members, { partitionCount }));
      assert.ok(ringsEqual(first, ok(claimInitial(shuffled, { partitionCount }))), "member order changed the ring");
      const a = [...replay(first, steps, size)].map((s) => s.after);
      const b = [...replay(ok(claimInitial(members, { partitionCount })), steps, size)].map((s) => s.after);
      assert.equal(a.length, b.length);
      a.forEach((ring, i) => assert.ok(ringsEqual(ring, b[i]!), `step ${i} differs between two runs`));
    }),
    { ...propertyOptions, numRuns: 60 },
  );
});

test("the first claim spaces owners: any 4 consecutive partitions are distinct for 6..16 nodes at P >= 128", () => {
  for (const partitionCount of [128, 256, 512, 1024]) {
    for (let size = 6; size <= 16; size++) {
      const ring = ok(claimInitial(nodes(size), { partitionCount }));
      assert.equal(spacingViolations(ring, 4), 0, `P=${partitionCount} M=${size}`);
    }
  }
});

test("the first claim finds a preference list of 3 within 4 partitions for 3..16 nodes", () => {
  for (const partitionCount of [64, 256, 1024]) {
    for (let size = 3; size <= 16; size++) {
      const ring = ok(claimInitial(nodes(size), { partitionCount }));
      assert.ok(longestWalk(ring, 3) <= 4, `P=${partitionCount} M=${size}: walk ${longestWalk(ring, 3)}`);
    }
  }
});

test("a diagonal ring would fail the spacing check (the check can fail)", () => {
  // 256 partitions dealt round-robin over 11 nodes wrap badly at partition 0: 256 mod 11 = 3,
  // so the last three owners come round again 3 partitions later.
  const members = nodes(11);
  const owners = Array.from({ length: 256 }, (_, p) => members[p % 11]!.id);
  assert.equal(spacingViolations(ringState({ version: 1, partitionCount: 256, owners, members }), 4), 3);
});

test("law: joins into 8 or more nodes keep any 3 consecutive partitions distinct when they were", () => {
  let checked = 0;
  fc.assert(
    fc.property(scenario, ({ partitionCount, size, steps }) => {
      for (const { before, after, joined } of replay(ok(claimInitial(nodes(size), { partitionCount })), steps, size)) {
        if (joined === undefined || after.members.length < 8 || partitionCount < 8 * after.members.length) continue;
        if (spacingViolations(before, 3) > 0) continue;
        assert.equal(spacingViolations(after, 3), 0);
        checked++;
      }
    }),
    propertyOptions,
  );
  assert.ok(checked >= 20, `only ${checked} joins checked`);
});

/** Max over min of how many partitions' preference lists of n each member is in. */
function replicaLoadRatio(ring: RingState, n: number): number {
  const load = new Map<string, number>();
  for (let p = 0; p < ring.partitionCount; p++) for (const id of preferenceList(ring, p, n)) load.set(id, (load.get(id) ?? 0) + 1);
  return Math.max(...load.values()) / Math.min(...load.values());
}

test("law: with 4 or more nodes, after any join/leave sequence, preference lists of 3 stay short and even", () => {
  // With 3 nodes every list holds all three whatever the walk, so spacing there only costs CPU.
  let loadsChecked = 0;
  fc.assert(
    fc.property(scenario, ({ partitionCount, size, steps }) => {
      for (const { after } of replay(ok(claimInitial(nodes(size), { partitionCount })), steps, size)) {
        if (after.members.length < 4) continue;
        assert.ok(longestWalk(after, 3) <= 10, `walk ${longestWalk(after, 3)} with ${after.members.length} nodes`);
        if (partitionCount < 8 * after.members.length) continue;
        assert.ok(replicaLoadRatio(after, 3) <= 1.5, `replica load ${replicaLoadRatio(after, 3)}`);
        loadsChecked++;
      }
    }),
    propertyOptions,
  );
  assert.ok(loadsChecked >= 50, `only ${loadsChecked} rings checked`);
});

test("claim refuses more than ringMembersMax members", () => {
  const result = claimInitial(nodes(ringMembersMax + 1), { partitionCount: 1024 });
  assert.deepEqual(result, { ok: false, error: { code: "too-many-members", members: ringMembersMax + 1, partitionCount: 1024, membersMax: ringMembersMax } });
});

test("claimJoin of a present member and claimLeave of an absent one change nothing", () => {
  const ring = ok(claimInitial(nodes(4), { partitionCount: 64 }));
  assert.equal(ok(claimJoin(ring, node(2))), ring);
  assert.equal(ok(claimLeave(ring, "nobody")), ring);
});

test("claim refuses no members and more members than partitions, as values", () => {
  assert.deepEqual(claimInitial([], { partitionCount: 8 }), { ok: false, error: { code: "no-members" } });
  assert.deepEqual(claimInitial(nodes(9), { partitionCount: 8 }), { ok: false, error: { code: "too-many-members", members: 9, partitionCount: 8, membersMax: 8 } });
  const full = ok(claimInitial(nodes(8), { partitionCount: 8 }));
  assert.deepEqual(claimJoin(full, node(8)), { ok: false, error: { code: "too-many-members", members: 9, partitionCount: 8, membersMax: 8 } });
  const single = ok(claimInitial(nodes(1), { partitionCount: 8 }));
  assert.deepEqual(claimLeave(single, node(0).id), { ok: false, error: { code: "no-members" } });
});

test("claim asserts on duplicated members and a bad partition count", () => {
  assert.throws(() => claimInitial([node(1), node(1)], { partitionCount: 8 }), /appears twice/);
  assert.throws(() => claimInitial(nodes(2), { partitionCount: 12 }), /power of two/);
  assert.throws(() => claimInitial(nodes(2), { partitionCount: 8, targetNVal: 0 }), /targetNVal/);
});

test("reclaim evens out an unbalanced ring with the fewest moves", () => {
  const members = nodes(2);
  const owners = ["node-00", "node-00", "node-00", "node-00", "node-00", "node-00", "node-01", "node-01"];
  const ring = ringState({ version: 5, partitionCount: 8, owners, members });
  const next = ok(reclaim(ring, members));
  assert.deepEqual(shares(next), [4, 4]);
  assert.equal(movedPartitionCount(ring, next), 2);
  assert.equal(next.version, 6);
});

test("a single node owns every partition", () => {
  const ring = ok(claimInitial(nodes(1), { partitionCount: 16 }));
  assert.deepEqual(new Set(ring.owners), new Set(["node-00"]));
});

test("the default partition count is 256", () => {
  assert.equal(ok(claimInitial(nodes(3))).partitionCount, 256);
});

test("members keep their zones through claim", () => {
  const ring = ok(claimInitial([{ id: "a", zone: "z1" }, { id: "b", zone: "z2" }], { partitionCount: 8 }));
  const joined = ok(claimJoin(ring, { id: "c", zone: "z1" }));
  assert.deepEqual(joined.members, [{ id: "a", zone: "z1" }, { id: "b", zone: "z2" }, { id: "c", zone: "z1" }]);
});
