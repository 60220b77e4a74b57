import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { checkHello, checkWelcome, parseWireMessage, protocolVersion, wire } from "./wire-protocol.js";
import { FrameEncoder, PayloadDecoder } from "./frame-codec.js";

function throughWire(message: unknown): unknown {
  const frame = new FrameEncoder(1 << 20).encode(message);
  return new PayloadDecoder().decode(frame.subarray(4));
}

test("every message kind parses back after crossing the wire", () => {
  const cases = [
    [wire.hello("node", "a", "b"), { kind: "hello", version: protocolVersion, role: "node", nodeId: "a", expectedNodeId: "b" }],
    [wire.hello("client", null, null), { kind: "hello", version: protocolVersion, role: "client", nodeId: null, expectedNodeId: null }],
    [wire.welcome("b"), { kind: "welcome", version: protocolVersion, nodeId: "b" }],
    [wire.refuse("no"), { kind: "refuse", reason: "no" }],
    [wire.request(7, { op: "get" }), { kind: "request", requestId: 7, body: { op: "get" } }],
    [wire.reply(7, [1, 2]), { kind: "reply", requestId: 7, body: [1, 2] }],
    [wire.failure(7, "overloaded", "busy"), { kind: "failure", requestId: 7, code: "overloaded", message: "busy" }],
    [wire.send("ping"), { kind: "send", body: "ping" }],
  ] as const;
  for (const [message, parsed] of cases) assert.deepEqual(parseWireMessage(throughWire(message)), parsed);
});

test("malformed frames do not parse", () => {
  const bad = [
    null, 3, "hello", {}, [], [99, 1], [3, -1, null], [3, 1.5, null], [3, "1", null], [4, 1], [6],
    [5, 1, "exploded", "m"], [0, 1, "node", null, null], [0, 1, "robot", "a", null], [1, 1, ""], [2, 5],
  ];
  for (const value of bad) assert.equal(parseWireMessage(value), undefined, JSON.stringify(value));
});

test("arbitrary values never parse into a message of the wrong shape", () => {
  fc.assert(
    fc.property(fc.anything(), (value) => {
      const parsed = parseWireMessage(value);
      if (parsed === undefined) return;
      assert.ok(Array.isArray(value));
      if ("requestId" in parsed) assert.ok(Number.isSafeInteger(parsed.requestId) && parsed.requestId >= 0);
    }),
    { seed: 3, numRuns: 200 },
  );
});

test("a hello with another protocol version is refused, naming both versions", () => {
  const check = checkHello({ kind: "hello", version: 9, role: "node", nodeId: "a", expectedNodeId: "b" }, { nodeId: "b", version: 1 });
  assert.equal(check.ok, false);
  assert.ok(!check.ok && check.code === "ProtocolVersionMismatch" && /version 1; the peer speaks 9/.test(check.reason));
});

test("a hello that expected another node is refused", () => {
  const check = checkHello({ kind: "hello", version: 1, role: "node", nodeId: "a", expectedNodeId: "c" }, { nodeId: "b", version: 1 });
  assert.ok(!check.ok && check.code === "NodeIdMismatch" && /dialed node c but reached node b/.test(check.reason));
});

test("a client hello without node ids is accepted", () => {
  assert.deepEqual(checkHello({ kind: "hello", version: 1, role: "client", nodeId: null, expectedNodeId: null }, { nodeId: "b", version: 1 }), { ok: true });
});

test("a welcome from the wrong node is refused by the dialer", () => {
  const check = checkWelcome({ kind: "welcome", version: 1, nodeId: "x" }, { nodeId: "b", version: 1 });
  assert.ok(!check.ok && check.code === "NodeIdMismatch");
  assert.deepEqual(checkWelcome({ kind: "welcome", version: 1, nodeId: "x" }, { nodeId: null, version: 1 }), { ok: true });
});
