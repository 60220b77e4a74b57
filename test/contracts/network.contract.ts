import { test } from "node:test";
import assert from "node:assert/strict";
import type { Network, NodeId, RequestResult } from "../../src/runtime/network.js";
import { isRemoteFailure } from "../../src/transport/remote-failure.js";

/**
 * What every Network (runtime/network.ts) must do, whatever carries the bytes: TCP
 * (transport/tcp-network.ts) and the simulated network (sim/) both run this suite.
 *
 * No test here assumes TCP, real time or a particular failure for a missing node beyond what
 * the interface allows; none measures elapsed time. Waiting is on promises only, so an
 * implementation driven by virtual time can run the suite by advancing its clock while the
 * test awaits. Every test carries a bound (`timeout`) so a hang fails instead of stalling.
 *
 * A handler that throws must reach the caller as a value it can tell apart from a reply and
 * from a transport failure: `{ ok: true, reply: RemoteFailure }` (transport/remote-failure.ts),
 * or `{ ok: false, error: "remote" }` should the interface grow that failure.
 */
export interface NetworkFixture {
  networks: Map<NodeId, Network>;
  close(): Promise<void>;
}

export type NetworkFactory = (nodeIds: NodeId[]) => Promise<NetworkFixture>;

const testTimeoutMs = 20_000;
const requestTimeoutMs = 5_000;

