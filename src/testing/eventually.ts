import assert from "node:assert/strict";
import { setTimeout as delay } from "node:timers/promises";

/**
 * Test helper: waits for a condition instead of sleeping "long enough". Polls `attempt` every
 * `pollMs` until it returns something other than undefined or false, and returns that; fails
 * with `what` once `deadlineMs` of real time has passed.
 *
 * Example:
 *   await eventually("the sweeper to remove expired items", () => storedItems() === 0);
 *   const reply = await eventually("a reply", async () => (await tryRequest()) ?? undefined);
 */
export async function eventually<T>(
  what: string,
  attempt: () => T | undefined | false | Promise<T | undefined | false>,
  options: { deadlineMs?: number; pollMs?: number } = {},
): Promise<T> {
  const deadlineMs = options.deadlineMs ?? 20_000;
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const value = await attempt();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) assert.fail(`${what} did not happen within ${deadlineMs} ms`);
    await delay(options.pollMs ?? 10);
  }
}
