import type { Random } from "../runtime/runtime.js";

/** Fisher-Yates in place with the runtime's seeded random, so a simulated run replays. */
export function shuffle<T>(items: T[], random: Random): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
}
