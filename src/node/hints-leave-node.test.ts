import { test, after } from "node:test";
import assert from "node:assert/strict";
import { fetch } from "undici";
import { createTable, itemUrl, put } from "../api/test-requests.js";
import { partitionOf } from "../ring/partition-hash.js";
import { preferenceList } from "../ring/preference-list.js";
import type { RingState } from "../ring/ring-state.js";
import { eventually } from "../testing/eventually.js";
import type { TestNode } from "./test-node.js";
import { ringOf, ringStates, send, settled, TestNodeGroup, within } from "./node-group.test-support.js";

// Hints never stranded by a leave or replace (issue 6, the session-4 gap): on in-process nodes
// over real TCP, a W=1 write that only the leaving node holds, as a hint for a node that is then
// replaced, is handed to the key's new primary before the leaver exits.

const group = new TestNodeGroup();
after(() => group.closeAll());
const start = (id: string, seed?: TestNode): Promise<TestNode> => group.start(id, { seed });
const stop = (node: TestNode): Promise<void> => group.stop(node);
const ring = ringOf;

/**
 * A key whose ring walk starts with three nodes other than `operator`: with n=2 and the first
 * down, a W=1 write lands on the second (a primary) and, as a hint for the first, on the third.
 */
function keyAvoiding(r: RingState, operator: string): { key: string; walk: string[] } {
  for (let i = 0; i < 10_000; i++) {
    const key = `k${i}`;
    const walk = preferenceList(r, partitionOf(new TextEncoder().encode(key), r.partitionCount), r.members.length).slice(0, 3);
    if (!walk.includes(operator)) return { key, walk };
  }
  throw new Error(`no key walks three nodes other than ${operator}`);
}

// Quarantined as a todo in session 6 (2 of 12 runs failed), un-quarantined in session 7 (issue 6):
// - 409 DataLoss on the commit was right: the key's two replicas (n = 2) are both dead and
//   replaced, so the plan loses what only they held; the commit passed only while the leader
//   had not yet seen the second death. The test now waits until it has, checks the refusal,
//   and commits with force: the write survives only as the leaver's hint, which is the point.
// - The hang was a new node (e, f) done with its transfer before its catalog knew the table,
//   whose first scan of the table missed a source still on the older ring: it never asked that
//   source again, the ring never settled, the leaver never left (ownership-transfer.ts, pending
//   tables; ownership-done-tables.test.ts).
// Every wait is bounded; the timeout is a last resort.
const bounded = { timeout: 120_000 };

test("a W=1 write held only as a hint by a node that then leaves, for a node that is replaced, is readable after the leaver exited", bounded, async () => {
  const a = await start("a");
  const nodes = new Map<string, TestNode>([["a", a]]);
  // Five nodes: with the two dead below, three of the ring's five members still make the
  // majority that decides every ring change (membership/ring-register.ts).
  for (const id of ["b", "c", "d", "g"]) nodes.set(id, await start(id, a));
  await eventually("a settled ring of five", () => settled([...nodes.values()], 5), { deadlineMs: 30_000 });
  assert.equal((await send("POST", `${a.url}/v1/cluster/plan`, { mode: "manual" })).status, 200);
  await createTable(a.url, "tab", { replication: { n: 2, r: 1, w: 1 } });
  await eventually("the table on every node", () => [...nodes.values()].every((t) => t.node.catalog.get("tab") !== undefined));
  // The key's primaries are `target` and `primary`; `leaver` is its first fallback.
  const { key, walk } = keyAvoiding(ring(a), "a");
  const [target, primary, leaver] = walk.map((id) => nodes.get(id)!) as [TestNode, TestNode, TestNode];
  const [targetId, primaryId, leaverId] = walk as [string, string, string];

  await stop(target);
  await eventually(`${primaryId} to see ${targetId} down`, () => !primary.node.cluster.membership.isUp(targetId));
  const written = await put(itemUrl(primary.url, "tab", key), "only-a-hint");
  assert.equal(written.status, 201, await written.text());
  await eventually(`${leaverId} to hold the write as a hint for ${targetId}`, () => leaver.node.items.hints.count(targetId) === 1);
  // The other primary dies too: from here on the leaver's hint is the only live copy of the write.
  await stop(primary);

  // e and f replace the two dead nodes and the hint's holder leaves, in one plan: the hint's
  // target is gone for good, and the node holding it exits once the ring settles.
  const e = await start("e", a);
  const f = await start("f", a);
  await eventually("a to see e and f joining", () => ["e", "f"].every((id) => a.node.cluster.membership.member(id)?.state === "joining"));
  // The data-loss check judges by the leader's view: once it holds both dead, it is deterministic.
  await eventually(`a to see ${targetId} and ${primaryId} dead`, () => [targetId, primaryId].every((id) => !a.node.cluster.membership.isUp(id)), { deadlineMs: 30_000 });
  for (const change of [{ replace: [targetId, "e"] }, { replace: [primaryId, "f"] }, { leave: leaverId }]) {
    const staged = await send("POST", `${a.url}/v1/cluster/plan`, change);
    assert.equal(staged.status, 200, JSON.stringify(staged.body));
  }
  // Both replicas of the key's partition are dead and the plan no longer places them: the plan
  // loses their data, and says so. The operator accepts it (force); the hint is what saves the write.
  const refused = await send("POST", `${a.url}/v1/cluster/commit`);
  assert.deepEqual([refused.status, refused.body?.error?.code], [409, "DataLoss"], JSON.stringify(refused.body));
  const committed = await send("POST", `${a.url}/v1/cluster/commit?force=true`);
  assert.equal(committed.status, 200, JSON.stringify(committed.body));
  const live = [...[...nodes.values()].filter((t) => t !== target && t !== primary), e, f];
  await within(`${leaverId} to leave (NodeCluster.left)`, leaver.node.left, 60_000, () => ringStates(live));
  assert.equal(leaver.node.items.hints.countByTarget().size, 0, "the leaver handed every hint on before it left");
  assert.equal(leaver.node.items.delivery.stats().abandoned, 0);
  await stop(leaver);
  const bystander = nodes.get(["b", "c", "d", "g"].find((id) => !walk.includes(id))!)!;
  const remaining = [a, e, f, bystander];
  await eventually("a, e, f and the bystander on the settled ring of four", () => settled(remaining, 4), { deadlineMs: 30_000 });
  assert.deepEqual(ring(a).members.map((m) => m.id).sort(), ["a", "e", "f", bystander.node.cluster.membership.self.id].sort());
  for (const via of [a, e, f]) {
    const res = await fetch(`${itemUrl(via.url, "tab", key)}?r=2`);
    assert.deepEqual([res.status, await res.text()], [200, "only-a-hint"], `read at R=2 through ${via.node.cluster.membership.self.id}`);
  }
});
