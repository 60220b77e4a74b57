import { test } from "node:test";
import assert from "node:assert/strict";
import { SeededRandom } from "../runtime/seeded-random.js";
import type { RequestResult } from "../runtime/network.js";
import { Scheduler } from "./scheduler.js";
import { isRemoteFailure } from "../transport/remote-failure.js";
import { SimNetwork, type NetworkFaults, type SimNetworkOptions } from "./sim-network.js";

function setup(faults: Partial<NetworkFaults> = {}, options: Partial<SimNetworkOptions> = {}) {
  const scheduler = new Scheduler();
  const network = new SimNetwork(scheduler, { random: new SeededRandom(42), faults, ...options });
  const inbox = new Map<string, Array<{ from: string; message: unknown; atMs: number }>>();
  for (const id of ["a", "b", "c", "d", "e"]) {
    const endpoint = network.attach(id);
    inbox.set(id, []);
    endpoint.serve((from, message) => {
      inbox.get(id)!.push({ from, message, atMs: scheduler.now() });
      return { echo: message, by: id };
    });
  }
  const ep = (id: string) => network.endpoint(id)!;
  const got = (id: string) => inbox.get(id)!.map((m) => m.message);
  return { scheduler, network, inbox, ep, got };
}

test("a request gets its handler's reply after a round trip of virtual delay", async () => {
  const { scheduler, ep, inbox } = setup({ delayMinMs: 2, delayMaxMs: 5 });
  const reply = ep("a").request("b", { n: 1 }, { timeoutMs: 1000 });
  await scheduler.runToIdle();
  assert.deepEqual(await reply, { ok: true, reply: { echo: { n: 1 }, by: "b" } });
  const arrivedMs = inbox.get("b")![0]!.atMs;
  assert.ok(arrivedMs >= 2 && arrivedMs <= 5, `arrived at ${arrivedMs}`);
});

test("messages are copies: binary fields survive and the receiver cannot touch the sender's object", async () => {
  const { scheduler, ep, inbox } = setup();
  const sent = { bytes: new Uint8Array([0, 255, 7]), list: [1, 2] };
  ep("a").send("b", sent);
  await scheduler.runToIdle();
  const received = inbox.get("b")![0]!.message as typeof sent;
  assert.notEqual(received, sent);
  assert.ok(received.bytes instanceof Uint8Array);
  assert.deepEqual([...received.bytes], [0, 255, 7]);
  received.list.push(3);
  assert.deepEqual(sent.list, [1, 2]);
});

test("a request times out in virtual time when no reply comes, and unknown nodes are unreachable", async () => {
  const { scheduler, network, ep } = setup();
  network.endpoint("b")!.serve(() => new Promise(() => undefined));
  const silent = ep("a").request("b", "hello", { timeoutMs: 250 });
  const unknown = ep("a").request("zz", "hello", { timeoutMs: 250 });
  let settledAtMs = -1;
  void silent.then(() => (settledAtMs = scheduler.now()));
  await scheduler.runToIdle();
  assert.deepEqual(await silent, { ok: false, error: "timeout" });
  assert.equal(settledAtMs, 250);
  assert.deepEqual(await unknown, { ok: false, error: "unreachable" });
  assert.equal(network.stats.timeouts, 1);
});

test("a handler that throws or rejects yields a failure the caller can see", async () => {
  const { scheduler, network, ep } = setup();
  network.endpoint("b")!.serve(() => {
    throw new Error("boom");
  });
  network.endpoint("c")!.serve(() => Promise.reject(new Error("boom")));
  const thrown = ep("a").request("b", 1, { timeoutMs: 100 });
  const rejected = ep("a").request("c", 1, { timeoutMs: 100 });
  await scheduler.runToIdle();
  for (const result of [await thrown, await rejected]) {
    assert.ok(result.ok && isRemoteFailure(result.reply), JSON.stringify(result));
    assert.match(result.reply.shoalRemoteFailure.message, /Error: boom/);
  }
});

