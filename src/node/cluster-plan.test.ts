import { test } from "node:test";
import assert from "node:assert/strict";
import { pack, unpack } from "msgpackr";
import type { Member, MemberState } from "../membership/member.js";
import type { Membership, PublishOutcome } from "../membership/membership.js";
import { claimInitial } from "../ring/claim.js";
import { ringPlanChangesMax } from "../ring/ring-plan.js";
import { ringSettled, type RingState } from "../ring/ring-state.js";
import type { Network, NodeId } from "../runtime/network.js";
import { metaKey } from "../storage/keyspace.js";
import { MemoryStorageEngine } from "../storage/memory-storage-engine.js";
import type { WriteOp, WriteOptions } from "../storage/storage-engine.js";
import { ClusterPlan, planMetaKey } from "./cluster-plan.js";
import { parsePlanOpResult, parsePlanRecord, type PlanOpResult } from "./cluster-plan-record.js";
import { createTestRuntime } from "./test-runtime.js";

// ClusterPlan against a stub membership and network: the leader's checks, the commit, the
// forwarding, the persisted mode. The in-process clusters are in cluster-plan-node.test.ts.

const member = (id: string, state: MemberState): Member => ({ id, address: { host: "127.0.0.1", peerPort: 1, clientPort: 2 }, state, incarnation: 0 });

function ringOf(...ids: string[]): RingState {
  const claimed = claimInitial(ids.map((id) => ({ id })), { partitionCount: 64 });
  assert.ok(claimed.ok);
  return claimed.ring;
}

class StubMembership {
  published: RingState[] = [];
  constructor(
    public current: RingState | undefined,
    public view: Member[],
    public leaderId: NodeId | undefined,
  ) {}
  ring() {
    return this.current;
  }
  leader() {
    return this.leaderId;
  }
  member(id: NodeId) {
    return this.view.find((m) => m.id === id);
  }
  isUp(id: NodeId) {
    const state = this.member(id)?.state;
    return state === "up" || state === "joining" || state === "leaving";
  }
  publish(ring: RingState) {
    this.published.push(ring);
    this.current = ring;
  }
}

const testRingKey = metaKey("test.ring");

/**
 * A disk whose writes wait while `holding` until `release()`; `crash()` drops the waiting ones
 * (never answered, as for a process that died) and undoes what was not durable.
 */
class HeldStorage extends MemoryStorageEngine {
  holding = false;
  failing = false;
  private held: Array<() => void> = [];
  override write(ops: readonly WriteOp[], options?: WriteOptions): Promise<void> {
    if (this.failing) return Promise.reject(new Error("disk full"));
    if (!this.holding) return super.write(ops, options);
    return new Promise((resolve) => this.held.push(() => void super.write(ops, options).then(resolve)));
  }
  get waiting(): number {
    return this.held.length;
  }
  release(): void {
    this.holding = false;
    const held = this.held;
    this.held = [];
    for (const write of held) write();
  }
  override crash(): void {
    this.held = [];
    this.holding = false;
    super.crash();
  }
}

/** Lets queued promise continuations run (no timers: the ops under test wait only on the disk). */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

interface Sent {
  to: NodeId;
  message: unknown;
}

