import { test } from "node:test";
import assert from "node:assert/strict";
import { FaultSchedule } from "../sim/fault-schedule.js";
import { planFaults, type FaultPlan } from "../sim/fault-plan.js";
import { bootCluster, nodeIds, SimCluster, type TestRing } from "./sim-cluster.test-support.js";

/** Virtual-time bounds the scenarios must meet (defaults: 1 s gossip and probe periods). */
const convergeWithinMs = 15_000;

test("3 nodes booted through one seed converge on the same members and ring", async (t) => {
  const cluster = new SimCluster({ seed: 3 });
  await bootCluster(cluster, nodeIds(3));
  const tookMs = await cluster.runUntil(() => cluster.converged(nodeIds(3)), convergeWithinMs);
  assert.notEqual(tookMs, undefined, "3 nodes did not converge");
  t.diagnostic(`3 nodes converged in ${tookMs} ms of virtual time, ring version ${cluster.membership("n1")!.ring()!.version}`);
});

test("7 nodes booted through one seed converge on the same members and ring", async (t) => {
  const cluster = new SimCluster({ seed: 7 });
  await bootCluster(cluster, nodeIds(7));
  const tookMs = await cluster.runUntil(() => cluster.converged(nodeIds(7)), convergeWithinMs);
  assert.notEqual(tookMs, undefined, "7 nodes did not converge");
  t.diagnostic(`7 nodes converged in ${tookMs} ms of virtual time, ring version ${cluster.membership("n1")!.ring()!.version}`);
});

async function convergedCluster(seed: number, size: number): Promise<SimCluster> {
  const cluster = new SimCluster({ seed });
  await bootCluster(cluster, nodeIds(size));
  assert.notEqual(await cluster.runUntil(() => cluster.converged(nodeIds(size)), convergeWithinMs), undefined, `${size} nodes did not converge`);
  return cluster;
}

test("a crashed node is suspected, then declared down by every other node", async (t) => {
  const cluster = await convergedCluster(11, 5);
  const crashedAtMs = cluster.sim.now();
  cluster.sim.crash("n3");
  const others = ["n1", "n2", "n4", "n5"];
  const tookMs = await cluster.runUntil(() => others.every((id) => cluster.stateSeenBy(id, "n3") === "down"), 20_000);
  assert.notEqual(tookMs, undefined, "n3 was not declared down everywhere");
  for (const observer of others) {
    const seen = cluster.events.filter((e) => e.observer === observer && e.member === "n3" && e.atMs >= crashedAtMs).map((e) => e.state);
    assert.equal(seen.at(-1), "down", `${observer} ends with n3 down`);
    assert.ok(seen.indexOf("suspect") !== -1 && seen.indexOf("suspect") < seen.indexOf("down"), `${observer} suspected n3 before declaring it down: ${seen.join(" > ")}`);
  }
  const firstSuspectMs = Math.min(...cluster.events.filter((e) => e.member === "n3" && e.state === "suspect" && e.atMs >= crashedAtMs).map((e) => e.atMs));
  t.diagnostic(`first suspicion after ${firstSuspectMs - crashedAtMs} ms, down everywhere after ${tookMs} ms (virtual)`);
  assert.ok(others.every((id) => cluster.membership(id)!.isUp("n3") === false));
});

test("a restarted node refutes its death and is up everywhere again", async (t) => {
  const cluster = await convergedCluster(12, 4);
  const before = cluster.membership("n1")!.member("n2")!.incarnation;
  cluster.sim.crash("n2");
  assert.notEqual(await cluster.runUntil(() => cluster.stateSeenBy("n1", "n2") === "down", 20_000), undefined, "n2 was not declared down");
  await cluster.restart("n2");
  const tookMs = await cluster.runUntil(() => cluster.converged(nodeIds(4)), convergeWithinMs);
  assert.notEqual(tookMs, undefined, "the restarted n2 did not come back up everywhere");
  assert.ok(cluster.membership("n1")!.member("n2")!.incarnation > before, "n2 came back with a higher incarnation");
  t.diagnostic(`restarted node up everywhere after ${tookMs} ms (virtual)`);
});

test("a node joining through one seed that is not the ring leader is seen by everyone", async (t) => {
  const cluster = await convergedCluster(13, 3);
  const ringBefore = cluster.membership("n1")!.ring()!.version;
  await cluster.add("n4", ["n3"]);
  const tookMs = await cluster.runUntil(() => cluster.converged(nodeIds(4)), convergeWithinMs);
  assert.notEqual(tookMs, undefined, "n4 was not seen up by everyone");
  assert.ok(cluster.membership("n2")!.ring()!.version > ringBefore);
  const n4States = cluster.events.filter((e) => e.observer === "n4" && e.member === "n4").map((e) => e.state);
  assert.deepEqual(n4States, ["up"], "n4 announced itself up (from joining) once the ring placed it");
  t.diagnostic(`joined and placed in ${tookMs} ms (virtual)`);
});

