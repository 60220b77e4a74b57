import { test } from "node:test";
import assert from "node:assert/strict";
import { connect, createServer, type Socket } from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import { eventually } from "../testing/eventually.js";
import { ShoalError } from "../errors.js";
import { NodeTimers } from "../runtime/node-runtime.js";
import { FrameDecoder, FrameEncoder, PayloadDecoder } from "./frame-codec.js";
import { connectToNode } from "./client-connection.js";
import { TcpNetwork, type TcpNetworkOptions } from "./tcp-network.js";
import { parseWireMessage, protocolVersion, wire, type WireMessage } from "./wire-protocol.js";

// TCP-only behaviour; what every Network does is in test/contracts/network.contract.ts.

const host = "127.0.0.1";
const limits = { frameBytesMax: 64 * 1024, peerInFlightMax: 8 };

interface Node {
  network: TcpNetwork;
  port: number;
  errors: ShoalError[];
}

async function startNode(nodeId: string, options: Partial<TcpNetworkOptions> = {}, port = 0): Promise<Node> {
  const errors: ShoalError[] = [];
  const network = new TcpNetwork({ nodeId, limits, backoffBaseMs: 10, backoffMaxMs: 40, onError: (e) => errors.push(e), ...options });
  return { network, port: await network.listen(host, port), errors };
}

/** A raw socket speaking frames by hand, for what a TcpNetwork would never send. */
async function rawPeer(port: number): Promise<{ socket: Socket; messages: WireMessage[]; closed: Promise<void>; write: (m: unknown) => void }> {
  const socket = connect({ host, port });
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  const messages: WireMessage[] = [];
  const decoder = new FrameDecoder(1 << 20);
  const payloads = new PayloadDecoder();
  socket.on("data", (chunk: Buffer) => decoder.push(chunk, (p) => messages.push(parseWireMessage(payloads.decode(p))!)));
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  socket.on("error", () => undefined);
  const encoder = new FrameEncoder(1 << 20);
  return { socket, messages, closed, write: (m) => socket.write(encoder.encode(m)) };
}

test("a peer speaking another protocol version is refused with a reason naming both versions", async () => {
  const b = await startNode("b");
  try {
    const raw = await rawPeer(b.port);
    raw.write(wire.hello("node", "a", "b", protocolVersion + 1));
    await raw.closed;
    assert.equal(raw.messages[0]?.kind, "refuse");
    assert.match((raw.messages[0] as { reason: string }).reason, new RegExp(`version ${protocolVersion}; the peer speaks ${protocolVersion + 1}`));
    assert.ok(b.errors.some((e) => e.code === "ProtocolVersionMismatch"));
  } finally {
    await b.network.close();
  }
});

test("dialing an address where another node answers is refused and the request is unreachable", async () => {
  const a = await startNode("a");
  const c = await startNode("c");
  try {
    c.network.serve(() => "c answered");
    a.network.setPeer("b", host, c.port); // a stale address book: b's entry points at c
    assert.deepEqual(await a.network.request("b", "hi", { timeoutMs: 5000 }), { ok: false, error: "unreachable" });
    const refusal = a.errors.find((e) => e.code === "HandshakeRefused");
    assert.ok(refusal, `errors: ${a.errors.map((e) => e.code).join(", ")}`);
    assert.match(refusal.message, /dialed node b but reached node c/);
    assert.ok(c.errors.some((e) => e.code === "NodeIdMismatch"));
  } finally {
    await Promise.all([a.network.close(), c.network.close()]);
  }
});

test("a frame over the bound closes the connection with a FrameTooLarge error", async () => {
  const b = await startNode("b");
  try {
    b.network.serve(() => "ok");
    const raw = await rawPeer(b.port);
    raw.write(wire.hello("client", null, null));
    const header = Buffer.alloc(4);
    header.writeUInt32BE(limits.frameBytesMax + 1, 0);
    raw.socket.write(header);
    await raw.closed;
    assert.equal(raw.messages[0]?.kind, "welcome");
    assert.equal(raw.messages[1]?.kind, "refuse", "the peer is told why before the connection closes");
    const error = b.errors.find((e) => e.code === "FrameTooLarge");
    assert.ok(error);
    assert.match(error.message, new RegExp(`frame is ${limits.frameBytesMax + 1} bytes; the limit is ${limits.frameBytesMax}`));
  } finally {
    await b.network.close();
  }
});

