import { test, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { Pool } from "undici";
import {
  HistoryRecorder,
  type PendingOperation,
  type RegisterOperation,
  absent,
  checkLinearizability,
  formatCounterexample,
  registerModel,
} from "../../src/checker/index.js";
import { eventually } from "../../src/testing/eventually.js";
import { ProcessGroup, startNode, type NodeProcess } from "./shoal-process.js";
import { allUp, peerPortOf, victimSeenDown } from "./cluster-views.js";

/**
 * Issue 4: three real nodes on loopback, a strong table, and concurrent increments of a few
 * counters through different nodes (round robin over the live ones) while node 3 is killed with
 * SIGKILL and later restarted on its data directory. Every increment is recorded in the
 * checker's history format on `performance.now()`:
 *
 * - 200 {"value": n}: acknowledged, output n;
 * - 504 (Indeterminate), a timeout or a connection error: unknown outcome (returns at +infinity);
 * - 503 (Unavailable, Overloaded): failed, it did not happen.
 *
 * At the end each counter is read (strong) through every node: all agree, the value v satisfies
 * acked <= v <= acked + unknown (exactly acked without unknowns), and the whole history with the
 * final reads as gets is linearizable under the register model. Waits are conditions with
 * deadlines; the `after` hook kills every child even when an assertion fails.
 */
const group = new ProcessGroup();
const closers: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const close of closers.splice(0).reverse()) {
    try {
      await close();
    } catch {
      // cleaning up must go on
    }
  }
  await group.cleanUp();
});

const table = "counters";
const keys = ["visits", "likes"];
const operations = 600;
const concurrency = 12;
const killAt = Math.floor(operations / 3);
const seenDownAt = Math.floor(operations / 2);
const restartAt = Math.floor((2 * operations) / 3);
const requestTimeoutMs = 10_000;
const formDeadlineMs = 30_000;
const readDeadlineMs = 30_000;
/**
 * The checker's step budget. Each unknown increment doubles the orders the search may have to
 * try, so this is above the default; a run with ~10 unknowns took about 2 million steps.
 */
const checkerStepsMax = 100_000_000;

interface Target {
  node: NodeProcess;
  pool: Pool;
}

function targetOf(node: NodeProcess): Target {
  const pool = new Pool(node.url, { connections: concurrency });
  closers.push(() => pool.destroy());
  return { node, pool };
}

interface KeyCounts {
  acked: number;
  unknown: number;
  failed: number;
  /** The outputs of acknowledged increments. */
  outputs: number[];
  /**
   * Increments with unknown outcomes, ended once the final value is known: when it equals the
   * acknowledged count none of them took effect (each adds exactly 1 and nothing else writes),
   * so they are recorded as failed; otherwise as unknown (returning at +infinity). Left all
   * unknown, a handful of them overlapping each other can exhaust the checker's budget.
   */
  unknownOps: PendingOperation<number>[];
}

type Outcome = { kind: "ok"; value: number } | { kind: "failed"; reason: string } | { kind: "unknown"; reason: string };

/** One increment through `target`, classified by what the client saw. */
async function increment(target: Target, key: string): Promise<Outcome> {
  try {
    const res = await target.pool.request({
      method: "POST",
      path: `/v1/tables/${table}/items/${key}/increment?by=1`,
      headersTimeout: requestTimeoutMs,
      bodyTimeout: requestTimeoutMs,
    });
    const text = await res.body.text();
    if (res.statusCode === 200) {
      const value = (JSON.parse(text) as { value?: unknown }).value;
      assert.ok(typeof value === "number" && Number.isSafeInteger(value), `increment answered 200 with ${text}`);
      return { kind: "ok", value };
    }
    const code = errorCode(text);
    if (res.statusCode === 503) return { kind: "failed", reason: `503 ${code}` };
    // 504 Indeterminate, and (conservatively) anything unexpected: the outcome is unknown.
    return { kind: "unknown", reason: `${res.statusCode} ${code}` };
  } catch (error) {
    return { kind: "unknown", reason: `thrown ${(error as { code?: string }).code ?? (error as Error).name}` };
  }
}

function errorCode(text: string): string {
  try {
    return String((JSON.parse(text) as { error?: { code?: unknown } }).error?.code ?? "?");
  } catch {
    return "?";
  }
}

/** A strong read of `key` through `target`: the counter, absent, or undefined when it did not answer 200/404. */
async function strongRead(target: Target, key: string): Promise<{ value: number | typeof absent } | { error: string }> {
  try {
    const res = await target.pool.request({
      method: "GET",
      path: `/v1/tables/${table}/items/${key}?consistency=strong`,
      headersTimeout: requestTimeoutMs,
      bodyTimeout: requestTimeoutMs,
    });
    const text = await res.body.text();
    if (res.statusCode === 404) return { value: absent };
    if (res.statusCode !== 200) return { error: `${res.statusCode} ${errorCode(text)}` };
    assert.match(text, /^-?[0-9]+$/, `a counter reads as a decimal integer, got ${JSON.stringify(text)}`);
    return { value: Number(text) };
  } catch (error) {
    return { error: `thrown ${(error as { code?: string }).code ?? (error as Error).name}` };
  }
}

