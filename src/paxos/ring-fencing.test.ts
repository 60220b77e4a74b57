import { test } from "node:test";
import assert from "node:assert/strict";
import { formatCounterexample } from "../checker/counterexample.js";
import { checkLinearizability } from "../checker/linearizability-checker.js";
import { registerModel } from "../checker/register-model.js";
import type { NodeId } from "../runtime/network.js";
import { Simulation } from "../sim/simulation.js";
import { StrongWorkload } from "../sim/strong-workload.js";
import { encodeItemKey } from "../storage/item-key.js";
import { AcceptorService } from "./acceptor-service.js";
import { StrongCoordinator, type StrongDecision, type StrongPlacement } from "./strong-coordinator.js";

// Ring-version fencing (README, "Ring-version fencing"): nodes whose rings differ, each with its
// own placement, on one simulated network. A node left on an old ring must not read or write
// through the old acceptor set once the partition moved; without fencing it does, and the
// checker sees it.

const requestTimeoutMs = 200;
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const ids: NodeId[] = ["n1", "n2", "n3", "n4", "n5"];
/** The partition's acceptors before (A) and after (B) it moved; n3 is in both. */
const setA: NodeId[] = ["n1", "n2", "n3"];
const setB: NodeId[] = ["n3", "n4", "n5"];

interface NodeRing {
  version: number;
  acceptors: NodeId[];
  previous?: NodeId[];
}

interface Cluster {
  sim: Simulation;
  rings: Map<NodeId, NodeRing>;
  strong(id: NodeId): StrongCoordinator;
}

/** Ring 1: A; ring 2: A -> B in transition; ring 3: B settled. */
const ring1: NodeRing = { version: 1, acceptors: setA };
const ring2: NodeRing = { version: 2, acceptors: setB, previous: setA };
const ring3: NodeRing = { version: 3, acceptors: setB };

async function cluster(seed: number, options: { fencing: boolean }): Promise<Cluster> {
  const sim = new Simulation({ seed });
  const rings = new Map<NodeId, NodeRing>(ids.map((id) => [id, ring1]));
  for (const id of ids) {
    const placement: StrongPlacement = {
      acceptorsFor: () => {
        const ring = rings.get(id)!;
        const placed = { acceptors: ring.acceptors, ...(ring.previous === undefined ? {} : { previous: ring.previous }) };
        return options.fencing ? { ...placed, ringVersion: ring.version } : placed;
      },
      ...(options.fencing ? { ringVersion: () => rings.get(id)!.version } : {}),
    };
    sim.addNode(id, (runtime) => {
      const strong = new StrongCoordinator({ runtime, acceptors: new AcceptorService({ runtime }), placement, requestTimeoutMs, attemptsMax: 3 });
      runtime.network.serve((from, message) => strong.handle(from, message));
      return strong;
    });
  }
  await sim.bootAll();
  return { sim, rings, strong: (id) => sim.node<StrongCoordinator>(id).instance! };
}

const key = encodeItemKey(1, encoder.encode("k"));
const set = (text: string): StrongDecision => ({ type: "set", value: { value: encoder.encode(text), contentType: "text/plain", metadata: [], expiresAtMs: null } });

/**
 * The partition moves A -> B while n1 and n2 stay on ring 1 (cut off from gossip): n4 runs the
 * transition as the ownership transfer does (fence A's scanned majority, n2 and n3, at ring 2,
 * then read the key under the joint sets), then n3-n5 settle on ring 3.
 */
async function move(c: Cluster, fencing = true): Promise<void> {
  for (const id of ["n3", "n4", "n5"]) c.rings.set(id, ring2);
  if (fencing) for (const source of ["n2", "n3"]) assert.equal(await c.sim.settle(c.strong("n4").fence(source, 2)), true, `fence of ${source}`);
  const read = await c.sim.settle(c.strong("n4").read(key, 3));
  assert.ok(read.ok, `the transfer's read failed: ${JSON.stringify(read)}`);
  for (const id of ["n3", "n4", "n5"]) c.rings.set(id, ring3);
}

