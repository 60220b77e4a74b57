import { promiseHooks } from "node:v8";
import { assert } from "../assert.js";
import { ShoalError } from "../errors.js";

/**
 * How the scheduler lets promise continuations finish before it takes the next virtual event.
 *
 * Simulated nodes are async code: an event (a delivered message, a timer) resolves a promise,
 * and the `await`s waiting on it run later, as microtasks. For virtual time to mean anything,
 * every continuation an event causes must run before the next event is dispatched: otherwise a
 * continuation would read `now()` from a later event and schedule its timers from there.
 *
 * Three modes, all exact, all free of real timers:
 *
 * - "promise-hooks": V8's promise hooks count every promise reaction job that starts (each
 *   `await` resumption, `.then` callback and thenable resolution is one). The drain awaits a
 *   resolved value; its own continuation joins the back of the FIFO microtask queue, so when it
 *   resumes, every job queued before it has run. If exactly one reaction ran during that yield
 *   (its own), nothing else was queued, nothing else can have been queued since, and the queue
 *   is empty. Otherwise it yields again. Exact for promises and async/await, no macrotask, one
 *   yield per link of the longest chain, and a chain that never settles trips `yieldsMax`.
 *   It does not see `process.nextTick` nor a `queueMicrotask` queued from a `queueMicrotask`;
 *   simulated code must not use either (core folders cannot: the seam lint rule forbids them).
 * - "macrotask": await `setImmediate`. Node drains the nextTick and microtask queues fully
 *   before a check-phase callback, so this catches everything, but costs a turn of the event
 *   loop per event.
 * - "auto" (the default): up to `autoHookYieldsMax` counted yields (most events settle in a
 *   few), then one macrotask for the rare long chain. Both paths end with the queue empty, so
 *   which one ran never changes what the simulated code sees.
 *
 * Every mode gives the same order: the simulated code sees only virtual time, seeded
 * randomness and the FIFO microtask queue; the host's own I/O may run during a drain but never
 * touches simulated state (scheduler.test.ts runs one workload under all three and compares).
 */
export type DrainMode = "auto" | "promise-hooks" | "macrotask";

/** In "auto" mode, hook-counted yields tried before falling back to one macrotask. */
export const autoHookYieldsMax = 8;

let reactionsStarted = 0;
let hookUsers = 0;
let stopHook: (() => void) | undefined;

/** Installs the process-wide reaction counter while at least one scheduler runs. */
export function acquireReactionCounter(): () => void {
  if (hookUsers === 0) {
    const stop = promiseHooks.onBefore(() => {
      reactionsStarted++;
    });
    stopHook = () => void stop();
  }
  hookUsers++;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    hookUsers--;
    if (hookUsers === 0) {
      stopHook?.();
      stopHook = undefined;
    }
  };
}

/**
 * Resolves once no microtask caused by the current event is left. Throws when the queue does
 * not empty within `yieldsMax` yields (a promise loop that never settles).
 */
export async function drainMicrotasks(mode: DrainMode, yieldsMax: number): Promise<void> {
  if (mode === "macrotask") {
    await new Promise<void>((resolve) => setImmediate(resolve));
    return;
  }
  assert(hookUsers > 0, "the promise-hooks drain needs acquireReactionCounter() first");
  const hookYieldsMax = mode === "auto" ? autoHookYieldsMax : yieldsMax;
  for (let i = 0; i < hookYieldsMax; i++) {
    const before = reactionsStarted;
    await undefined;
    if (reactionsStarted - before <= 1) return;
  }
  if (mode === "auto") {
    await new Promise<void>((resolve) => setImmediate(resolve));
    return;
  }
  throw new ShoalError(
    "SimMicrotasksUnbounded",
    500,
    `cannot finish a simulated event: microtasks still pending after ${yieldsMax} yields (a promise chain that never settles?)`,
  );
}
