import { test } from "node:test";
import assert from "node:assert/strict";
import { pingScenario } from "./ping-scenario.js";
import { Simulation } from "./simulation.js";
import { PingNode } from "./ping-node.js";
import type { MemoryStorageEngine } from "../storage/memory-storage-engine.js";

// The demo workload proves the engine end to end: PingNodes under each seed's swarm of faults.

test("one seed run twice under faults gives the same trace hash; other seeds differ", async () => {
  const first = await pingScenario(1234, { safetyPhaseMs: 3000, livenessPhaseMs: 1000 });
  const second = await pingScenario(1234, { safetyPhaseMs: 3000, livenessPhaseMs: 1000 });
  assert.equal(first.ok, true, first.ok ? "" : first.reason);
  assert.equal(second.traceHash, first.traceHash);
  assert.equal(second.summary, first.summary);
  const others = new Set<string>();
  for (const seed of [1, 2, 3, 4]) others.add((await pingScenario(seed, { safetyPhaseMs: 3000, livenessPhaseMs: 1000 })).traceHash);
  assert.equal(others.size, 4);
  assert.ok(!others.has(first.traceHash));
});

test("every microtask drain mode gives the same trace for a faulty run", async () => {
  const options = { safetyPhaseMs: 2000, livenessPhaseMs: 500 };
  const hashes = new Set<string>();
  for (const drain of ["auto", "promise-hooks", "macrotask"] as const) hashes.add((await pingScenario(21, { ...options, drain })).traceHash);
  assert.equal(hashes.size, 1);
});

test("the ping workload survives every fault kind over a handful of seeds and recovers after heal", async () => {
  for (let seed = 100; seed < 112; seed++) {
    const result = await pingScenario(seed, { safetyPhaseMs: 4000, livenessPhaseMs: 1500, kinds: undefined });
    assert.equal(result.ok, true, `seed ${seed}: ${result.ok ? "" : result.reason} (${result.summary})`);
  }
});

test("a crashed ping node restarts from its durable counters, losing only unsynced writes", async () => {
  const sim = new Simulation({ seed: 3 });
  const peers = ["n1", "n2", "n3"];
  for (const id of peers) sim.addNode(id, (runtime) => PingNode.open(runtime, { peers, pingIntervalMs: 50, requestTimeoutMs: 200, durableEvery: 4 }));
  await sim.bootAll();
  await sim.runUntil(2000);
  const before = sim.node<PingNode>("n1").instance!.state;
  const unsynced = (sim.node("n1").engine as MemoryStorageEngine).unsyncedOps();
  assert.ok(unsynced > 0, "the seed must crash n1 with writes not yet durable");
  sim.crash("n1");
  await sim.restart("n1");
  const after = sim.node<PingNode>("n1").instance!;
  assert.ok(after.recovered.acknowledged > 0 && after.recovered.answered > 0, "durable counters survive");
  assert.ok(after.recovered.acknowledged + after.recovered.answered < before.acknowledged + before.answered, "unsynced counter writes are lost");
  await sim.runUntil(3000);
  assert.ok(after.acknowledgedSinceStart > 0, "the restarted node pings again");
});

test("a partition that cuts every link stops the pongs until it heals", async () => {
  let world: Simulation | undefined;
  const result = await pingScenario(5, {
    safetyPhaseMs: 2000,
    livenessPhaseMs: 1000,
    kinds: [],
    inspect: (sim) => {
      world = sim;
      sim.scheduler.at(500, () => {
        for (const a of sim.nodeIds()) sim.network.isolate(a);
      });
    },
  });
  const sim = world!;
  assert.equal(result.ok, true); // heal() lifts the cuts, so the liveness phase passes
  assert.ok(sim.network.stats.dropped.cut > 0);
});