test("a symmetric partition marks the other side down on each side and heals", async () => {
  const cluster = await convergedCluster(14, 5);
  const left = ["n1", "n2"];
  const right = ["n3", "n4", "n5"];
  cluster.sim.network.partition(left, right);
  const split = await cluster.runUntil(
    () => left.every((l) => right.every((r) => cluster.stateSeenBy(l, r) === "down" && cluster.stateSeenBy(r, l) === "down")),
    25_000,
  );
  assert.notEqual(split, undefined, "each side did not declare the other down");
  assert.ok(left.every((a) => left.every((b) => cluster.stateSeenBy(a, b) === "up")), "the left side still sees itself up");
  cluster.sim.network.heal();
  assert.notEqual(await cluster.runUntil(() => cluster.converged(nodeIds(5)), convergeWithinMs), undefined, "the cluster did not heal");
});

test("a one-way partition from one node marks it down on the other side and heals", async () => {
  const cluster = await convergedCluster(15, 4);
  const others = ["n2", "n3", "n4"];
  cluster.sim.network.partitionOneWay(["n1"], others);
  assert.notEqual(await cluster.runUntil(() => others.every((id) => cluster.stateSeenBy(id, "n1") === "down"), 25_000), undefined, "n1 was not declared down");
  cluster.sim.network.heal();
  assert.notEqual(await cluster.runUntil(() => cluster.converged(nodeIds(4)), convergeWithinMs), undefined, "the cluster did not heal");
});

test("one broken link does not get a node suspected: indirect probes get through", async () => {
  const cluster = await convergedCluster(16, 4);
  const fromMs = cluster.sim.now();
  cluster.sim.network.partitionOneWay(["n1"], ["n2"]);
  await cluster.sim.runUntil(fromMs + 20_000);
  const accusations = cluster.events.filter((e) => e.atMs >= fromMs && (e.state === "suspect" || e.state === "down"));
  assert.deepEqual(accusations, []);
});

test("20% message loss still converges and a crash is still detected", async (t) => {
  const cluster = new SimCluster({ seed: 17, network: { faults: { lossProbability: 0.2 } } });
  await bootCluster(cluster, nodeIds(5));
  const tookMs = await cluster.runUntil(() => cluster.converged(nodeIds(5)), 30_000);
  assert.notEqual(tookMs, undefined, "5 nodes did not converge under 20% loss");
  cluster.sim.crash("n5");
  const others = nodeIds(4);
  assert.notEqual(await cluster.runUntil(() => others.every((id) => cluster.stateSeenBy(id, "n5") === "down"), 30_000), undefined, "n5 was not declared down under loss");
  const falseSuspicions = cluster.events.filter((e) => e.member !== "n5" && e.state === "suspect").length;
  t.diagnostic(`converged under 20% loss in ${tookMs} ms (virtual); ${falseSuspicions} false suspicions (refuted)`);
});

test("a leaving node is taken out of the ring everywhere", async () => {
  const cluster = await convergedCluster(18, 4);
  const told = await leaveAndRun(cluster, "n4");
  assert.ok(told >= 1, "the leave notice reached a peer");
  const rest = nodeIds(3);
  assert.notEqual(
    await cluster.runUntil(() => rest.every((id) => cluster.membership(id)!.ring()!.members.join() === rest.join() && cluster.stateSeenBy(id, "n4") === "leaving"), convergeWithinMs),
    undefined,
    "the ring did not drop n4",
  );
});

test("a member that left and died is forgotten everywhere and stays forgotten", async () => {
  const cluster = new SimCluster({ seed: 36, intervals: { forgetDownAfterMs: 10_000 } });
  await bootCluster(cluster, nodeIds(4));
  assert.notEqual(await cluster.runUntil(() => cluster.converged(nodeIds(4)), convergeWithinMs), undefined);
  await leaveAndRun(cluster, "n4");
  const rest = nodeIds(3);
  assert.notEqual(await cluster.runUntil(() => rest.every((id) => !cluster.membership(id)!.ring()!.members.includes("n4")), convergeWithinMs), undefined);
  cluster.sim.crash("n4");
  const forgotten = () => rest.every((id) => cluster.membership(id)!.member("n4") === undefined);
  assert.notEqual(await cluster.runUntil(forgotten, 30_000), undefined, "n4 was not forgotten");
  const fromMs = cluster.sim.now();
  await cluster.sim.runUntil(fromMs + 30_000);
  assert.ok(forgotten(), "a forgotten member was gossiped back in");
  assert.ok(cluster.converged(rest));
});

