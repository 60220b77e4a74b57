import { test } from "node:test";
import assert from "node:assert/strict";
import type { Runtime } from "../runtime/runtime.js";
import { Simulation } from "./simulation.js";

const enc = new TextEncoder();
const dec = new TextDecoder();
const read = (runtime: Runtime, key: string): string | undefined => {
  const value = runtime.storage.get(enc.encode(key));
  return value === undefined ? undefined : dec.decode(value);
};
const put = (runtime: Runtime, key: string, value: string, durable = false): Promise<void> =>
  runtime.storage.write([{ type: "put", key: enc.encode(key), value: enc.encode(value) }], { durable });

test("a crash loses storage writes that were not durable and keeps those that were", async () => {
  const sim = new Simulation({ seed: 1 });
  const node = sim.addNode("n1", (runtime) => runtime);
  const first = await node.boot();
  await sim.settle(put(first, "kept", "yes", true));
  await sim.settle(put(first, "lost", "yes"));
  assert.equal(read(first, "lost"), "yes");
  sim.crash("n1");
  const second = await node.boot();
  assert.equal(node.incarnation, 2);
  assert.equal(read(second, "kept"), "yes");
  assert.equal(read(second, "lost"), undefined);
});

test("a crash drops the node's timers and a restarted node starts with none", async () => {
  const sim = new Simulation({ seed: 1 });
  const fired: string[] = [];
  const node = sim.addNode("n1", (runtime) => {
    runtime.timers.setTimeout(() => fired.push(`incarnation ${node.incarnation}`), 100);
    return runtime;
  });
  const first = await node.boot();
  sim.crash("n1");
  first.timers.setTimeout(() => fired.push("ghost"), 10); // the dead process cannot wake up
  await sim.runUntil(1000);
  assert.deepEqual(fired, []);
  await sim.restart("n1");
  await sim.runUntil(2000);
  assert.deepEqual(fired, ["incarnation 2"]);
});

test("settle fails clearly when the awaited work can never finish", async () => {
  const sim = new Simulation({ seed: 1 });
  await assert.rejects(sim.settle(new Promise(() => undefined)), /cannot settle the awaited work: the run stopped \(idle\) at 0 ms/);
});

test("a dead incarnation's pending and late writes never reach the disk nor resolve", async () => {
  const sim = new Simulation({ seed: 1 });
  const node = sim.addNode("n1", (runtime) => runtime);
  const ghost = await node.boot();
  let acknowledged = false;
  void put(ghost, "pending", "x", true).then(() => (acknowledged = true));
  sim.crash("n1");
  void put(ghost, "late", "x", true);
  const fresh = await node.boot();
  await sim.runUntil(1000);
  assert.equal(acknowledged, false);
  assert.equal(read(fresh, "late"), undefined);
});

test("writes are acknowledged after virtual disk latency, durable ones after the sync delay", async () => {
  const sim = new Simulation({ seed: 1, storage: { writeDelayMinMs: 1, writeDelayMaxMs: 1, syncDelayMs: 5 } });
  const runtime = await sim.addNode("n1", (r) => r).boot();
  const at: number[] = [];
  void put(runtime, "a", "1").then(() => at.push(sim.now()));
  void put(runtime, "b", "1", true).then(() => at.push(sim.now()));
  await sim.runUntil(100);
  assert.deepEqual(at, [1, 6]);
});

test("messages to a crashed node are dropped and its peers' requests time out", async () => {
  const sim = new Simulation({ seed: 1 });
  const answered: string[] = [];
  for (const id of ["a", "b"]) {
    sim.addNode(id, (runtime) => {
      runtime.network.serve((from) => void answered.push(`${id} from ${from}`));
      return runtime;
    });
  }
  await sim.bootAll();
  sim.crash("b");
  const result = sim.node<Runtime>("a").instance!.network!.request("b", "hi", { timeoutMs: 50 });
  await sim.runUntil(100);
  assert.deepEqual(await result, { ok: false, error: "timeout" });
  assert.deepEqual(answered, []);
  assert.equal(sim.network.isDown("b"), true);
});

test("each node gets its own random stream, and a restart gets a fresh one", async () => {
  const sim = new Simulation({ seed: 5 });
  const a = await sim.addNode("a", (r) => r).boot();
  const b = await sim.addNode("b", (r) => r).boot();
  const first = a.random.next();
  assert.notEqual(first, b.random.next());
  sim.crash("a");
  const again = await sim.node<Runtime>("a").boot();
  assert.notEqual(again.random.next(), first);
  const replay = await new Simulation({ seed: 5 }).addNode("a", (r) => r).boot();
  assert.equal(replay.random.next(), first);
});

test("guard records a rejected background task as an error of the run", async () => {
  const sim = new Simulation({ seed: 1 });
  sim.guard("client 3", Promise.reject(new Error("lost write")));
  await sim.runUntil(1);
  assert.deepEqual(sim.errors, ["0 ms: client 3: lost write"]);
});

test("a simulation refuses network bounds its scheduler could not queue", () => {
  assert.throws(() => new Simulation({ seed: 1, scheduler: { eventsQueuedMax: 1000 } }), /the network may hold 220000 messages but the scheduler queues only 1000 events/);
});

test("nodes whose start needs virtual time boot and restart from outside the run and from fault events", async () => {
  const sim = new Simulation({ seed: 1 });
  const node = sim.addNode("n1", async (runtime) => {
    await put(runtime, "boots", String(Number(read(runtime, "boots") ?? "0") + 1), true);
    return runtime;
  });
  await sim.bootAll(); // outside any event: the simulation drives the durable write itself
  assert.equal(read(node.runtime!, "boots"), "1");
  sim.crash("n1");
  await sim.restart("n1");
  assert.equal(read(node.runtime!, "boots"), "2");
  sim.scheduler.after(10, () => {
    sim.crash("n1");
    void sim.restart("n1"); // inside an event: the running scheduler carries it
  });
  await sim.runUntil(100);
  assert.equal(read(node.runtime!, "boots"), "3");
});