test("before the handshake even a moderate frame is refused, so strangers cannot make us allocate", async () => {
  const b = await startNode("b");
  try {
    const raw = await rawPeer(b.port);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(10_000, 0);
    raw.socket.write(header);
    await raw.closed;
    assert.ok(b.errors.some((e) => e.code === "FrameTooLarge" && /limit is 4096/.test(e.message)));
  } finally {
    await b.network.close();
  }
});

test("a peer with a smaller frame bound refuses a large request and the sender learns why", async () => {
  const a = await startNode("a");
  const b = await startNode("b", { limits: { frameBytesMax: 8192, peerInFlightMax: 8 } });
  try {
    b.network.serve(() => "ok");
    a.network.setPeer("b", host, b.port);
    assert.deepEqual(await a.network.request("b", "small", { timeoutMs: 5000 }), { ok: true, reply: "ok" });
    assert.deepEqual(await a.network.request("b", new Uint8Array(10_000), { timeoutMs: 5000 }), { ok: false, error: "unreachable" });
    const refused = await eventually("the refusal reaching a", async () => a.errors.find((e) => e.code === "ConnectionRefused"));
    assert.match(refused.message, /limit is 8192/);
    assert.deepEqual(await a.network.request("b", "small again", { timeoutMs: 5000 }), { ok: true, reply: "ok" }, "a redials");
  } finally {
    await Promise.all([a.network.close(), b.network.close()]);
  }
});

test("a client that sends requests but never reads the replies is cut off", async () => {
  const frameBytesMax = 64 * 1024;
  const b = await startNode("b", { limits: { frameBytesMax, peerInFlightMax: 8 }, writeBufferBytesMax: frameBytesMax });
  try {
    b.network.serve(() => new Uint8Array(60_000));
    const raw = await rawPeer(b.port);
    raw.write(wire.hello("client", null, null));
    raw.socket.pause();
    for (let i = 0; i < 1000 && !b.errors.some((e) => e.code === "SlowPeer"); i++) {
      raw.write(wire.request(i, null));
      await delay(1);
    }
    assert.ok(b.errors.some((e) => e.code === "SlowPeer"), `errors: ${b.errors.map((e) => e.code).join(", ")}`);
    raw.socket.resume(); // reading again, the client sees what is left and then the close
    await raw.closed;
  } finally {
    await b.network.close();
  }
});

test("listening on a port already in use fails with the address in the message", async () => {
  const a = await startNode("a");
  const b = new TcpNetwork({ nodeId: "b", limits });
  try {
    await assert.rejects(b.listen(host, a.port), (e: unknown) => e instanceof ShoalError && e.code === "PeerListenFailed" && e.message.includes(`${host}:${a.port}`));
  } finally {
    await Promise.all([a.network.close(), b.close()]);
  }
});

test("a message larger than the frame bound is refused before it is sent", async () => {
  const a = await startNode("a");
  const b = await startNode("b");
  try {
    a.network.setPeer("b", host, b.port);
    await assert.rejects(
      a.network.request("b", { value: new Uint8Array(limits.frameBytesMax + 1) }, { timeoutMs: 1000 }),
      (e: unknown) => e instanceof ShoalError && e.code === "FrameTooLarge",
    );
  } finally {
    await Promise.all([a.network.close(), b.network.close()]);
  }
});

test("a reply too large to send reaches the caller as a remote failure", async () => {
  const a = await startNode("a");
  const b = await startNode("b");
  try {
    b.network.serve(() => new Uint8Array(limits.frameBytesMax + 1));
    a.network.setPeer("b", host, b.port);
    const result = await a.network.request("b", null, { timeoutMs: 5000 });
    assert.ok(result.ok);
    assert.match(JSON.stringify(result.reply), /cannot send the reply: ShoalError: cannot send message: frame is/);
  } finally {
    await Promise.all([a.network.close(), b.network.close()]);
  }
});

test("beyond peerInFlightMax requests to one peer, the next is overloaded at once", async () => {
  const a = await startNode("a");
  const b = await startNode("b");
  try {
    const held: Array<() => void> = [];
    b.network.serve((_from, message) => (message === "hold" ? new Promise<string>((resolve) => held.push(() => resolve("released"))) : "quick"));
    a.network.setPeer("b", host, b.port);
    const holding = Array.from({ length: limits.peerInFlightMax }, () => a.network.request("b", "hold", { timeoutMs: 10_000 }));
    assert.deepEqual(await a.network.request("b", "quick", { timeoutMs: 10_000 }), { ok: false, error: "overloaded" });
    await eventually("every held request reaching b", async () => (held.length === limits.peerInFlightMax ? true : undefined));
    for (const release of held) release();
    assert.deepEqual(await Promise.all(holding), holding.map(() => ({ ok: true, reply: "released" })));
    assert.deepEqual(await a.network.request("b", "quick", { timeoutMs: 5000 }), { ok: true, reply: "quick" });
  } finally {
    await Promise.all([a.network.close(), b.network.close()]);
  }
});