test("a crashed member that the ring still places is never forgotten", async () => {
  const cluster = new SimCluster({ seed: 37, intervals: { forgetDownAfterMs: 10_000 } });
  await bootCluster(cluster, nodeIds(3));
  assert.notEqual(await cluster.runUntil(() => cluster.converged(nodeIds(3)), convergeWithinMs), undefined);
  cluster.sim.crash("n3");
  await cluster.sim.runUntil(cluster.sim.now() + 40_000);
  assert.ok(["n1", "n2"].every((id) => cluster.stateSeenBy(id, "n3") === "down"));
});

test("a whole cluster restarted from its persisted rings keeps its ring version", async () => {
  const persisted = new Map<string, TestRing>();
  const cluster = new SimCluster({ seed: 38, persistedRing: (id) => persisted.get(id) });
  const ids = nodeIds(3);
  await bootCluster(cluster, ids);
  assert.notEqual(await cluster.runUntil(() => cluster.converged(ids), convergeWithinMs), undefined);
  for (const id of ids) persisted.set(id, cluster.membership(id)!.ring()!);
  const version = persisted.get("n1")!.version;
  for (const id of ids) cluster.sim.crash(id);
  for (const id of ids) await cluster.restart(id);
  assert.ok(ids.every((id) => cluster.membership(id)!.self.state === "up"), "a node placed by its persisted ring starts up");
  assert.notEqual(await cluster.runUntil(() => cluster.converged(ids), convergeWithinMs), undefined);
  assert.ok(ids.every((id) => cluster.membership(id)!.ring()!.version === version));
});

async function leaveAndRun(cluster: SimCluster, id: string): Promise<number> {
  let told = -1;
  void cluster.membership(id)!.leave().then((n) => (told = n));
  await cluster.runUntil(() => told >= 0, 5_000);
  return told;
}

async function traceOf(seed: number): Promise<string> {
  const cluster = new SimCluster({ seed, network: { faults: { lossProbability: 0.1, jitterMs: 5 } } });
  await bootCluster(cluster, nodeIds(4));
  await cluster.sim.runUntil(5_000);
  cluster.sim.crash("n2");
  await cluster.sim.runUntil(12_000);
  return cluster.sim.traceHash();
}

test("the same seed gives the same trace hash; another seed does not", async () => {
  const first = await traceOf(21);
  assert.equal(await traceOf(21), first);
  assert.notEqual(await traceOf(22), first);
});

test("two sides of a partition that each place a joiner agree on one ring after healing", async () => {
  const cluster = await convergedCluster(19, 4);
  cluster.sim.network.partition(["n1", "n2"], ["n3", "n4"]);
  const split = () => ["n1", "n2"].every((l) => cluster.stateSeenBy(l, "n3") === "down") && ["n3", "n4"].every((r) => cluster.stateSeenBy(r, "n1") === "down");
  assert.notEqual(await cluster.runUntil(split, 25_000), undefined, "the sides did not split");
  await cluster.add("n5", ["n1"]);
  await cluster.add("n6", ["n4"]);
  cluster.sim.network.partition(["n1", "n2", "n5"], ["n3", "n4", "n6"]);
  const placedOnEachSide = () => cluster.membership("n2")!.ring()!.members.includes("n5") && cluster.membership("n4")!.ring()!.members.includes("n6");
  assert.notEqual(await cluster.runUntil(placedOnEachSide, convergeWithinMs), undefined, "each side did not place its joiner");
  const left = cluster.membership("n1")!.ring()!;
  const right = cluster.membership("n3")!.ring()!;
  assert.notDeepEqual(left.members, right.members, "the two sides published different rings");
  cluster.sim.network.heal();
  assert.notEqual(await cluster.runUntil(() => cluster.converged(nodeIds(6)), convergeWithinMs), undefined, "the healed cluster did not agree on a ring placing all six");
});

/** Seeds for the swarm test: each picks a cluster size and a mix of faults (sim/fault-plan.ts). */
const swarmSeeds = Array.from({ length: 12 }, (_, i) => 1000 + i);

/**
 * One long episode per fault kind, and the heal comes 2.5 s after the last disruptive fault
 * began (episodes last at least 3.75 s), long enough for suspicion to be under way: the
 * liveness phase starts from a cluster that disagrees.
 */
function healAtMs(plan: FaultPlan): number {
  const disruptive = new Set(["partition", "partitionOneWay", "bridge", "crash", "clogLink"]);
  const starts = plan.events.filter((e) => disruptive.has(e.kind)).map((e) => e.atMs);
  return starts.length === 0 ? 18_000 : Math.max(...starts) + 2_500;
}