test("a node on an older ring is refused by the fenced old acceptors, then serves the new value once it has the new ring", async () => {
  const c = await cluster(11, { fencing: true });
  assert.ok((await c.sim.settle(c.strong("n2").change(key, 3, () => set("a")))).ok);
  await move(c);
  assert.ok((await c.sim.settle(c.strong("n5").change(key, 3, () => set("b")))).ok);

  // n1 (ring 1) would find "a" on its own acceptor and n2's: both refuse, n2 for its fence.
  const stale = await c.sim.settle(c.strong("n1").read(key, 3));
  assert.equal(stale.ok, false);
  assert.ok(!stale.ok && stale.error === "unavailable", JSON.stringify(stale));
  assert.match(stale.message, /ring version/);
  // The one-round-trip read carries the ring version too: refused, then the full round, refused.
  const staleFast = await c.sim.settle(c.strong("n1").readFast(key, 3));
  assert.ok(!staleFast.ok && staleFast.error === "unavailable", JSON.stringify(staleFast));
  const staleWrite = await c.sim.settle(c.strong("n2").change(key, 3, () => set("c")));
  assert.ok(!staleWrite.ok && staleWrite.error === "unavailable", JSON.stringify(staleWrite));

  // Gossip brings ring 3: the next request goes to B and sees "b".
  c.rings.set("n1", ring3);
  const fresh = await c.sim.settle(c.strong("n1").read(key, 3));
  assert.ok(fresh.ok && fresh.value !== undefined, JSON.stringify(fresh));
  assert.equal(decoder.decode(fresh.value.value), "b");
  const freshFast = await c.sim.settle(c.strong("n1").readFast(key, 3));
  assert.ok(freshFast.ok && freshFast.value !== undefined && decoder.decode(freshFast.value.value) === "b", JSON.stringify(freshFast));
});

test("the fence survives a restart of the old acceptor", async () => {
  const c = await cluster(12, { fencing: true });
  assert.ok((await c.sim.settle(c.strong("n2").change(key, 3, () => set("a")))).ok);
  await move(c);
  c.sim.crash("n2");
  await c.sim.restart("n2");
  const stale = await c.sim.settle(c.strong("n1").read(key, 3));
  assert.ok(!stale.ok && stale.error === "unavailable", JSON.stringify(stale));
});

test("without fencing the node on the old ring reads a value the new acceptors overwrote (the test has teeth)", async () => {
  const c = await cluster(11, { fencing: false });
  assert.ok((await c.sim.settle(c.strong("n2").change(key, 3, () => set("a")))).ok);
  await move(c, false);
  assert.ok((await c.sim.settle(c.strong("n5").change(key, 3, () => set("b")))).ok);
  const stale = await c.sim.settle(c.strong("n1").read(key, 3));
  assert.ok(stale.ok && stale.value !== undefined);
  assert.equal(decoder.decode(stale.value.value), "a");
});

/** Concurrent clients through all five nodes after the move, two of them still on ring 1. */
async function mixedRingsHistory(seed: number, fencing: boolean): Promise<{ ok: boolean; reason: string; definite: number; failed: number }> {
  const c = await cluster(seed, { fencing });
  await move(c, fencing);
  const workload = new StrongWorkload({
    sim: c.sim,
    registerOf: (id) => c.strong(id),
    nodeIds: ids,
    keySlots: 2,
    keyGenerationMs: 400,
    n: 3,
    thinkMsMax: 20,
    clientTimeoutMs: 3 * requestTimeoutMs,
    operationsMax: 10_000,
  });
  const endMs = c.sim.now() + 1_200;
  for (let client = 0; client < 6; client++) c.sim.guard(`client c${client}`, workload.client(client, c.sim.fork(`client c${client}`), endMs));
  await c.sim.runUntil(endMs + 1_000);
  assert.deepEqual(c.sim.errors, []);
  const checked = checkLinearizability(workload.recorder.history(), registerModel, { stepsMax: 2_000_000 });
  assert.notEqual(checked.ok, "unknown");
  return { ok: checked.ok === true, reason: checked.ok === false ? formatCounterexample(checked.counterexample) : "", definite: workload.counts.ok, failed: workload.counts.failed };
}

test("with nodes on two rings at once the checker passes, and without fencing it finds the violation", async () => {
  for (const seed of [21, 22, 23]) {
    const fenced = await mixedRingsHistory(seed, true);
    assert.ok(fenced.ok, `seed ${seed}: ${fenced.reason}`);
    assert.ok(fenced.definite > 50 && fenced.failed > 10, `seed ${seed}: ${fenced.definite} ok, ${fenced.failed} failed: the stale nodes did not take part`);
  }
  const unfenced = await Promise.all([21, 22, 23].map((seed) => mixedRingsHistory(seed, false)));
  assert.ok(
    unfenced.some((run) => !run.ok),
    "every unfenced run passed: the mixed-ring workload has no teeth",
  );
});
