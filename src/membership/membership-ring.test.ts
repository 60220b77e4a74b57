import { test } from "node:test";
import assert from "node:assert/strict";
import { claimInitial, reclaim } from "../ring/claim.js";
import { parseRing, partitionShares, ringsEqual, type RingMember, type RingState } from "../ring/ring-state.js";
import type { Member } from "./member.js";
import { bootCluster, nodeIds, SimCluster, type RingHooks } from "./sim-cluster.test-support.js";

/**
 * Membership carrying the ring module's real RingState: the hook a node would pass, built on
 * ring/claim.ts. Joining and up members are placed, leaving members are claimed away, suspect
 * and down members keep their partitions (a failure is transient in Dynamo).
 */
function claimRing(current: RingState | undefined, members: readonly Member[]): RingState | undefined {
  const wanted: RingMember[] = members.filter((m) => m.state === "joining" || m.state === "up").map((m) => ({ id: m.id }));
  if (current === undefined) {
    const first = claimInitial(wanted, { partitionCount: 64 });
    return first.ok ? first.ring : undefined;
  }
  const leaving = new Set(members.filter((m) => m.state === "leaving").map((m) => m.id));
  const kept = current.members.filter((m) => !leaving.has(m.id));
  const added = wanted.filter((m) => !current.members.some((c) => c.id === m.id));
  if (added.length === 0 && kept.length === current.members.length) return undefined;
  const next = reclaim(current, [...kept, ...added]);
  return next.ok ? next.ring : undefined;
}

const claimHooks: RingHooks<RingState> = {
  computeRing: claimRing,
  parseRing: (value) => {
    const parsed = parseRing(value);
    return parsed.ok ? parsed.ring : undefined;
  },
  placed: (ring) => ring.members.map((m) => m.id),
};

test("a simulated cluster converges on one claimed RingState that gives every member partitions", async () => {
  const cluster = new SimCluster<RingState>({ seed: 41, ring: claimHooks });
  await bootCluster(cluster, nodeIds(5));
  assert.notEqual(await cluster.runUntil(() => cluster.converged(nodeIds(5)), 15_000), undefined, "5 nodes did not converge on a claimed ring");
  const rings = nodeIds(5).map((id) => cluster.membership(id)!.ring()!);
  assert.ok(rings.every((ring) => ringsEqual(ring, rings[0]!)));
  const shares = [...partitionShares(rings[0]!).values()];
  assert.equal(shares.length, 5);
  assert.ok(Math.min(...shares) > 0);
});

test("a joiner is claimed into the real ring and every node adopts the new version", async () => {
  const cluster = new SimCluster<RingState>({ seed: 42, ring: claimHooks });
  await bootCluster(cluster, nodeIds(3));
  assert.notEqual(await cluster.runUntil(() => cluster.converged(nodeIds(3)), 15_000), undefined);
  const before = cluster.membership("n1")!.ring()!.version;
  await cluster.add("n4", ["n2"]);
  assert.notEqual(await cluster.runUntil(() => cluster.converged(nodeIds(4)), 15_000), undefined, "n4 was not claimed into the ring everywhere");
  assert.ok(cluster.membership("n3")!.ring()!.version > before);
});
