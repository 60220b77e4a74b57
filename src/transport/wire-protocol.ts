/**
 * The messages of Shoal's binary protocol, one MessagePack array per frame (frame-codec.ts).
 * Arrays, not maps: they are smaller and faster to pack, and the first element says the kind.
 *
 * A connection starts with a handshake. The side that dialed sends `hello` (protocol version,
 * its role, its node id, and the node id it expects to reach); the side that accepted answers
 * `welcome` (version, its node id) or `refuse` (a reason) and closes. Only then do requests,
 * replies and one-way sends flow. A Shoal client is a `client` role with no node id: it may
 * send requests but serves none.
 *
 * Every frame read is checked by `parseWireMessage` before it is trusted (STYLE.md: assert
 * around the wire); a frame that does not parse is a protocol error and closes the connection.
 */
export const protocolVersion = 1;

export const WireKind = {
  hello: 0,
  welcome: 1,
  refuse: 2,
  request: 3,
  reply: 4,
  failure: 5,
  send: 6,
} as const;

export type PeerRole = "node" | "client";

/** Why a request failed on the serving side; carried in a `failure` frame. */
export type WireFailureCode = "remote" | "overloaded";

export type WireMessage =
  | { kind: "hello"; version: number; role: PeerRole; nodeId: string | null; expectedNodeId: string | null }
  | { kind: "welcome"; version: number; nodeId: string }
  | { kind: "refuse"; reason: string }
  | { kind: "request"; requestId: number; body: unknown }
  | { kind: "reply"; requestId: number; body: unknown }
  | { kind: "failure"; requestId: number; code: WireFailureCode; message: string }
  | { kind: "send"; body: unknown };

export const wire = {
  hello: (role: PeerRole, nodeId: string | null, expectedNodeId: string | null, version = protocolVersion) =>
    [WireKind.hello, version, role, nodeId, expectedNodeId],
  welcome: (nodeId: string, version = protocolVersion) => [WireKind.welcome, version, nodeId],
  refuse: (reason: string) => [WireKind.refuse, reason],
  request: (requestId: number, body: unknown) => [WireKind.request, requestId, body],
  reply: (requestId: number, body: unknown) => [WireKind.reply, requestId, body],
  failure: (requestId: number, code: WireFailureCode, message: string) => [WireKind.failure, requestId, code, message],
  send: (body: unknown) => [WireKind.send, body],
};

const isRequestId = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
const isNodeIdOrNull = (v: unknown): v is string | null => v === null || (typeof v === "string" && v.length > 0);

/** The message a decoded frame holds, or undefined when it is not a well-formed one. */
export function parseWireMessage(value: unknown): WireMessage | undefined {
  if (!Array.isArray(value)) return undefined;
  const [kind, a, b, c, d] = value as unknown[];
  switch (kind) {
    case WireKind.request:
      return value.length === 3 && isRequestId(a) ? { kind: "request", requestId: a, body: b } : undefined;
    case WireKind.reply:
      return value.length === 3 && isRequestId(a) ? { kind: "reply", requestId: a, body: b } : undefined;
    case WireKind.send:
      return value.length === 2 ? { kind: "send", body: a } : undefined;
    case WireKind.failure:
      return value.length === 4 && isRequestId(a) && (b === "remote" || b === "overloaded") && typeof c === "string"
        ? { kind: "failure", requestId: a, code: b, message: c }
        : undefined;
    case WireKind.hello:
      return value.length === 5 && typeof a === "number" && (b === "node" || b === "client") && isNodeIdOrNull(c) && isNodeIdOrNull(d) && (b === "client" || c !== null)
        ? { kind: "hello", version: a, role: b, nodeId: c, expectedNodeId: d }
        : undefined;
    case WireKind.welcome:
      return value.length === 3 && typeof a === "number" && typeof b === "string" && b.length > 0 ? { kind: "welcome", version: a, nodeId: b } : undefined;
    case WireKind.refuse:
      return value.length === 2 && typeof a === "string" ? { kind: "refuse", reason: a } : undefined;
    default:
      return undefined;
  }
}

export type HandshakeCheck = { ok: true } | { ok: false; code: "ProtocolVersionMismatch" | "NodeIdMismatch"; reason: string };

/** The accepting side's decision on a `hello`; a refusal's reason is sent back verbatim. */
export function checkHello(hello: Extract<WireMessage, { kind: "hello" }>, self: { nodeId: string; version: number }): HandshakeCheck {
  if (hello.version !== self.version) {
    return { ok: false, code: "ProtocolVersionMismatch", reason: `node ${self.nodeId} speaks protocol version ${self.version}; the peer speaks ${hello.version}` };
  }
  if (hello.expectedNodeId !== null && hello.expectedNodeId !== self.nodeId) {
    return { ok: false, code: "NodeIdMismatch", reason: `the peer dialed node ${hello.expectedNodeId} but reached node ${self.nodeId}` };
  }
  return { ok: true };
}

/** The dialing side's decision on a `welcome`. */
export function checkWelcome(welcome: Extract<WireMessage, { kind: "welcome" }>, expected: { nodeId: string | null; version: number }): HandshakeCheck {
  if (welcome.version !== expected.version) {
    return { ok: false, code: "ProtocolVersionMismatch", reason: `this side speaks protocol version ${expected.version}; node ${welcome.nodeId} speaks ${welcome.version}` };
  }
  if (expected.nodeId !== null && welcome.nodeId !== expected.nodeId) {
    return { ok: false, code: "NodeIdMismatch", reason: `dialed node ${expected.nodeId} but reached node ${welcome.nodeId}` };
  }
  return { ok: true };
}
