import { murmurHash3 } from "./murmur-hash3.js";

/**
 * A digest of a ring's content (issue 6, "ring publication agreed"): two rings with the same
 * version are the same ring only when their digests agree. Settling (handoff/ownership-leader.ts)
 * and partition release identify a ring by (version, hash), and membership refuses a gossiped
 * ring whose hash conflicts with the one it holds at that version (membership/ring-keeper.ts).
 *
 * The digest is 128 bits: MurmurHash3 x86_32 under four seeds over a canonical JSON text of the
 * value (object keys sorted, so two equal plain values give the same text however they were
 * built). It detects different content among honest nodes; it is not a cryptographic hash and
 * does not defend against a malicious peer (nothing in the peer protocol does).
 */
const seeds = [0x5348_4f41, 0x7269_6e67, 0x6861_7368, 0x2e76_3100];
const encoder = new TextEncoder();
/** Rings are frozen values: each one is hashed once. */
const memo = new WeakMap<object, string>();

export function contentHash(value: unknown): string {
  if (typeof value === "object" && value !== null) {
    const known = memo.get(value);
    if (known !== undefined) return known;
    const hash = hashText(canonicalJson(value));
    memo.set(value, hash);
    return hash;
  }
  return hashText(canonicalJson(value));
}

/** The ring's digest (ring-state.ts RingState, or any plain ring value). */
export const ringHash: (ring: object) => string = contentHash;

function hashText(text: string): string {
  const bytes = encoder.encode(text);
  return seeds.map((seed) => murmurHash3(bytes, seed).toString(16).padStart(8, "0")).join("");
}

/** JSON with object keys sorted and undefined fields left out (as JSON.stringify does). */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map((item) => (item === undefined ? "null" : canonicalJson(item))).join(",")}]`;
  const entries = Object.keys(value)
    .sort()
    .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
    .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
  return `{${entries.join(",")}}`;
}