function planOn(options: {
  self?: string;
  membership: StubMembership;
  reply?: (to: NodeId, message: unknown) => { ok: true; reply: unknown } | { ok: false; error: "timeout" | "unreachable" };
  storage?: MemoryStorageEngine;
  initialMode?: "auto" | "manual";
  forming?: boolean;
  ringWrite?: boolean;
  publishRing?: (ring: RingState) => Promise<PublishOutcome<RingState>>;
  onError?: (error: unknown) => void;
}) {
  const sent: Sent[] = [];
  const storage = options.storage ?? new MemoryStorageEngine();
  const network: Network = {
    request: <T>(to: NodeId, message: unknown) => {
      sent.push({ to, message });
      return Promise.resolve((options.reply?.(to, message) ?? { ok: false, error: "unreachable" }) as { ok: true; reply: T });
    },
    send: (to, message) => void sent.push({ to, message }),
    serve: () => undefined,
  };
  const runtime = { ...createTestRuntime({ storage, nodeId: options.self ?? "a" }), network };
  const plan = new ClusterPlan({
    runtime,
    membership: options.membership as unknown as Membership<RingState>,
    publishRing: options.publishRing ?? ((ring) => options.membership.publish(ring)),
    ...(options.onError !== undefined ? { onError: options.onError } : {}),
    upPeers: () => options.membership.view.filter((m) => m.id !== runtime.nodeId && m.state === "up").map((m) => m.id),
    forming: options.forming ?? false,
    ...(options.ringWrite === true ? { ringWrite: (ring: RingState) => ({ type: "put" as const, key: testRingKey, value: pack(ring) }) } : {}),
    ...(options.initialMode !== undefined ? { initialMode: options.initialMode } : {}),
  });
  return { plan, sent, storage };
}

function failed(result: PlanOpResult): { status: number; code: string; message: string } {
  assert.equal(result.ok, false, JSON.stringify(result));
  return result as { ok: false; status: number; code: string; message: string };
}

test("a staged join, committed at the leader, publishes one ring in transition with only the joiner gaining, and empties the plan", async () => {
  const membership = new StubMembership(ringOf("a", "b"), [member("a", "up"), member("b", "up"), member("c", "joining")], "a");
  const { plan, sent } = planOn({ membership });
  const staged = await plan.execute({ kind: "stage", change: { join: "c" } });
  assert.ok(staged.ok);
  assert.deepEqual([...plan.stagedIds()], ["c"]);
  assert.ok(sent.some((s) => s.to === "b" && (s.message as { type: string }).type === "plan.sync"), "the leader pushes the new record to the up peers");
  const view = plan.view(3);
  assert.equal(view.error, undefined);
  assert.deepEqual(view.changes, [{ join: "c" }]);
  assert.ok(view.transfers.length > 0 && view.transfers.every((t) => t.to.includes("c")), "every moving partition gains c");
  assert.equal(view.summary.find((s) => s.node === "c")?.owns, 21);
  const committed = await plan.execute({ kind: "commit" });
  assert.ok(committed.ok);
  assert.equal(committed.ringVersion, 2);
  assert.equal(membership.published.length, 1);
  assert.ok(membership.published[0]!.previous !== undefined, "a ring in transition");
  assert.deepEqual(plan.current.changes, []);
  const again = failed(await plan.execute({ kind: "commit" }));
  assert.deepEqual([again.status, again.code], [409, "RingInTransition"]);
  assert.equal(membership.published.length, 1, "a second commit publishes nothing");
  membership.current = ringSettled(membership.published[0]!);
  const empty = failed(await plan.execute({ kind: "commit" }));
  assert.deepEqual([empty.status, empty.code], [409, "PlanEmpty"]);
});

