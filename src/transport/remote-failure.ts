/**
 * What a caller receives when the serving node's handler threw (or its promise rejected).
 *
 * `RequestResult` (runtime/network.ts) has no failure for "the peer answered with an error", so
 * a Network delivers it as `{ ok: true, reply: RemoteFailure }`: the transport worked, the
 * remote operation did not. The reply is a plain tagged object, so it survives any
 * serialization (msgpackr, structured clone) and the simulated network can produce the same
 * value. Callers that count replies toward a quorum must test `isRemoteFailure(reply)` first.
 *
 * A plain handler reply can never be mistaken for one unless it carries the tag key itself.
 */
export interface RemoteFailure {
  readonly shoalRemoteFailure: { readonly message: string };
}

const tag = "shoalRemoteFailure";

export function remoteFailure(message: string): RemoteFailure {
  return { [tag]: { message } } as RemoteFailure;
}

/** How a thrown value is described in a remote failure: `Error: message` or `thrown: value`. */
export function describeThrown(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : `thrown: ${String(error)}`;
}

export function isRemoteFailure(reply: unknown): reply is RemoteFailure {
  if (reply === null || typeof reply !== "object") return false;
  const inner = (reply as Record<string, unknown>)[tag];
  return inner !== null && typeof inner === "object" && typeof (inner as { message?: unknown }).message === "string";
}
