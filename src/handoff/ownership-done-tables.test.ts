import { test } from "node:test";
import assert from "node:assert/strict";
import { createTestRuntime } from "../node/test-runtime.js";
import { claimInitial, reclaim } from "../ring/claim.js";
import { ringHash } from "../ring/ring-hash.js";
import { ringTransition, type RingState } from "../ring/ring-state.js";
import type { Network } from "../runtime/network.js";
import { MemoryStorageEngine } from "../storage/memory-storage-engine.js";
import { parseTransferDone, transferDoneMessage } from "./ownership-messages.js";
import { incomingPartitions } from "./ownership-plan.js";
import { OwnershipTransfer, type OwnershipTable } from "./ownership-transfer.js";

// The leader counts a receiver's "handoff.done" only when it names every table the leader knows:
// a node that joined (or replaced another) before its catalog caught up must not settle the ring.

const table = (id: number): OwnershipTable => ({ id, strong: false, n: 3, lww: false });

test("a done report missing one of the leader's tables is not counted; one naming them all settles the ring", () => {
  const first = claimInitial([{ id: "a" }, { id: "b" }, { id: "c" }], { partitionCount: 16 });
  assert.ok(first.ok);
  const next = reclaim(first.ring, [{ id: "a" }, { id: "b" }, { id: "d" }]);
  assert.ok(next.ok);
  const ring: RingState = ringTransition(first.ring, next.ring);
  const published: RingState[] = [];
  const network: Network = { request: () => Promise.resolve({ ok: false, error: "unreachable" }), send: () => undefined, serve: () => undefined };
  const transfer = new OwnershipTransfer({
    runtime: { ...createTestRuntime({ storage: new MemoryStorageEngine(), nodeId: "a" }), network },
    ring: () => ring,
    leader: () => "a",
    tables: () => [table(1), table(2)],
    merge: () => Promise.resolve({ ok: true }),
    strongRead: () => Promise.reject(new Error("no strong tables here")),
    publishRing: (settled) => void published.push(settled),
  });
  transfer.handle("d", transferDoneMessage(ring.version, [1], ringHash(ring)));
  assert.equal(published.length, 0, "d has not pulled table 2");
  transfer.handle("d", transferDoneMessage(ring.version, [1, 2, 3], ringHash(ring)));
  assert.equal(published.length, 1);
  assert.equal(published[0]!.previous, undefined);
});

test("done reports parse with and without their tables; malformed tables are dropped", () => {
  assert.deepEqual(parseTransferDone(transferDoneMessage(4, [7, 9])), { type: "handoff.done", ringVersion: 4, tables: [7, 9] });
  assert.deepEqual(parseTransferDone({ type: "handoff.done", ringVersion: 4 }), { type: "handoff.done", ringVersion: 4 });
  assert.equal(parseTransferDone({ type: "handoff.done", ringVersion: 4, tables: ["x"] }), undefined);
  assert.equal(parseTransferDone({ type: "handoff.done", ringVersion: 4, tables: 3 }), undefined);
});

