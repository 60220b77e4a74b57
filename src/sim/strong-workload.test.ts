import { test } from "node:test";
import assert from "node:assert/strict";
import { failedOutput, unknownOutput } from "../checker/history.js";
import { Simulation } from "./simulation.js";
import type { StrongRegister, StrongResult, StrongVersioned } from "./strong-register.js";
import { StrongWorkload, decodeRegister } from "./strong-workload.js";

/** A register that answers every call with `answer` after 5 ms, or never when it is "silent". */
function scriptedRegister(sim: Simulation, answer: StrongResult<never> | "silent" | "ok"): StrongRegister {
  let stored: StrongVersioned | undefined;
  const later = <T>(value: T): Promise<T> => new Promise((resolve) => sim.scheduler.at(sim.now() + 5, () => resolve(value)));
  return {
    change: (_key, _n, decide) => {
      if (answer === "silent") return new Promise(() => undefined);
      if (answer !== "ok") return later(answer);
      const before = stored;
      const decision = decide(before);
      if (decision.type === "set") stored = { ...decision.value, timestamp: 1, version: "1" };
      if (decision.type === "delete") stored = undefined;
      return later({ ok: true as const, value: { before, after: stored } });
    },
    read: () => (answer === "silent" ? new Promise(() => undefined) : later(answer === "ok" ? { ok: true as const, value: stored } : answer)),
  };
}

function workloadOn(sim: Simulation): StrongWorkload {
  return new StrongWorkload({ sim, registerOf: () => undefined, nodeIds: [], keySlots: 1, keyGenerationMs: 1_000, n: 3, thinkMsMax: 10, clientTimeoutMs: 100, operationsMax: 100 });
}

test("definite answers are recorded with the outputs the client saw", async () => {
  const sim = new Simulation({ seed: 1 });
  const workload = workloadOn(sim);
  const register = scriptedRegister(sim, "ok");
  assert.equal(await sim.settle(workload.incrementOnce(register, "c1", "k")), true);
  assert.equal(await sim.settle(workload.incrementOnce(register, "c1", "k")), true);
  assert.equal(await sim.settle(workload.read(register, "c2", "k")), true);
  const history = workload.recorder.history();
  assert.deepEqual(history.map((op) => [op.kind, op.output]), [["increment", 1], ["increment", 2], ["get", 2]]);
  assert.ok(history.every((op) => op.returnAt === op.callAt + 5));
  assert.deepEqual(workload.counts, { ok: 3, failed: 0, unknown: 0, silent: 0 });
});

test("an unavailable or overloaded answer is a failed operation: it did not happen", async () => {
  for (const error of ["unavailable", "overloaded"] as const) {
    const sim = new Simulation({ seed: 1 });
    const workload = workloadOn(sim);
    assert.equal(await sim.settle(workload.incrementOnce(scriptedRegister(sim, { ok: false, error, message: "no" }), "c1", "k")), false);
    const [op] = workload.recorder.history();
    assert.deepEqual(op!.output, failedOutput(error));
    assert.equal(op!.returnAt, op!.callAt + 5);
    assert.deepEqual(workload.counts, { ok: 0, failed: 1, unknown: 0, silent: 0 });
  }
});

test("an indeterminate answer and a missing answer are unknown outcomes returning at infinity", async () => {
  const answers: Array<StrongResult<never> | "silent"> = [{ ok: false, error: "indeterminate", message: "no majority in time" }, "silent"];
  for (const answer of answers) {
    const sim = new Simulation({ seed: 1 });
    const workload = workloadOn(sim);
    assert.equal(await sim.settle(workload.incrementOnce(scriptedRegister(sim, answer), "c1", "k")), false);
    const [op] = workload.recorder.history();
    assert.equal(op!.output, unknownOutput);
    assert.equal(op!.returnAt, Infinity);
    assert.deepEqual(workload.counts, { ok: 0, failed: 0, unknown: 1, silent: answer === "silent" ? 1 : 0 });
  }
});

test("stored values decode to the numbers the workload wrote, and nothing stored to absent", () => {
  const stored = (text: string): StrongVersioned => ({ value: new TextEncoder().encode(text), contentType: "application/json", metadata: [], expiresAtMs: null, timestamp: 1, version: "1" });
  assert.equal(decodeRegister(undefined), null);
  assert.equal(decodeRegister(stored("3000000")), 3_000_000);
  assert.throws(() => decodeRegister(stored('"text"')), /writes numbers only/);
});