test("a symmetric partition blocks both directions and heal restores them", async () => {
  const { scheduler, network, ep, got } = setup();
  network.partition(["a", "b"], ["c", "d", "e"]);
  ep("a").send("c", "a>c");
  ep("c").send("a", "c>a");
  ep("a").send("b", "a>b");
  await scheduler.runToIdle();
  assert.deepEqual(got("c"), []);
  assert.deepEqual(got("a"), []);
  assert.deepEqual(got("b"), ["a>b"]);
  network.heal();
  ep("a").send("c", "again");
  await scheduler.runToIdle();
  assert.deepEqual(got("c"), ["again"]);
});

test("a one-way partition lets b reach a but not a reach b", async () => {
  const { scheduler, network, ep, got } = setup();
  network.partitionOneWay(["a"], ["b"]);
  ep("a").send("b", "a>b");
  ep("b").send("a", "b>a");
  const request = ep("b").request("a", "ask", { timeoutMs: 100 }); // reaches a; the reply cannot come back
  await scheduler.runToIdle();
  assert.deepEqual(got("b"), []);
  assert.deepEqual(got("a"), ["b>a", "ask"]);
  assert.deepEqual(await request, { ok: false, error: "timeout" });
});

test("a bridge node sees both halves while the halves cannot see each other", async () => {
  const { scheduler, network, ep, got } = setup();
  network.bridge(["a", "b"], ["d", "e"], "c");
  for (const from of ["a", "d"]) for (const to of ["a", "b", "c", "d", "e"]) if (from !== to) ep(from).send(to, from);
  await scheduler.runToIdle();
  assert.deepEqual(got("c").sort(), ["a", "d"]);
  assert.deepEqual(got("b"), ["a"]);
  assert.deepEqual(got("e"), ["d"]);
});

test("a message in flight when its link is cut is lost", async () => {
  const { scheduler, network, ep, got } = setup({ delayMinMs: 10, delayMaxMs: 10 });
  ep("a").send("b", "in flight");
  await scheduler.runUntil(5);
  network.partition(["a"], ["b"]);
  await scheduler.runToIdle();
  assert.deepEqual(got("b"), []);
  assert.equal(network.stats.dropped.cut, 1);
});

test("loss and duplication happen at their configured rates", async () => {
  const { scheduler, network, ep, got } = setup({ lossProbability: 0.2, duplicateProbability: 0.1 });
  const sends = 10_000;
  for (let i = 0; i < sends; i++) ep("a").send("b", i);
  await scheduler.runToIdle();
  // Three standard deviations of a binomial; the seed is fixed, so this is exact and repeatable.
  const lost = network.stats.dropped.loss;
  assert.ok(Math.abs(lost - 2000) < 3 * Math.sqrt(sends * 0.2 * 0.8), `lost ${lost}`);
  const duplicated = network.stats.duplicated;
  assert.ok(Math.abs(duplicated - 800) < 3 * Math.sqrt(8000 * 0.1 * 0.9), `duplicated ${duplicated}`);
  assert.equal(got("b").length, sends - lost + duplicated);
  assert.equal(new Set(got("b")).size, sends - lost);
});

test("equal delays keep a link in order; jitter reorders it", async () => {
  const inOrder = setup({ delayMinMs: 3, delayMaxMs: 3 });
  const jittery = setup({ delayMinMs: 3, delayMaxMs: 3, jitterMs: 20 });
  for (const { ep } of [inOrder, jittery]) for (let i = 0; i < 100; i++) ep("a").send("b", i);
  await inOrder.scheduler.runToIdle();
  await jittery.scheduler.runToIdle();
  const sorted = [...Array(100).keys()];
  assert.deepEqual(inOrder.got("b"), sorted);
  assert.notDeepEqual(jittery.got("b"), sorted);
  assert.deepEqual([...(jittery.got("b") as number[])].sort((x, y) => x - y), sorted);
});