test("a done report for another ring of the same version, or without a ring hash, is not counted (issue 6: two leaders, one version)", () => {
  const first = claimInitial([{ id: "a" }, { id: "b" }, { id: "c" }], { partitionCount: 16 });
  assert.ok(first.ok);
  // Two leaders built ring 2 on ring 1: one moves c's partitions to d, the other to e.
  const toD = reclaim(first.ring, [{ id: "a" }, { id: "b" }, { id: "d" }]);
  const toE = reclaim(first.ring, [{ id: "a" }, { id: "b" }, { id: "d" }, { id: "e" }]);
  assert.ok(toD.ok && toE.ok);
  const ring: RingState = ringTransition(first.ring, toD.ring);
  const other: RingState = ringTransition(first.ring, toE.ring);
  assert.equal(other.version, ring.version);
  assert.notEqual(ringHash(other), ringHash(ring));
  const published: RingState[] = [];
  const network: Network = { request: () => Promise.resolve({ ok: false, error: "unreachable" }), send: () => undefined, serve: () => undefined };
  const transfer = new OwnershipTransfer({
    runtime: { ...createTestRuntime({ storage: new MemoryStorageEngine(), nodeId: "a" }), network },
    ring: () => ring,
    leader: () => "a",
    tables: () => [table(1)],
    merge: () => Promise.resolve({ ok: true }),
    strongRead: () => Promise.reject(new Error("no strong tables here")),
    publishRing: (settled) => void published.push(settled),
  });
  // d filled what the OTHER ring gives it: its report must not settle this ring.
  transfer.handle("d", transferDoneMessage(ring.version, [1], ringHash(other)));
  transfer.handle("d", transferDoneMessage(ring.version, [1]));
  assert.equal(published.length, 0, "a report for another ring of version " + ring.version + " settled the ring");
  transfer.handle("d", transferDoneMessage(ring.version, [1], ringHash(ring)));
  assert.equal(published.length, 1, "d's report for this very ring settles it");
});

test("a table learned after the transfer was done is scanned until filled: a source that failed its first scan is asked again and the node then reports (issue 6, the leave plus replace hang)", async () => {
  // d joins a, b, c. Its first tick under the new ring comes before its catalog knows any table
  // (a node that just joined): it is "done" with nothing. Then it learns table 1, and c, still on
  // the older ring, answers its first scan "ring-behind".
  const first = claimInitial([{ id: "a" }, { id: "b" }, { id: "c" }], { partitionCount: 16 });
  assert.ok(first.ok);
  const next = reclaim(first.ring, [{ id: "a" }, { id: "b" }, { id: "c" }, { id: "d" }]);
  assert.ok(next.ok);
  const ring: RingState = ringTransition(first.ring, next.ring);
  // n = 2: each gained partition needs both of its old replicas scanned (a strict majority of two).
  const pairs: OwnershipTable = { id: 1, strong: false, n: 2, lww: false };
  const sources = new Set(incomingPartitions(ring, "d", pairs.n).flatMap((p) => p.sources));
  assert.ok(sources.has("c"), "d gains nothing from c: the test shows nothing");
  const scans = new Map<string, number>();
  const reports: unknown[] = [];
  const network: Network = {
    request: <T>(to: string, message: unknown) => {
      assert.equal((message as { type?: unknown }).type, "replica.list");
      const count = (scans.get(to) ?? 0) + 1;
      scans.set(to, count);
      const reply = to === "c" && count === 1 ? { ok: false, error: "ring-behind" } : { ok: true, entries: [], exhausted: true };
      return Promise.resolve({ ok: true as const, reply: reply as T });
    },
    send: (to, message) => void reports.push({ to, ...parseTransferDone(message) }),
    serve: () => undefined,
  };
  let tables: OwnershipTable[] = [];
  const transfer = new OwnershipTransfer({
    runtime: { ...createTestRuntime({ storage: new MemoryStorageEngine(), nodeId: "d" }), network },
    ring: () => ring,
    leader: () => "a",
    tables: () => tables,
    merge: () => Promise.resolve({ ok: true }),
    strongRead: () => Promise.reject(new Error("no strong tables here")),
    publishRing: () => undefined,
  });
  await transfer.tick();
  assert.deepEqual(reports, [{ to: "a", type: "handoff.done", ringVersion: ring.version, ringHash: ringHash(ring), tables: [] }], "done with no table known");
  tables = [pairs];
  reports.length = 0;
  await transfer.tick(); // scans a and b to the end; c refuses
  assert.equal(scans.get("c"), 1);
  assert.deepEqual(reports, [], "c's partitions are not filled yet");
  for (let i = 0; i < 3 && reports.length === 0; i++) await transfer.tick();
  assert.equal(scans.get("c"), 2, "c was not asked again: table 1 stays unfilled and d never reports");
  assert.deepEqual(reports, [{ to: "a", type: "handoff.done", ringVersion: ring.version, ringHash: ringHash(ring), tables: [1] }]);
});