test("bad stages are refused with 400 and change nothing: unknown node, not joining, already a member, duplicate, the last member, over the limit", async () => {
  const membership = new StubMembership(ringOf("a"), [member("a", "up"), member("b", "joining"), member("u", "up")], "a");
  const { plan } = planOn({ membership });
  const cases: Array<[Parameters<typeof plan.execute>[0], string]> = [
    [{ kind: "stage", change: { join: "ghost" } }, "UnknownNode"],
    [{ kind: "stage", change: { join: "u" } }, "NotJoining"],
    [{ kind: "stage", change: { join: "a" } }, "AlreadyMember"],
    [{ kind: "stage", change: { leave: "b" } }, "UnknownNode"],
    [{ kind: "stage", change: { leave: "a" } }, "PlanUnplaceable"],
    [{ kind: "stage", change: { replace: ["ghost", "b"] } }, "UnknownNode"],
    [{ kind: "stage", change: { replace: ["a", "u"] } }, "NotJoining"],
  ];
  for (const [op, code] of cases) {
    const result = failed(await plan.execute(op));
    assert.deepEqual([result.status, result.code], [400, code], JSON.stringify(op));
  }
  assert.equal(plan.current.seq, 0, "nothing changed");
  assert.ok((await plan.execute({ kind: "stage", change: { join: "b" } })).ok);
  const duplicate = failed(await plan.execute({ kind: "stage", change: { replace: ["a", "b"] } }));
  assert.deepEqual([duplicate.status, duplicate.code], [400, "DuplicateChange"]);
  assert.match(duplicate.message, /b is already named/);

  const many = Array.from({ length: ringPlanChangesMax + 1 }, (_, i) => `j${String(i).padStart(2, "0")}`);
  const big = new StubMembership(claimInitialOf(256, "a"), [member("a", "up"), ...many.map((id) => member(id, "joining"))], "a");
  const { plan: bigPlan } = planOn({ membership: big });
  for (const id of many.slice(0, ringPlanChangesMax)) assert.ok((await bigPlan.execute({ kind: "stage", change: { join: id } })).ok, id);
  const over = failed(await bigPlan.execute({ kind: "stage", change: { join: many.at(-1)! } }));
  assert.deepEqual([over.status, over.code], [400, "PlanTooLarge"]);
  assert.match(over.message, new RegExp(`limit is ${ringPlanChangesMax}`));
});

function claimInitialOf(partitionCount: number, ...ids: string[]): RingState {
  const claimed = claimInitial(ids.map((id) => ({ id })), { partitionCount });
  assert.ok(claimed.ok);
  return claimed.ring;
}

test("a commit refuses a joiner that is not running, and a plan on a node without a ring", async () => {
  const membership = new StubMembership(ringOf("a", "b"), [member("a", "up"), member("b", "up"), member("c", "joining")], "a");
  const { plan } = planOn({ membership });
  assert.ok((await plan.execute({ kind: "stage", change: { join: "c" } })).ok);
  membership.view = [member("a", "up"), member("b", "up"), member("c", "down")];
  const down = failed(await plan.execute({ kind: "commit" }));
  assert.deepEqual([down.status, down.code], [409, "NodeNotLive"]);
  assert.equal(membership.published.length, 0);
  membership.current = undefined;
  assert.deepEqual(failed(await plan.execute({ kind: "commit" })).code, "NoRing");
  assert.equal(plan.view(3).error, "this node holds no ring yet");
});

test("a node that is not the leader forwards the op; an unreachable leader is 503 LeaderUnreachable; no leader is 503", async () => {
  const membership = new StubMembership(ringOf("a", "b"), [member("a", "up"), member("b", "up")], "a");
  const leaderRecord = { seq: 7, by: "a", mode: "manual", changes: [] };
  const { plan, sent } = planOn({ self: "b", membership, reply: () => ({ ok: true, reply: { ok: true, record: leaderRecord } }) });
  const result = await plan.execute({ kind: "mode", mode: "manual" });
  assert.ok(result.ok);
  assert.deepEqual(sent[0], { to: "a", message: { type: "plan.op", op: { kind: "mode", mode: "manual" }, forwarded: false } });
  assert.equal(plan.mode(), "manual", "the leader's record is adopted from its answer");

  const { plan: cut } = planOn({ self: "b", membership, reply: () => ({ ok: false, error: "timeout" }) });
  const unreachable = failed(await cut.execute({ kind: "commit" }));
  assert.deepEqual([unreachable.status, unreachable.code], [503, "LeaderUnreachable"]);
  assert.match(unreachable.message, /ring leader a did not answer the plan request \(timeout\)/);

  membership.leaderId = undefined;
  assert.equal(failed(await cut.execute({ kind: "commit" })).status, 503);
});