test("a node reconnects to a peer that restarted on the same port", async () => {
  const a = await startNode("a");
  let b = await startNode("b");
  const port = b.port;
  try {
    b.network.serve(() => "first life");
    a.network.setPeer("b", host, port);
    assert.deepEqual(await a.network.request("b", null, { timeoutMs: 5000 }), { ok: true, reply: "first life" });
    await b.network.close();
    const whileDown = await a.network.request("b", null, { timeoutMs: 5000 });
    assert.ok(!whileDown.ok && (whileDown.error === "unreachable" || whileDown.error === "timeout"));
    b = await startNode("b", {}, port);
    b.network.serve(() => "second life");
    const reply = await eventually("a request to the restarted peer succeeding", async () => {
      const result = await a.network.request("b", null, { timeoutMs: 1000 });
      return result.ok ? result.reply : undefined;
    });
    assert.equal(reply, "second life");
  } finally {
    await Promise.all([a.network.close(), b.network.close()]);
  }
});

test("a peer that cannot be connected is unreachable, and later requests fail fast while backing off", async () => {
  const a = await startNode("a", { backoffBaseMs: 60_000, backoffMaxMs: 60_000 });
  const closedPort = await freePort();
  try {
    a.network.setPeer("b", host, closedPort);
    assert.deepEqual(await a.network.request("b", null, { timeoutMs: 5000 }), { ok: false, error: "unreachable" });
    assert.ok(a.errors.some((e) => e.code === "PeerUnreachable" && e.message.includes(`${host}:${closedPort}`)));
    // A minute-long backoff: a second dial would need the peer, so answering at all proves no dial.
    assert.deepEqual(await a.network.request("b", null, { timeoutMs: 5000 }), { ok: false, error: "unreachable" });
    assert.equal(a.errors.length, 1, "no second dial during the backoff");
  } finally {
    await a.network.close();
  }
});

test("a peer that accepts but never shakes hands is unreachable after the handshake timeout", async () => {
  const accepted: Socket[] = [];
  const silent = createServer((socket) => void accepted.push(socket));
  await new Promise<void>((resolve) => silent.listen(0, host, resolve));
  const silentPort = (silent.address() as { port: number }).port;
  const a = await startNode("a", { handshakeTimeoutMs: 100 });
  try {
    a.network.setPeer("b", host, silentPort);
    assert.deepEqual(await a.network.request("b", null, { timeoutMs: 10_000 }), { ok: false, error: "unreachable" });
    assert.ok(a.errors.some((e) => e.code === "HandshakeTimeout"));
  } finally {
    await a.network.close();
    for (const socket of accepted) socket.destroy(); // a socket nobody reads keeps server.close waiting
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  }
});

test("close fails pending requests with closed, and later requests too", async () => {
  const a = await startNode("a");
  const b = await startNode("b");
  try {
    let arrived!: () => void;
    const reachedB = new Promise<void>((resolve) => (arrived = resolve));
    b.network.serve(() => {
      arrived();
      return new Promise(() => undefined);
    });
    a.network.setPeer("b", host, b.port);
    const pending = a.network.request("b", null, { timeoutMs: 10_000 });
    await reachedB;
    await a.network.close();
    assert.deepEqual(await pending, { ok: false, error: "closed" });
    assert.deepEqual(await a.network.request("b", null, { timeoutMs: 1000 }), { ok: false, error: "closed" });
  } finally {
    await Promise.all([a.network.close(), b.network.close()]);
  }
});

test("moving a peer to a new address fails its in-flight requests and uses the new address", async () => {
  const a = await startNode("a");
  const b1 = await startNode("b");
  const b2 = await startNode("b");
  try {
    b1.network.serve(() => new Promise(() => undefined));
    b2.network.serve(() => "new address");
    a.network.setPeer("b", host, b1.port);
    const stranded = a.network.request("b", null, { timeoutMs: 10_000 });
    a.network.setPeer("b", host, b2.port);
    assert.deepEqual(await stranded, { ok: false, error: "unreachable" });
    assert.deepEqual(await a.network.request("b", null, { timeoutMs: 5000 }), { ok: true, reply: "new address" });
  } finally {
    await Promise.all([a.network.close(), b1.network.close(), b2.network.close()]);
  }
});