test("a clogged node's messages are held until it is unclogged, then delivered", async () => {
  const { scheduler, network, ep, got } = setup();
  network.clogNode("b");
  ep("a").send("b", "to b");
  ep("b").send("c", "from b");
  ep("a").send("c", "a>c");
  await scheduler.runUntil(1000);
  assert.deepEqual(got("b"), []);
  assert.deepEqual(got("c"), ["a>c"]);
  assert.equal(network.stats.held, 2);
  network.unclogLink("b", "c");
  await scheduler.runUntil(2000);
  assert.deepEqual(got("c"), ["a>c", "from b"]);
  assert.deepEqual(got("b"), []);
  network.unclogNode("b");
  await scheduler.runToIdle();
  assert.deepEqual(got("b"), ["to b"]);
});

test("a killed node drops what is sent to it, and requests to it time out", async () => {
  const { scheduler, network, ep, got } = setup();
  network.kill("b");
  assert.equal(network.isDown("b"), true);
  ep("a").send("b", "lost");
  const request = ep("a").request("b", "ask", { timeoutMs: 100 });
  await scheduler.runToIdle();
  assert.deepEqual(got("b"), []);
  assert.deepEqual(await request, { ok: false, error: "timeout" });
  const restarted = network.attach("b");
  const seen: unknown[] = [];
  restarted.serve((_from, message) => void seen.push(message));
  ep("a").send("b", "after restart");
  await scheduler.runToIdle();
  assert.deepEqual(seen, ["after restart"]);
});

test("a killed requester never sees its requests settle, and its late sends vanish", async () => {
  const { scheduler, network, ep, got } = setup();
  const victim = ep("a");
  let settled = false;
  void victim.request("b", "ask", { timeoutMs: 100 }).then(() => (settled = true));
  network.kill("a");
  victim.send("c", "ghost");
  await scheduler.runToIdle();
  assert.equal(settled, false);
  assert.equal(victim.waitingCount, 0);
  assert.deepEqual(got("c"), []);
});

test("a closed endpoint fails waiting and new requests with closed", async () => {
  const { scheduler, ep } = setup();
  const waiting = ep("a").request("b", "ask", { timeoutMs: 100 });
  ep("a").close();
  await scheduler.runToIdle();
  assert.deepEqual(await waiting, { ok: false, error: "closed" });
  assert.deepEqual(await ep("a").request("b", "ask", { timeoutMs: 100 }), { ok: false, error: "closed" });
});

test("requests beyond peerInFlightMax to one peer fail overloaded at once", async () => {
  const { scheduler, ep } = setup({}, { peerInFlightMax: 2 });
  const results: Array<Promise<RequestResult>> = [];
  for (let i = 0; i < 3; i++) results.push(ep("a").request("b", i, { timeoutMs: 100 }));
  const other = ep("a").request("c", 0, { timeoutMs: 100 });
  await scheduler.runToIdle();
  const settled = await Promise.all(results);
  assert.deepEqual(settled.map((r) => r.ok), [true, true, false]);
  assert.deepEqual(settled[2], { ok: false, error: "overloaded" });
  assert.equal((await other).ok, true);
});

test("an oversized message throws FrameTooLarge naming the sizes; an oversized request rejects and leaves nothing behind", async () => {
  const { scheduler, ep } = setup({}, { messageBytesMax: 100 });
  assert.throws(() => ep("a").send("b", new Uint8Array(200)), /frame is 20\d bytes; the limit is 100/);
  await assert.rejects(ep("a").request("b", new Uint8Array(200), { timeoutMs: 100 }), /FrameTooLarge|frame is 20\d bytes/);
  assert.equal(ep("a").waitingCount, 0);
  assert.equal(scheduler.pending, 0, "the deadline of the refused request is cancelled");
});

test("in-flight and held messages are bounded", async () => {
  const { scheduler, network, ep, got } = setup({}, { inFlightMax: 5, heldMax: 2 });
  for (let i = 0; i < 8; i++) ep("a").send("b", i);
  network.clogLink("a", "c");
  await scheduler.runToIdle();
  assert.equal(got("b").length, 5);
  for (let i = 0; i < 4; i++) ep("a").send("c", i);
  await scheduler.runToIdle();
  assert.equal(network.stats.held, 2);
  assert.equal(network.stats.dropped.overflow, 3 + 2);
});