test("a forwarded op at a node that is not the leader is refused rather than forwarded again", async () => {
  const membership = new StubMembership(ringOf("a", "b"), [member("a", "up"), member("b", "up")], "a");
  const { plan, sent } = planOn({ self: "b", membership });
  const answer = parsePlanOpResult(await plan.handle("c", { type: "plan.op", op: { kind: "commit" }, forwarded: true }));
  assert.deepEqual(answer && !answer.ok ? [answer.status, answer.code] : answer, [503, "NotLeader"]);
  assert.equal(sent.length, 0);
  const bad = parsePlanOpResult(await plan.handle("c", { type: "plan.op", op: { kind: "nonsense" } }));
  assert.deepEqual(bad && !bad.ok ? bad.code : bad, "BadPlanOp");
});

test("records converge by stamp: a newer record is adopted and persisted, an older or default one is not", async () => {
  const membership = new StubMembership(ringOf("a", "b"), [member("a", "up"), member("b", "up")], "a");
  const storage = new MemoryStorageEngine();
  const { plan } = planOn({ self: "b", membership, storage });
  assert.deepEqual(plan.handle("a", { type: "plan.sync", record: { seq: 3, by: "a", mode: "manual", changes: [{ leave: "b" }] } }), { record: { seq: 3, by: "a", mode: "manual", changes: [{ leave: "b" }] } });
  plan.handle("a", { type: "plan.sync", record: { seq: 2, by: "z", mode: "auto", changes: [] } });
  plan.handle("a", { type: "plan.sync", record: { seq: 3, by: "0", mode: "auto", changes: [] } });
  assert.equal(plan.mode(), "manual");
  assert.equal(plan.handle("a", { type: "plan.sync", record: { seq: 9, by: "a", mode: "nonsense", changes: [] } }) !== undefined, true);
  assert.equal(plan.mode(), "manual", "a malformed record is ignored");
  await plan.flushed();
  assert.deepEqual(parsePlanRecord(unpackStored(storage)), { seq: 3, by: "a", mode: "manual", changes: [{ leave: "b" }] });
  const restarted = planOn({ self: "b", membership, storage, initialMode: "auto", forming: true }).plan;
  assert.equal(restarted.mode(), "manual", "a restart keeps the stored mode over --plan");
});

test("--plan manual on a node forming a cluster starts it in manual mode; on a joining node it changes nothing by itself", () => {
  const membership = new StubMembership(ringOf("a"), [member("a", "up")], "a");
  assert.equal(planOn({ membership, initialMode: "manual", forming: true }).plan.mode(), "manual");
  assert.equal(planOn({ membership, initialMode: "manual", forming: false }).plan.mode(), "auto");
});

function unpackStored(storage: MemoryStorageEngine): unknown {
  const bytes = storage.get(planMetaKey);
  assert.ok(bytes !== undefined);
  return unpack(bytes);
}

test("a commit writes the cleared plan and the new ring durably before it publishes or answers: a crash before the write changes nothing, one after it keeps the commit", async () => {
  const membership = new StubMembership(ringOf("a", "b"), [member("a", "up"), member("b", "up"), member("c", "joining")], "a");
  const storage = new HeldStorage();
  const { plan } = planOn({ membership, storage, ringWrite: true });
  assert.ok((await plan.execute({ kind: "stage", change: { join: "c" } })).ok);
  await plan.flushed();

  // Crash while the commit's write is on its way: no answer, no ring published, the changes stay staged.
  storage.holding = true;
  let answered = false;
  void plan.execute({ kind: "commit" }).then(() => (answered = true));
  await settle();
  assert.equal(storage.waiting, 1, "the commit waits for its write");
  assert.equal(answered, false, "no answer before the plan is durable");
  assert.equal(membership.published.length, 0, "no ring published before the plan is durable");
  assert.deepEqual(plan.current.changes, [{ join: "c" }], "the record in memory (served to peers) is still the durable one");
  storage.crash();
  const afterEarlyCrash = planOn({ membership, storage, ringWrite: true }).plan;
  assert.deepEqual(afterEarlyCrash.current.changes, [{ join: "c" }], "an unanswered commit that never reached the disk changed nothing");
  assert.equal(storage.get(testRingKey), undefined);

  // The restarted leader commits; a crash right after the answer keeps the commit: empty plan, ring 2 on disk.
  const committed = await afterEarlyCrash.execute({ kind: "commit" });
  assert.ok(committed.ok, JSON.stringify(committed));
  assert.equal(membership.published.length, 1);
  storage.crash();
  const afterLateCrash = planOn({ membership, storage, ringWrite: true }).plan;
  assert.deepEqual(afterLateCrash.current.changes, [], "the staged changes do not come back after an answered commit");
  const storedRing = storage.get(testRingKey);
  assert.ok(storedRing !== undefined);
  assert.equal((unpack(storedRing) as RingState).version, 2, "the committed ring is on the leader's disk");
});