export function networkContract(name: string, create: NetworkFactory): void {
  const contract = (title: string, body: (fixture: NetworkFixture) => Promise<void>, nodeIds: NodeId[] = ["a", "b"]): void => {
    test(`${name}: ${title}`, { timeout: testTimeoutMs }, async () => {
      const fixture = await create(nodeIds);
      try {
        await body(fixture);
      } finally {
        await fixture.close();
      }
    });
  };
  const node = (fixture: NetworkFixture, id: NodeId): Network => {
    const network = fixture.networks.get(id);
    assert.ok(network, `the fixture has no network for node ${id}`);
    return network;
  };

  contract("a request reaches the handler and its reply comes back, naming the sender", async (fixture) => {
    node(fixture, "b").serve((from, message) => ({ from, echo: message }));
    const result = await node(fixture, "a").request("b", { op: "ping", n: 1 }, { timeoutMs: requestTimeoutMs });
    assert.deepEqual(result, { ok: true, reply: { from: "a", echo: { op: "ping", n: 1 } } });
  });

  contract("requests flow both ways between the same two nodes", async (fixture) => {
    node(fixture, "a").serve(() => "from a");
    node(fixture, "b").serve(() => "from b");
    const [toB, toA] = await Promise.all([
      node(fixture, "a").request("b", null, { timeoutMs: requestTimeoutMs }),
      node(fixture, "b").request("a", null, { timeoutMs: requestTimeoutMs }),
    ]);
    assert.deepEqual([toB, toA], [{ ok: true, reply: "from b" }, { ok: true, reply: "from a" }]);
  });

  contract("many concurrent requests each get their own reply, even when answered out of order", async (fixture) => {
    const count = 200;
    const arrived: Array<{ n: number; answer: (reply: unknown) => void }> = [];
    node(fixture, "b").serve((_from, message) => {
      const { n } = message as { n: number };
      return new Promise((resolve) => {
        arrived.push({ n, answer: resolve });
        // Once every request is in, answer them last-first.
        if (arrived.length === count) for (const entry of [...arrived].reverse()) entry.answer({ doubled: entry.n * 2 });
      });
    });
    const results = await Promise.all(
      Array.from({ length: count }, (_, n) => node(fixture, "a").request("b", { n }, { timeoutMs: requestTimeoutMs })),
    );
    assert.deepEqual(results, Array.from({ length: count }, (_, n) => ({ ok: true, reply: { doubled: n * 2 } })));
  });

  contract("a handler that throws yields a failure distinct from any reply or transport failure", async (fixture) => {
    node(fixture, "b").serve((_from, message) => {
      if (message === "throw") throw new Error("replica exploded");
      if (message === "reject") return Promise.reject(new Error("replica rejected"));
      return "fine";
    });
    const a = node(fixture, "a");
    const thrown = await a.request("b", "throw", { timeoutMs: requestTimeoutMs });
    const rejected = await a.request("b", "reject", { timeoutMs: requestTimeoutMs });
    const fine = await a.request("b", "fine", { timeoutMs: requestTimeoutMs });
    assertRemoteFailure(thrown, /replica exploded/);
    assertRemoteFailure(rejected, /replica rejected/);
    assert.deepEqual(fine, { ok: true, reply: "fine" }, "the node keeps serving after a handler failed");
  });

  contract("a request to an unknown node resolves to unreachable or timeout", async (fixture) => {
    const result = await node(fixture, "a").request("nobody", "hello?", { timeoutMs: 200 });
    assert.equal(result.ok, false);
    assert.ok(!result.ok && (result.error === "unreachable" || result.error === "timeout"), `got ${JSON.stringify(result)}`);
  });

  contract("a request whose handler never answers resolves to timeout", async (fixture) => {
    node(fixture, "b").serve(() => new Promise(() => undefined));
    const result = await node(fixture, "a").request("b", "anyone there?", { timeoutMs: 100 });
    assert.deepEqual(result, { ok: false, error: "timeout" });
  });

  contract("a one-way message arrives at the handler with its sender", async (fixture) => {
    const arrived = new Promise<{ from: NodeId; message: unknown }>((resolve) => {
      node(fixture, "b").serve((from, message) => resolve({ from, message }));
    });
    node(fixture, "a").send("b", { gossip: [1, 2, 3] });
    assert.deepEqual(await arrived, { from: "a", message: { gossip: [1, 2, 3] } });
  });

  contract("a one-way message to an unknown node is dropped without an error", async (fixture) => {
    node(fixture, "a").send("nobody", "lost");
    node(fixture, "b").serve(() => "still fine");
    assert.deepEqual(await node(fixture, "a").request("b", null, { timeoutMs: requestTimeoutMs }), { ok: true, reply: "still fine" });
  });

  contract("a 1 MiB message and its 1 MiB reply round-trip intact", async (fixture) => {
    const big = patterned(1024 * 1024, 11);
    node(fixture, "b").serve((_from, message) => {
      const bytes = (message as { value: Uint8Array }).value;
      return { value: patterned(bytes.length, 29), received: checksum(bytes) };
    });
    const result = await node(fixture, "a").request<{ value: Uint8Array; received: number }>("b", { value: big }, { timeoutMs: requestTimeoutMs });
    assert.ok(result.ok, `got ${JSON.stringify(result)}`);
    assert.equal(result.reply.received, checksum(big));
    assert.ok(result.reply.value instanceof Uint8Array);
    assert.equal(result.reply.value.length, big.length);
    assert.ok(Buffer.from(result.reply.value).equals(Buffer.from(patterned(big.length, 29))));
  });

  contract("binary Uint8Array fields survive, nested and empty", async (fixture) => {
    node(fixture, "b").serve((_from, message) => message);
    const message = { key: Uint8Array.of(0, 255, 7), nested: { parts: [Uint8Array.of(1), new Uint8Array(0)] }, text: "k" };
    const result = await node(fixture, "a").request<typeof message>("b", message, { timeoutMs: requestTimeoutMs });
    assert.ok(result.ok);
    const reply = result.reply;
    for (const [got, sent] of [
      [reply.key, message.key],
      [reply.nested.parts[0], message.nested.parts[0]],
      [reply.nested.parts[1], message.nested.parts[1]],
    ] as const) {
      assert.ok(got instanceof Uint8Array, "a binary field comes back as a Uint8Array");
      assert.deepEqual([...got], [...sent!]);
    }
    assert.equal(reply.text, "k");
  });

  contract("plain values keep their types: strings, integers, floats, booleans, null, arrays", async (fixture) => {
    node(fixture, "b").serve((_from, message) => message);
    const message = { s: "ünïcode ✓", i: -42, big: 2 ** 52, f: 0.25, t: true, f2: false, n: null, list: [1, "two", [3]] };
    assert.deepEqual(await node(fixture, "a").request("b", message, { timeoutMs: requestTimeoutMs }), { ok: true, reply: message });
  });

  contract(
    "every node can reach every other node",
    async (fixture) => {
      const ids = [...fixture.networks.keys()];
      for (const id of ids) node(fixture, id).serve((from) => `${from}->${id}`);
      const pairs = ids.flatMap((from) => ids.filter((to) => to !== from).map((to) => [from, to] as const));
      const results = await Promise.all(pairs.map(([from, to]) => node(fixture, from).request(to, null, { timeoutMs: requestTimeoutMs })));
      assert.deepEqual(results, pairs.map(([from, to]) => ({ ok: true, reply: `${from}->${to}` })));
    },
    ["a", "b", "c"],
  );
}

function assertRemoteFailure(result: RequestResult, message: RegExp): void {
  if (result.ok) {
    assert.ok(isRemoteFailure(result.reply), `expected a RemoteFailure reply, got ${JSON.stringify(result.reply)}`);
    assert.match(result.reply.shoalRemoteFailure.message, message);
  } else {
    // Only a failure the interface does not have yet ("remote") may stand for a thrown handler.
    assert.equal(result.error as string, "remote", `a thrown handler must not look like a transport failure: ${result.error}`);
  }
}

/** Deterministic bytes that differ by position and seed, so misplaced chunks are caught. */
function patterned(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let x = seed >>> 0;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    bytes[i] = x >>> 24;
  }
  return bytes;
}

function checksum(bytes: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i++) sum = (Math.imul(sum, 31) + bytes[i]!) >>> 0;
  return sum;
}
