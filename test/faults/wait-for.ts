import { setTimeout as delay } from "node:timers/promises";

/**
 * Waits for a condition with a deadline (never a fixed sleep): polls `attempt` until it returns
 * something other than undefined/false, and returns it with the time it took; throws with
 * `what` and the last observation past the deadline.
 */
export async function waitFor<T>(
  what: string,
  attempt: () => Promise<T | undefined | false>,
  options: { deadlineMs: number; pollMs?: number; describe?: () => string },
): Promise<{ value: T; elapsedMs: number }> {
  const started = Date.now();
  for (;;) {
    const value = await attempt();
    if (value !== undefined && value !== false) return { value, elapsedMs: Date.now() - started };
    if (Date.now() - started > options.deadlineMs) {
      throw new Error(`${what} did not happen within ${options.deadlineMs} ms${options.describe ? `: ${options.describe()}` : ""}`);
    }
    await delay(options.pollMs ?? 200);
  }
}