test("a stage is durable before its 200; a write that fails answers 503 and changes nothing, pushes nothing, publishes nothing", async () => {
  const membership = new StubMembership(ringOf("a", "b"), [member("a", "up"), member("b", "up"), member("c", "joining")], "a");
  const storage = new HeldStorage();
  const { plan, sent } = planOn({ membership, storage });
  storage.holding = true;
  let answered = false;
  void plan.execute({ kind: "stage", change: { join: "c" } }).then(() => (answered = true));
  await settle();
  assert.equal(answered, false, "no 200 before the stage is durable");
  assert.equal(sent.length, 0, "nothing pushed before the stage is durable");
  storage.crash();
  // The node that crashed is gone with its waiting op; a restarted one takes over the disk.
  const { plan: restarted, sent: restartedSent } = planOn({ membership, storage });
  assert.equal(restarted.current.seq, 0, "an unanswered stage that never reached the disk is not there");
  await failedWrites(restarted, restartedSent, storage, membership);
});

async function failedWrites(plan: ClusterPlan, sent: Sent[], storage: HeldStorage, membership: StubMembership): Promise<void> {
  storage.failing = true;
  const stage = failed(await plan.execute({ kind: "stage", change: { join: "c" } }));
  assert.deepEqual([stage.status, stage.code], [503, "PlanNotPersisted"]);
  assert.match(stage.message, /disk full.*nothing changed/);
  assert.equal(plan.current.seq, 0);
  assert.deepEqual(plan.current.changes, []);
  assert.equal(sent.length, 0);

  storage.failing = false;
  assert.ok((await plan.execute({ kind: "stage", change: { join: "c" } })).ok);
  storage.failing = true;
  const commit = failed(await plan.execute({ kind: "commit" }));
  assert.deepEqual([commit.status, commit.code], [503, "PlanNotPersisted"]);
  assert.equal(membership.published.length, 0, "a commit whose write failed publishes no ring");
  assert.deepEqual(plan.current.changes, [{ join: "c" }]);
}

test("a ring that changes while the commit is written makes it 409 RingChanged: nothing published, the changes stay staged", async () => {
  const membership = new StubMembership(ringOf("a", "b"), [member("a", "up"), member("b", "up"), member("c", "joining")], "a");
  const storage = new HeldStorage();
  const { plan } = planOn({ membership, storage, ringWrite: true });
  assert.ok((await plan.execute({ kind: "stage", change: { join: "c" } })).ok);
  storage.holding = true;
  const commit = plan.execute({ kind: "commit" });
  await settle();
  membership.current = { ...ringOf("a", "b"), version: 5 };
  storage.release();
  const result = failed(await commit);
  assert.deepEqual([result.status, result.code], [409, "RingChanged"]);
  assert.match(result.message, /version 5/);
  assert.equal(membership.published.length, 0);
  assert.deepEqual(plan.current.changes, [{ join: "c" }]);
  await plan.flushed();
  storage.crash();
  const restarted = planOn({ membership, storage }).plan;
  assert.deepEqual(restarted.current.changes, [{ join: "c" }], "the staged changes were written back");
  assert.equal((unpack(storage.get(testRingKey)!) as RingState).version, 5, "the disk holds the current ring, not the abandoned plan's");
});