test("after any seed's mix of faults, healing brings every node up with one ring", async (t) => {
  let brokenAtHeal = 0;
  for (const seed of swarmSeeds) {
    const size = 3 + (seed % 5);
    const ids = nodeIds(size);
    const cluster = await convergedCluster(seed, size);
    const plan = planFaults(seed, { nodeIds: ids, safetyPhaseMs: 30_000, episodesPerKindMax: 1 });
    const faults = FaultSchedule.start(plan, cluster.sim);
    await cluster.sim.runUntil(cluster.sim.now() + healAtMs(plan));
    if (!cluster.converged(ids)) brokenAtHeal++;
    await faults.heal();
    const tookMs = await cluster.runUntil(() => cluster.converged(ids), 30_000);
    const replay = `seed ${seed}: ${size} nodes, faults [${plan.enabled.join(", ")}]`;
    assert.notEqual(tookMs, undefined, `${replay} did not converge within 30 s of healing`);
    assert.deepEqual(cluster.sim.errors, [], replay);
    t.diagnostic(`${replay}: healed at ${Math.round(healAtMs(plan))} ms, converged ${Math.round(tookMs!)} ms later`);
  }
  assert.ok(brokenAtHeal >= swarmSeeds.length / 3, `only ${brokenAtHeal} of ${swarmSeeds.length} seeds left the cluster disagreeing at the heal`);
});

test("a lone node without seeds places itself and is up", async () => {
  const cluster = new SimCluster({ seed: 31 });
  await cluster.add("solo", []);
  assert.notEqual(await cluster.runUntil(() => cluster.converged(["solo"]), 2_000), undefined);
  assert.deepEqual(cluster.membership("solo")!.ring(), { version: 1, members: ["solo"] });
  assert.equal(cluster.membership("solo")!.leader(), "solo");
});

test("a node whose seeds never answer stays joining and publishes no ring", async () => {
  const cluster = new SimCluster({ seed: 32 });
  await cluster.add("n1", ["n2"]);
  await cluster.add("n2", ["n1"]);
  cluster.sim.network.isolate("n1");
  await cluster.sim.runUntil(cluster.sim.now() + 10_000);
  assert.equal(cluster.membership("n1")!.self.state, "joining");
  assert.equal(cluster.membership("n1")!.ring(), undefined);
});

test("nodes booted together, each seeded with the others, elect one ring leader and converge", async () => {
  const cluster = new SimCluster({ seed: 33 });
  const ids = nodeIds(5);
  for (const id of ids) await cluster.add(id, ids.filter((x) => x !== id));
  assert.notEqual(await cluster.runUntil(() => cluster.converged(ids), convergeWithinMs), undefined);
  assert.ok(ids.every((id) => cluster.membership(id)!.leader() === "n1"));
});

test("handle ignores malformed and foreign messages, and a stopped node answers nothing", async () => {
  const cluster = await convergedCluster(34, 3);
  const n1 = cluster.membership("n1")!;
  assert.equal(n1.handle("n2", { type: "replica.put" }), undefined);
  assert.equal(n1.handle("n2", { type: "membership.ping-req" }), undefined);
  assert.equal((n1.handle("n2", { type: "membership.ping", updates: "junk" }) as { type: string }).type, "membership.ack");
  n1.stop();
  assert.equal(n1.handle("n2", { type: "membership.ping", updates: [] }), undefined);
  assert.notEqual(await cluster.runUntil(() => cluster.stateSeenBy("n2", "n1") === "down", 20_000), undefined, "a stopped node was not declared down");
});

test("a member that comes back on a new address is reported, so the node can update its address book", async () => {
  const cluster = new SimCluster({ seed: 35 });
  await cluster.add("solo", []);
  const solo = cluster.membership("solo")!;
  const seen: string[] = [];
  solo.onChange((e) => {
    if (e.kind === "member" && e.member.id === "n9") seen.push(`${e.member.state}@${e.member.address.host}:${e.member.address.peerPort}`);
  });
  const record = (host: string, incarnation: number) => ({ id: "n9", address: { host, peerPort: 9009, clientPort: 8009 }, state: "up", incarnation });
  solo.handle("n9", { type: "membership.sync", members: [record("10.0.0.9", 0)], ringStamp: null });
  solo.handle("n9", { type: "membership.sync", members: [record("10.0.0.9", 0)], ringStamp: null });
  solo.handle("n9", { type: "membership.sync", members: [record("10.0.0.19", 1)], ringStamp: null });
  assert.deepEqual(seen, ["up@10.0.0.9:9009", "up@10.0.0.19:9009"]);
});
