import { connect } from "node:net";
import type { Limits } from "../limits.js";
import type { Clock, Timers } from "../runtime/runtime.js";
import { RpcConnection } from "./rpc-connection.js";

export interface ClientConnectionOptions {
  host: string;
  port: number;
  /** The node the caller means to reach (from the ring); null accepts whichever node answers. */
  expectedNodeId: string | null;
  limits: Pick<Limits, "frameBytesMax" | "peerInFlightMax">;
  timers: Timers;
  /** Monotonic milliseconds for request deadlines, e.g. `{ nowMs: () => performance.now() }`. */
  clock: Clock;
  /** Dialing plus the handshake; default 5 s. */
  handshakeTimeoutMs?: number;
  /** Bytes queued towards the kernel before requests answer `overloaded`; default 2 frames. */
  writeBufferBytesMax?: number;
  onClose?: (error: Error | null) => void;
}

/**
 * A connection from something that is not a node (the Shoal client, a tool) to a node's peer
 * port. It says hello in the `client` role with no node id, so the node serves its requests
 * (the handler sees `from` as `client:<n>`) but never sends it any; it serves nothing itself.
 * Requests made before the handshake finishes wait for it (bounded by `peerInFlightMax`).
 *
 * Example:
 *   const connection = connectToNode({ host: "127.0.0.1", port: 9000, expectedNodeId: null,
 *     limits: defaultLimits, timers: new NodeTimers(), clock: { nowMs: () => performance.now() } });
 *   const result = await connection.request({ op: "ring" }, 1000);
 *   connection.close();
 */
export function connectToNode(options: ClientConnectionOptions): RpcConnection {
  return new RpcConnection({
    socket: connect({ host: options.host, port: options.port }),
    side: "dial",
    self: { role: "client", nodeId: null },
    expectedPeerNodeId: options.expectedNodeId,
    peerDescription: `${options.expectedNodeId === null ? "node" : `node ${options.expectedNodeId}`} at ${options.host}:${options.port}`,
    frameBytesMax: options.limits.frameBytesMax,
    inFlightMax: options.limits.peerInFlightMax,
    servedInFlightMax: 1,
    sendsQueuedMax: options.limits.peerInFlightMax,
    writeBufferBytesMax: options.writeBufferBytesMax ?? 2 * options.limits.frameBytesMax,
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? 5000,
    timers: options.timers,
    clock: options.clock,
    handler: () => undefined,
    ...(options.onClose ? { onClose: options.onClose } : {}),
  });
}