test("concurrent commits at the leader are serialised: one publishes, the other is 409; ops beyond the queue bound are 503 PlanBusy", async () => {
  const membership = new StubMembership(ringOf("a", "b"), [member("a", "up"), member("b", "up"), member("c", "joining")], "a");
  const storage = new HeldStorage();
  const { plan } = planOn({ membership, storage });
  assert.ok((await plan.execute({ kind: "stage", change: { join: "c" } })).ok);
  storage.holding = true;
  const both = Promise.all([plan.execute({ kind: "commit" }), plan.execute({ kind: "commit" })]);
  await settle();
  storage.release();
  const [first, second] = await both;
  assert.ok(first.ok);
  assert.deepEqual([failed(second).status, failed(second).code], [409, "RingInTransition"]);
  assert.equal(membership.published.length, 1);

  storage.holding = true;
  const queued = Array.from({ length: 40 }, () => plan.execute({ kind: "mode", mode: "manual" }));
  await settle();
  storage.release();
  const results = await Promise.all(queued);
  const busy = results.filter((r) => !r.ok);
  assert.ok(busy.length > 0 && busy.every((r) => !r.ok && r.status === 503 && r.code === "PlanBusy" && /limit is 32/.test(r.message)), JSON.stringify(busy[0]));
  assert.equal(results.filter((r) => r.ok).length, 32);
});

test("a commit keeps its changes as committed until a settled ring shows them; while a ring without them won, a commit is 409 CommitPending", async () => {
  const base = ringOf("a", "b", "c");
  const membership = new StubMembership(base, [member("a", "up"), member("b", "up"), member("c", "up"), member("d", "joining")], "a");
  const { plan } = planOn({ membership });
  assert.ok((await plan.execute({ kind: "stage", change: { join: "d" } })).ok);
  const committed = await plan.execute({ kind: "commit" });
  assert.ok(committed.ok);
  assert.deepEqual(plan.committedChanges(), [{ join: "d" }]);
  assert.deepEqual([...plan.stagedIds()], ["d"], "the automatic claim still leaves d to the plan");
  // Another leader's ring of the same version won (it never heard of the commit), and settled.
  membership.current = { ...ringOf("a", "b", "c"), version: 3 };
  assert.ok((await plan.execute({ kind: "stage", change: { leave: "c" } })).ok);
  const pending = failed(await plan.execute({ kind: "commit" }));
  assert.deepEqual([pending.status, pending.code], [409, "CommitPending"]);
  assert.match(pending.message, /"join":"d"/);
  plan.ringChanged();
  await plan.flushed();
  assert.deepEqual(plan.committedChanges(), [{ join: "d" }], "not dropped while the ring does not show it");
  // The hook builds it on the winner (claim-ring.test.ts); once a settled ring shows d, the leader drops it.
  membership.current = { ...ringOf("a", "b", "c", "d"), version: 5 };
  plan.ringChanged();
  await plan.flushed();
  assert.deepEqual(plan.committedChanges(), []);
  assert.deepEqual(plan.current.changes, [{ leave: "c" }], "what was staged meanwhile stays staged");
  const cleared = await plan.execute({ kind: "clear" });
  assert.ok(cleared.ok);
});

