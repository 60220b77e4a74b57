import { test } from "node:test";
import assert from "node:assert/strict";
import { originsMax, type AcceptedState } from "./acceptor-record.js";
import { ballotZero, type Ballot } from "./ballot.js";
import { applyChanges, type PendingChange } from "./change-batch.js";
import type { StrongDecision, StrongVersioned } from "./strong-coordinator.js";

// One round's changes applied in order to what phase 1 found: what each caller sees, what the
// round proposes, and the lineage it carries.

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const b = (counter: number): Ballot => ({ counter, node: "n1" });
const nowMs = 1_000_000;
let clock = 100;
const stamp = (after: number): number => Math.max(++clock, after + 1);

function set(text: string, expiresAtMs: number | null = null): StrongDecision {
  return { type: "set", value: { value: encoder.encode(text), contentType: "text/plain", metadata: [], expiresAtMs } };
}

function change(decide: (current: StrongVersioned | undefined) => StrongDecision): PendingChange {
  return { decide, read: false };
}

function accepted(text: string | undefined, origins: Ballot[], expiresAtMs: number | null = null): AcceptedState {
  const value = text === undefined ? undefined : { value: encoder.encode(text), contentType: "text/plain", metadata: [], expiresAtMs, timestamp: 50, version: "old" };
  return { ballot: origins.at(-1) ?? b(1), value, acceptedAtMs: 0, origins, originsFloor: ballotZero };
}

const show = (value: StrongVersioned | undefined): string | undefined => (value === undefined ? undefined : decoder.decode(value.value));

test("combined changes each see the value the previous one left, and the round proposes the last", () => {
  const append = (suffix: string) => change((current) => set(`${show(current) ?? ""}${suffix}`));
  const applied = applyChanges({ highest: accepted("a", [b(1)]), collectedFloor: ballotZero, changes: [append("b"), append("c"), change(() => ({ type: "keep" }))], ballot: b(5), nowMs, stamp });
  assert.deepEqual(
    applied.outcomes.map((o) => (o.ok ? [show(o.change.before), show(o.change.after)] : "threw")),
    [
      ["a", "ab"],
      ["ab", "abc"],
      ["abc", "abc"],
    ],
  );
  assert.equal(show(applied.proposal.value), "abc");
  assert.ok(applied.changed);
  assert.deepEqual(applied.proposal.origins, [b(5)], "n1's later round replaces its entry");
});

test("values of one round get distinct versions and increasing timestamps", () => {
  const applied = applyChanges({ highest: undefined, collectedFloor: ballotZero, changes: [change(() => set("x")), change(() => set("y"))], ballot: b(7), nowMs, stamp });
  const afters = applied.outcomes.map((o) => (o.ok ? o.change.after! : undefined)!);
  assert.deepEqual(
    afters.map((v) => v.version),
    ["7.n1", "7.n1#1"],
  );
  assert.ok(afters[1]!.timestamp > afters[0]!.timestamp);
});

test("keeping, or deleting what is absent, changes nothing and extends no lineage", () => {
  const kept = applyChanges({ highest: accepted("a", [b(1)]), collectedFloor: ballotZero, changes: [change(() => ({ type: "keep" }))], ballot: b(5), nowMs, stamp });
  assert.equal(kept.changed, false);
  assert.equal(kept.proposal.value?.version, "old");
  assert.deepEqual(kept.proposal.origins, [b(1)]);
  const deleted = applyChanges({ highest: undefined, collectedFloor: b(3), changes: [change(() => ({ type: "delete" }))], ballot: b(5), nowMs, stamp });
  assert.equal(deleted.changed, false);
  assert.deepEqual(deleted.proposal, { value: undefined, origins: [], originsFloor: b(3) }, "a lineage from nothing starts above the collected floor");
});

test("an expired value reads as absent and is kept as a tombstone", () => {
  const applied = applyChanges({ highest: accepted("old", [b(1)], nowMs - 1), collectedFloor: ballotZero, changes: [change(() => ({ type: "keep" }))], ballot: b(5), nowMs, stamp });
  assert.equal(applied.outcomes[0]!.ok && applied.outcomes[0]!.change.before, undefined);
  assert.equal(applied.proposal.value, undefined);
  assert.equal(applied.changed, false);
});

test("a decide that throws fails alone and counts as keep for the others", () => {
  const applied = applyChanges({
    highest: accepted("a", [b(1)]),
    collectedFloor: ballotZero,
    changes: [
      change(() => {
        throw new Error("boom");
      }),
      change((current) => set(`${show(current)}!`)),
    ],
    ballot: b(5),
    nowMs,
    stamp,
  });
  assert.equal(applied.outcomes[0]!.ok, false);
  assert.equal(show(applied.proposal.value), "a!");
});

test("the lineage keeps each proposer's latest origin", () => {
  const applied = applyChanges({ highest: accepted("a", [b(1), { counter: 2, node: "n2" }]), collectedFloor: ballotZero, changes: [change(() => set("z"))], ballot: b(9), nowMs, stamp });
  assert.deepEqual(applied.proposal.origins, [{ counter: 2, node: "n2" }, b(9)]);
  assert.deepEqual(applied.proposal.originsFloor, ballotZero);
});

test("past originsMax proposers the lineage drops the oldest and raises its floor past it", () => {
  const full = Array.from({ length: originsMax }, (_, i) => ({ counter: i + 1, node: `p${i}` }));
  const applied = applyChanges({ highest: accepted("a", full), collectedFloor: ballotZero, changes: [change(() => set("z"))], ballot: b(100), nowMs, stamp });
  assert.equal(applied.proposal.origins.length, originsMax);
  assert.deepEqual(applied.proposal.origins.at(-1), b(100));
  assert.deepEqual(applied.proposal.originsFloor, full[0]);
  assert.ok(!applied.proposal.origins.some((o) => o.counter === 1));
});
