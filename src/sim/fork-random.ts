import { assert } from "../assert.js";
import { SeededRandom } from "../runtime/seeded-random.js";

/**
 * An independent random stream for one part of a run ("network", "node n1 #2", "faults"),
 * derived from the run seed and the part's name. Streams per part keep a seed's choices
 * stable when another part draws more or fewer numbers (adding a message must not change the
 * fault schedule).
 */
export function forkSeed(seed: number, label: string): number {
  assert(Number.isSafeInteger(seed), `seed must be a safe integer, got ${seed}`);
  let h = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193) >>> 0;
  const low = (seed >>> 0) ^ h;
  const high = (Math.floor(seed / 0x1_0000_0000) ^ Math.imul(h, 0x9e3779b1)) & 0x1f_ffff; // 21 bits: stays safe
  return high * 0x1_0000_0000 + (low >>> 0);
}

export function forkRandom(seed: number, label: string): SeededRandom {
  return new SeededRandom(forkSeed(seed, label));
}