test("clearing the plan drops committed changes a ring never showed", async () => {
  const membership = new StubMembership(ringOf("a", "b"), [member("a", "up"), member("b", "up"), member("c", "joining")], "a");
  const { plan } = planOn({ membership });
  assert.ok((await plan.execute({ kind: "stage", change: { join: "c" } })).ok);
  assert.ok((await plan.execute({ kind: "commit" })).ok);
  membership.current = { ...ringOf("a", "b"), version: 3 };
  assert.deepEqual(plan.committedChanges(), [{ join: "c" }]);
  assert.ok((await plan.execute({ kind: "clear" })).ok);
  assert.deepEqual(plan.committedChanges(), []);
  assert.equal(plan.current.committed, undefined);
});

test("a node named by a committed change can be named by a new stage once the ring shows the commit", async () => {
  const membership = new StubMembership(ringOf("a", "b"), [member("a", "up"), member("b", "up"), member("c", "joining")], "a");
  const { plan } = planOn({ membership });
  assert.ok((await plan.execute({ kind: "stage", change: { join: "c" } })).ok);
  assert.ok((await plan.execute({ kind: "commit" })).ok);
  membership.current = { ...ringOf("a", "b", "c"), version: 3 };
  assert.deepEqual(plan.committedChanges(), [{ join: "c" }], "not dropped yet (the leader does so each sync interval)");
  const staged = await plan.execute({ kind: "stage", change: { leave: "c" } });
  assert.ok(staged.ok, JSON.stringify(staged));
});

test("a commit whose ring was not decided (no majority, or another leader's ring won) stays committed without a ring version; the claim hook builds it next", async () => {
  for (const outcome of [{ ok: false as const, reason: "1 of 3 members of ring 1 promised (a majority is 2)" }, { ok: true as const, ring: { ...ringOf("a", "b"), version: 2 }, won: false }]) {
    const membership = new StubMembership(ringOf("a", "b"), [member("a", "up"), member("b", "up"), member("c", "joining")], "a");
    const errors: string[] = [];
    const publishRing = (ring: RingState) => {
      membership.published.push(ring);
      return Promise.resolve(outcome);
    };
    const { plan } = planOn({ membership, publishRing, onError: (error) => errors.push(error instanceof Error ? error.message : String(error)) });
    assert.ok((await plan.execute({ kind: "stage", change: { join: "c" } })).ok);
    const committed = await plan.execute({ kind: "commit" });
    assert.ok(committed.ok, JSON.stringify(committed));
    assert.equal(committed.ringVersion, undefined, "no ring version: this commit's ring is not the decided one");
    assert.deepEqual(plan.current.changes, []);
    assert.deepEqual(plan.committedChanges(), [{ join: "c" }], "the change stays committed for the claim hook");
    assert.match(errors.join("\n"), /was not published as planned/);
  }
});

test("a commit lists as departing a node it takes out that the leader believes running (leave or replace); one suspect or down is a removal", async () => {
  const committedRing = async (view: Member[], change: { leave: string } | { replace: readonly [string, string] }): Promise<RingState> => {
    const membership = new StubMembership(ringOf("a", "b", "c", "d"), view, "a");
    const { plan } = planOn({ membership });
    assert.ok((await plan.execute({ kind: "stage", change })).ok);
    assert.ok((await plan.execute({ kind: "commit", force: true })).ok);
    return membership.published[0]!;
  };
  const view = (dState: MemberState) => [member("a", "up"), member("b", "up"), member("c", "up"), member("d", dState), member("e", "joining")];
  assert.deepEqual((await committedRing(view("up"), { leave: "d" })).departing, ["d"]);
  assert.deepEqual(ringSettled(await committedRing(view("up"), { leave: "d" })).departing, ["d"], "the settled ring carries it too");
  assert.deepEqual((await committedRing(view("up"), { replace: ["d", "e"] })).departing, ["d"], "a running node replaced hands its hints on and reports like a leaver");
  for (const state of ["suspect", "down"] as const) {
    assert.equal((await committedRing(view(state), { leave: "d" })).departing, undefined, `a leave of a node ${state} is a removal`);
    assert.equal((await committedRing(view(state), { replace: ["d", "e"] })).departing, undefined, `a replace of a node ${state}`);
  }
});
