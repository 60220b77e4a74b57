import type { Random, TimerHandle, Timers } from "../runtime/runtime.js";
import type { ShoalError } from "../errors.js";
import type { RpcConnection } from "./rpc-connection.js";
import { reconnectDelayMs, type ReconnectBackoffOptions } from "./reconnect-backoff.js";

export interface PeerAddress {
  host: string;
  port: number;
}

/** Opens a connection to `address`; the link is told when it opens and when it closes. */
export type PeerDialer = (
  address: PeerAddress,
  events: { onOpen: () => void; onClose: (error: ShoalError | null, opened: boolean) => void },
) => RpcConnection;

export interface PeerLinkOptions extends ReconnectBackoffOptions {
  address: PeerAddress;
  dial: PeerDialer;
  timers: Timers;
  random: Random;
}

/**
 * This node's way to one peer: its address and at most one connection, dialed on demand.
 *
 * A dial that fails before its handshake finishes starts a backoff (reconnect-backoff.ts);
 * until it ends, `connection()` answers undefined and callers fail fast with `unreachable`
 * instead of piling requests onto a dead address. A connection that was open and then broke
 * is redialed at the next request without waiting: the peer was healthy a moment ago, and a
 * restart is the common cause.
 */
export class PeerLink {
  private current: RpcConnection | null = null;
  private failures = 0;
  private backoffTimer: TimerHandle | null = null;
  private closed = false;

  constructor(private readonly options: PeerLinkOptions) {}

  get address(): PeerAddress {
    return this.options.address;
  }

  /** Consecutive dials that failed; 0 once one succeeds. */
  get failedDials(): number {
    return this.failures;
  }

  get backingOff(): boolean {
    return this.backoffTimer !== null;
  }

  /** The live connection (open or still shaking hands), a new dial, or undefined in backoff. */
  connection(): RpcConnection | undefined {
    if (this.closed || this.backoffTimer !== null) return undefined;
    if (this.current !== null && !this.current.isClosed) return this.current;
    const connection = this.options.dial(this.options.address, {
      onOpen: () => {
        this.failures = 0;
      },
      onClose: (_error, opened) => this.connectionClosed(connection, opened),
    });
    this.current = connection;
    return connection;
  }

  /** Drops the connection; pending requests resolve `failure`. */
  close(failure: "closed" | "unreachable"): void {
    this.closed = true;
    if (this.backoffTimer !== null) this.options.timers.clearTimeout(this.backoffTimer);
    this.backoffTimer = null;
    const current = this.current;
    this.current = null;
    current?.close(failure);
  }

  private connectionClosed(connection: RpcConnection, opened: boolean): void {
    if (this.current === connection) this.current = null;
    if (opened || this.closed) return;
    this.failures++;
    const delayMs = reconnectDelayMs(this.failures, this.options, this.options.random);
    if (this.backoffTimer !== null) this.options.timers.clearTimeout(this.backoffTimer);
    this.backoffTimer = this.options.timers.setTimeout(() => {
      this.backoffTimer = null;
    }, delayMs);
  }
}