test("a client that is not a node can connect, send requests and is named as a client", async () => {
  const b = await startNode("b");
  const timers = new NodeTimers();
  try {
    b.network.serve((from, message) => ({ from, message }));
    const client = connectToNode({
      host,
      port: b.port,
      expectedNodeId: null,
      limits,
      timers,
      clock: { nowMs: () => performance.now() },
    });
    const result = await client.request("ring?", 5000);
    assert.deepEqual(result, { ok: true, reply: { from: "client:1", message: "ring?" } });
    assert.equal(client.remoteNodeId, "b");
    client.close();
  } finally {
    timers.clearAll();
    await b.network.close();
  }
});

test("a client that expects another node than the one answering is refused", async () => {
  const b = await startNode("b");
  const timers = new NodeTimers();
  try {
    b.network.serve(() => "b answered");
    let closeError: Error | null = null;
    const client = connectToNode({
      host,
      port: b.port,
      expectedNodeId: "c",
      limits,
      timers,
      clock: { nowMs: () => performance.now() },
      onClose: (error) => (closeError = error),
    });
    assert.deepEqual(await client.request("hi", 5000), { ok: false, error: "unreachable" });
    assert.match(String(closeError), /dialed node c but reached node b/);
  } finally {
    timers.clearAll();
    await b.network.close();
  }
});

test("a node answers overloaded when a peer runs more requests at once than it serves", async () => {
  const b = await startNode("b", { limits: { frameBytesMax: limits.frameBytesMax, peerInFlightMax: 2 } });
  const timers = new NodeTimers();
  try {
    const held: Array<() => void> = [];
    b.network.serve(() => new Promise<string>((resolve) => held.push(() => resolve("done"))));
    const client = connectToNode({ host, port: b.port, expectedNodeId: "b", limits: { ...limits, peerInFlightMax: 16 }, timers, clock: { nowMs: () => performance.now() } });
    const results = Array.from({ length: 3 }, () => client.request(null, 10_000));
    assert.deepEqual(await results[2], { ok: false, error: "overloaded" });
    await eventually("both served requests reaching the handler", async () => (held.length === 2 ? true : undefined));
    for (const release of held) release();
    assert.deepEqual(await Promise.all(results.slice(0, 2)), [{ ok: true, reply: "done" }, { ok: true, reply: "done" }]);
    client.close();
  } finally {
    timers.clearAll();
    await b.network.close();
  }
});

test("one-way sends made before the handshake are held up to a bound, then dropped", async () => {
  const accepted: Socket[] = [];
  const silent = createServer((socket) => void accepted.push(socket));
  await new Promise<void>((resolve) => silent.listen(0, host, resolve));
  const timers = new NodeTimers();
  try {
    const port = (silent.address() as { port: number }).port;
    const client = connectToNode({ host, port, expectedNodeId: null, limits: { ...limits, peerInFlightMax: 2 }, timers, clock: { nowMs: () => performance.now() } });
    assert.deepEqual([client.send("one"), client.send("two"), client.send("three")], [true, true, false]);
    client.close();
    assert.equal(client.send("after close"), false);
  } finally {
    timers.clearAll();
    for (const socket of accepted) socket.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  }
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

test("identify learns the node id behind a seed address, and the id then works as a peer", async () => {
  const seed = await startNode("seed-node");
  const joiner = await startNode("joiner");
  try {
    seed.network.serve((from, message) => ({ from, echo: message }));
    const found = await joiner.network.identify(host, seed.port, { timeoutMs: 2000 });
    assert.deepEqual(found, { ok: true, nodeId: "seed-node" });
    joiner.network.setPeer("seed-node", host, seed.port);
    const reply = await joiner.network.request("seed-node", "hi", { timeoutMs: 2000 });
    assert.deepEqual(reply, { ok: true, reply: { from: "joiner", echo: "hi" } });
  } finally {
    await Promise.all([seed.network.close(), joiner.network.close()]);
  }
});

test("identify of an address nobody listens on fails with a message naming the address", async () => {
  const gone = await startNode("gone");
  const port = gone.port;
  await gone.network.close();
  const joiner = await startNode("joiner");
  try {
    const found = await joiner.network.identify(host, port, { timeoutMs: 2000 });
    assert.equal(found.ok, false);
    assert.match(!found.ok ? found.error : "", new RegExp(`${host}:${port}`));
  } finally {
    await joiner.network.close();
  }
});
