/**
 * Node-to-node messaging, as the core sees it. The TCP transport (transport/) and the
 * simulated network (sim/) both implement it and run one contract suite. Failures are values,
 * not exceptions: a coordinator counts them toward its quorum arithmetic.
 */
export type NodeId = string;

export type RequestFailure = "timeout" | "unreachable" | "overloaded" | "closed";

export type RequestResult<T = unknown> = { ok: true; reply: T } | { ok: false; error: RequestFailure };

export type RequestHandler = (from: NodeId, message: unknown) => Promise<unknown> | unknown;

export interface Network {
  /** Sends `message` to `to` and waits at most `timeoutMs` for its reply. */
  request<T = unknown>(to: NodeId, message: unknown, options: { timeoutMs: number }): Promise<RequestResult<T>>;
  /** Fire and forget: may be lost, delayed, duplicated or reordered. */
  send(to: NodeId, message: unknown): void;
  /** Installs the handler for requests and one-way messages addressed to this node. */
  serve(handler: RequestHandler): void;
}