test("concurrent increments through different nodes while one is killed and restarted: all nodes agree, acked <= v <= acked + unknown, and the history is linearizable", { timeout: 240_000 }, async (t) => {
  const testStarted = performance.now();
  const root = group.tempDir("shoal-cas-increments-");
  const first = await startNode(group, join(root, "node-1"));
  const seed = `127.0.0.1:${peerPortOf(first)}`;
  const others = await Promise.all([2, 3].map((i) => startNode(group, join(root, `node-${i}`), ["--join", seed])));
  const nodes = [first, ...others];
  const ids = nodes.map((n) => n.nodeId);
  await eventually("three nodes to form one cluster", () => allUp(nodes, ids), { deadlineMs: formDeadlineMs, pollMs: 50 });

  const created = await fetch(`${first.url}/v1/tables`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: table, consistency: "strong" }),
    signal: AbortSignal.timeout(5000),
  });
  assert.equal(created.status, 201, `creating the table: ${await created.text()}`);
  await eventually(`every node to know table ${table}`, async () => {
    const known = await Promise.all(nodes.map((n) => fetch(`${n.url}/v1/tables/${table}`, { signal: AbortSignal.timeout(2000) }).then((res) => res.status === 200, () => false)));
    return known.every(Boolean);
  }, { deadlineMs: formDeadlineMs, pollMs: 100 });

  const recorder = new HistoryRecorder<RegisterOperation>({ operationsMax: operations + 1000, now: () => performance.now() });
  const counts = new Map(keys.map((key) => [key, { acked: 0, unknown: 0, failed: 0, outputs: [], unknownOps: [] } as KeyCounts]));
  const reasons = new Map<string, number>();
  const targets = nodes.map(targetOf);
  let live: Target[] = [...targets];
  const victim = targets[2]!;
  const survivors = [first, others[0]!];
  let restarted: Target | undefined;
  let killedAtMs = 0;
  let seenDownMs = 0;
  let backUpMs = 0;
  const perNode = new Map<string, number>();
  /** Increments in flight per target, and through the victim at the moment of the kill. */
  const inFlight = new Map<Target, number>();
  let inFlightAtKill = 0;

  const onProgress = (index: number): Promise<void> | undefined => {
    if (index === killAt) {
      live = live.filter((target) => target !== victim);
      killedAtMs = performance.now();
      inFlightAtKill = inFlight.get(victim) ?? 0;
      victim.node.child.kill("SIGKILL");
    }
    if (index === seenDownAt) {
      return eventually("the survivors to see the killed node suspect or down", () => victimSeenDown(survivors, victim.node.nodeId), { deadlineMs: formDeadlineMs, pollMs: 50 }).then(() => {
        seenDownMs = performance.now() - killedAtMs;
      });
    }
    if (index === restartAt) {
      // No new increment starts until the restarted node is up in every view; then it takes its turn.
      return (async () => {
        await victim.node.exited;
        const back = await startNode(group, join(root, "node-3"), ["--join", seed]);
        assert.equal(back.nodeId, victim.node.nodeId, "the restarted node keeps its id (same data directory)");
        restarted = targetOf(back);
        await eventually("the restarted node to be up in every view", () => allUp([first, others[0]!, back], ids), { deadlineMs: formDeadlineMs, pollMs: 50 });
        backUpMs = performance.now() - killedAtMs;
        live = [...live, restarted];
      })();
    }
    return undefined;
  };

  const workersStarted = performance.now();
  let next = 0;
  let turn = 0;
  let gate: Promise<void> | undefined;
  const worker = async (workerIndex: number): Promise<void> => {
    const client = `w${workerIndex}`;
    while (next < operations) {
      await gate;
      if (next >= operations) return;
      const index = next++;
      const waitFor = onProgress(index);
      if (waitFor !== undefined) gate = waitFor;
      await gate;
      const key = keys[index % keys.length]!;
      const target = live[turn++ % live.length]!;
      perNode.set(target.node.nodeId, (perNode.get(target.node.nodeId) ?? 0) + 1);
      const counted = counts.get(key)!;
      const op: PendingOperation<number> = recorder.invoke({ client, key, kind: "increment", input: { by: 1 } });
      inFlight.set(target, (inFlight.get(target) ?? 0) + 1);
      const outcome = await increment(target, key);
      inFlight.set(target, inFlight.get(target)! - 1);
      if (outcome.kind === "ok") {
        op.complete(outcome.value);
        counted.acked++;
        counted.outputs.push(outcome.value);
      } else if (outcome.kind === "failed") {
        op.fail(outcome.reason);
        counted.failed++;
      } else {
        counted.unknownOps.push(op);
        counted.unknown++;
      }
      if (outcome.kind !== "ok") reasons.set(outcome.reason, (reasons.get(outcome.reason) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, i) => worker(i)));
  const workersMs = performance.now() - workersStarted;
  assert.equal(recorder.pendingCount, [...counts.values()].reduce((sum, c) => sum + c.unknownOps.length, 0), "every increment ended but those of unknown outcome");
  assert.equal((await victim.node.exited).signal, "SIGKILL");
  assert.ok(restarted !== undefined, "the victim was restarted during the run");
  assert.equal(live.length, 3, "the restarted node was taken back into the rotation");

  t.diagnostic(`${operations} increments on ${keys.length} keys by ${concurrency} workers in ${Math.round(workersMs)} ms; per node ${JSON.stringify(Object.fromEntries(perNode))}`);
  t.diagnostic(`${inFlightAtKill} increments were in flight through the victim at the SIGKILL; victim seen down by both survivors ${Math.round(seenDownMs)} ms after SIGKILL, back up in every view ${Math.round(backUpMs)} ms after it`);
  if (reasons.size > 0) t.diagnostic(`not acknowledged: ${JSON.stringify(Object.fromEntries(reasons))}`);

  // Final strong reads through every node, each recorded as a get.
  const finalTargets = [targets[0]!, targets[1]!, restarted];
  const finals = new Map<string, Array<number | typeof absent>>();
  for (const key of keys) {
    const values: Array<number | typeof absent> = [];
    for (const target of finalTargets) {
      let lastError = "";
      const value = await eventually(`a strong read of ${key} through ${target.node.nodeId} to answer`, async () => {
        const op = recorder.invoke({ client: "reader", key, kind: "get", input: null });
        const read = await strongRead(target, key);
        if ("value" in read) {
          op.complete(read.value);
          return { value: read.value };
        }
        lastError = read.error;
        if (read.error.startsWith("503")) op.fail(read.error);
        else op.timeout();
        return undefined;
      }, { deadlineMs: readDeadlineMs, pollMs: 100 }).catch((error: Error) => assert.fail(`${error.message}; last answer ${lastError}`));
      values.push(value.value);
    }
    finals.set(key, values);
  }

  for (const key of keys) {
    const { acked, unknown, failed, outputs, unknownOps } = counts.get(key)!;
    const values = finals.get(key)!;
    t.diagnostic(`key ${key}: ${acked} acknowledged, ${unknown} unknown, ${failed} failed; final value through nodes 1, 2, 3: ${values.join(", ")}`);
    assert.ok(values.every((v) => v === values[0]), `every node reads the same value of ${key}: ${values.join(", ")}`);
    const v = values[0] === absent ? 0 : values[0]!;
    assert.equal(new Set(outputs).size, outputs.length, `acknowledged increments of ${key} answered distinct values`);
    assert.ok(outputs.every((o) => o >= 1 && o <= v), `every acknowledged output of ${key} is in [1, ${v}]`);
    if (unknown === 0) assert.equal(v, acked, `with no unknown outcomes, ${key} is exactly the acknowledged count`);
    assert.ok(acked <= v && v <= acked + unknown, `${key}: acked ${acked} <= v ${v} <= acked + unknown ${acked + unknown}`);
    for (const op of unknownOps) {
      if (v === acked) op.fail("did not take effect: the final value equals the acknowledged count");
      else op.timeout();
    }
  }
  const totals = [...counts.values()].reduce((a, c) => ({ acked: a.acked + c.acked, unknown: a.unknown + c.unknown, failed: a.failed + c.failed }), { acked: 0, unknown: 0, failed: 0 });
  assert.ok(totals.acked >= operations / 2, `most increments are acknowledged with two of three nodes up (${totals.acked})`);

  const history = recorder.history();
  const checkStarted = performance.now();
  const result = checkLinearizability(history, registerModel, { stepsMax: checkerStepsMax });
  const checkMs = performance.now() - checkStarted;
  t.diagnostic(`checker: ${JSON.stringify(result.ok)} over ${result.stats.operations} operations on ${result.stats.keys} keys, ${result.stats.steps} steps, ${Math.round(checkMs)} ms`);
  if (result.ok === false) assert.fail(formatCounterexample(result.counterexample));
  assert.equal(result.ok, true, result.ok === "unknown" ? `the checker ran out of budget on key ${result.key}` : "linearizable");
  t.diagnostic(`totals: ${totals.acked} acknowledged, ${totals.unknown} unknown, ${totals.failed} failed; whole test ${Math.round(performance.now() - testStarted)} ms`);
});
