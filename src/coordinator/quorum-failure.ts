import type { NodeId } from "../runtime/network.js";

/**
 * What a quorum operation that cannot succeed answers (a value inside the core; the edge turns
 * it into a 503 ShoalError). `got` and `needed` carry the same quorum names (w, dw, pw for a
 * put; r, pr for a get), so the edge can name the shortfall: "1 of 2 required acknowledgements".
 * `errors` lists the replicas that failed, at most one per replica of the preference list.
 */
export interface QuorumFailure<Q extends string> {
  readonly ok: false;
  readonly error: "quorum";
  readonly got: Readonly<Record<Q, number>>;
  readonly needed: Readonly<Record<Q, number>>;
  readonly errors: readonly { readonly node: NodeId; readonly error: string }[];
}

const quorumNouns: Readonly<Record<string, string>> = {
  w: "required acknowledgements",
  dw: "required durable acknowledgements",
  pw: "required acknowledgements from primary replicas",
  r: "required replies",
  pr: "required replies from primary replicas",
};

/**
 * The first unmet quorum in words, e.g. `1 of 2 required acknowledgements`, for the edge's
 * message ("cannot write \"cart:42\": 1 of 2 required acknowledgements").
 */
export function describeQuorumFailure<Q extends string>(failure: QuorumFailure<Q>): string {
  const names = Object.keys(failure.needed) as Q[];
  const unmet = names.find((name) => failure.got[name] < failure.needed[name]) ?? names[0]!;
  const noun = quorumNouns[unmet] ?? `required ${unmet}`;
  return `${failure.got[unmet]} of ${failure.needed[unmet]} ${noun}`;
}
