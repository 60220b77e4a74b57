import { test, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { Pool } from "undici";
import { ShoalClient } from "../../src/client/shoal-client.js";
import { ShoalHttpClient } from "../../src/client/http-client.js";
import { ShoalError } from "../../src/errors.js";
import { eventually } from "../../src/testing/eventually.js";
import { ProcessGroup, startNode, type NodeProcess } from "./shoal-process.js";
import { allUp, peerPortOf, victimSeenDown } from "./cluster-views.js";

/**
 * Issue 3, "What must exist inside": three real nodes on loopback, a table with n=3 and w=2,
 * a thousand writes through the partition-aware ShoalClient (bounded concurrency) while one node
 * is killed with SIGKILL a third of the way in and restarted two thirds of the way in. Afterwards
 * every acknowledged write is read back with its value from every node at R=2, and then at R=3
 * once the restarted node is up again and has caught up (hinted handoff, read repair).
 *
 * A write may fail (its coordinator was the killed node, or it was in flight at the kill); a
 * failed write promises nothing. An acknowledged one must never be lost. Figures (acknowledged,
 * failed by code, durations) go to the test's diagnostics. Waits are conditions with deadlines.
 */
const group = new ProcessGroup();
const closers: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await group.cleanUp();
});

const writes = 1000;
const concurrency = 16;
/** Write indexes at which the victim is killed, the writes wait until the survivors see it down, and it restarts. */
const killAt = Math.floor(writes / 3);
const seenDownAt = Math.floor(writes / 2);
const restartAt = Math.floor((2 * writes) / 3);
const table = "writes";
const formDeadlineMs = 30_000;
const catchUpDeadlineMs = 60_000;
const readConcurrency = 32;

const valueOf = (index: number) => `value-${index}-${"x".repeat(index % 50)}`;
const keyOf = (index: number) => `key-${String(index).padStart(4, "0")}`;

interface WriteRun {
  acknowledged: Map<string, string>;
  failures: Map<string, number>;
  /** The first few failure messages, for the diagnostics. */
  failureSamples: string[];
  durationMs: number;
}

/**
 * Runs the writes with `concurrency` workers. `onProgress(index)` runs as write `index` starts;
 * when it returns a promise, no further write starts until it settles (writes in flight go on).
 */
async function runWrites(client: ShoalClient, onProgress: (index: number) => Promise<void> | void): Promise<WriteRun> {
  const acknowledged = new Map<string, string>();
  const failures = new Map<string, number>();
  const failureSamples: string[] = [];
  const started = Date.now();
  let next = 0;
  let gate: Promise<void> | undefined;
  const worker = async (): Promise<void> => {
    while (next < writes) {
      await gate;
      if (next >= writes) return;
      const index = next++;
      const waitFor = onProgress(index);
      if (waitFor !== undefined) gate = waitFor;
      await gate;
      try {
        await client.put(table, keyOf(index), valueOf(index), { contentType: "text/plain", w: 2 });
        acknowledged.set(keyOf(index), valueOf(index));
      } catch (error) {
        const code = error instanceof ShoalError ? error.code : `thrown ${String(error)}`;
        failures.set(code, (failures.get(code) ?? 0) + 1);
        if (failureSamples.length < 3) failureSamples.push(error instanceof Error ? error.message : String(error));
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { acknowledged, failures, failureSamples, durationMs: Date.now() - started };
}

/** Attempts per key when a read gets no answer (timeout, 503, 504): the check is about values, not about a loaded machine's latency. */
const readAttemptsMax = 5;

/**
 * The keys whose read at quorum `r` from `node` does not answer 200 with the acknowledged value.
 * A wrong value or a 404 counts at once; no answer in time (a transport timeout, 503 or 504) is
 * tried again, up to `readAttemptsMax` times, and counts only if every attempt got none.
 */
async function unreadable(node: NodeProcess, pool: Pool, expected: ReadonlyMap<string, string>, r: number): Promise<string[]> {
  const keys = [...expected.keys()];
  const wrong: string[] = [];
  let next = 0;
  const readOnce = async (key: string): Promise<{ answered: boolean; problem?: string }> => {
    try {
      const res = await pool.request({ method: "GET", path: `/v1/tables/${table}/items/${key}?r=${r}`, headersTimeout: 10_000, bodyTimeout: 10_000 });
      const body = await res.body.text();
      if (res.statusCode === 503 || res.statusCode === 504) return { answered: false, problem: `${key} (${res.statusCode} ${body.slice(0, 200)})` };
      return res.statusCode === 200 && body === expected.get(key) ? { answered: true } : { answered: true, problem: `${key} (${res.statusCode})` };
    } catch (error) {
      return { answered: false, problem: `${key} (${String(error)})` };
    }
  };
  const worker = async (): Promise<void> => {
    while (next < keys.length) {
      const key = keys[next++]!;
      for (let attempt = 1; ; attempt++) {
        const outcome = await readOnce(key);
        if (outcome.answered || attempt >= readAttemptsMax) {
          if (outcome.problem !== undefined) wrong.push(outcome.answered ? outcome.problem : `${outcome.problem} after ${attempt} attempts`);
          break;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: readConcurrency }, worker));
  return wrong;
}

test("1000 writes at W=2 through the ShoalClient while a node is killed and restarted: every acknowledged write is readable from every node", async (t) => {
  const root = group.tempDir("shoal-cluster-writes-");
  const first = await startNode(group, join(root, "node-1"));
  const seed = `127.0.0.1:${peerPortOf(first)}`;
  const others = await Promise.all([2, 3].map((i) => startNode(group, join(root, `node-${i}`), ["--join", seed])));
  let nodes = [first, ...others];
  const ids = nodes.map((n) => n.nodeId);
  await eventually("three nodes to form one cluster", () => allUp(nodes, ids), { deadlineMs: formDeadlineMs, pollMs: 50 });

  const http = new ShoalHttpClient({ url: first.url });
  closers.push(() => http.close());
  await http.createTable({ name: table, replication: { n: 3, r: 2, w: 2 } });
  await eventually(`every node to know table ${table}`, async () => {
    const known = await Promise.all(nodes.map((n) => fetch(`${n.url}/v1/tables/${table}`, { signal: AbortSignal.timeout(2000) }).then((res) => res.status === 200, () => false)));
    return known.every(Boolean);
  }, { deadlineMs: formDeadlineMs, pollMs: 100 });

  const client = await ShoalClient.connect({ seeds: [seed], requestTimeoutMs: 5000 });
  closers.push(() => client.close());
  const victim = others[1]!;
  const victimDir = join(root, "node-3");
  let restarted: Promise<NodeProcess> | undefined;
  let killedAtMs = 0;
  let restartedAtMs = 0;
  const survivors = [first, others[0]!];
  let seenDownMs = 0;
  const run = await runWrites(client, (index) => {
    if (index === killAt) {
      killedAtMs = Date.now();
      victim.child.kill("SIGKILL");
    }
    if (index === seenDownAt) {
      // The next writes run while the survivors know the victim is gone: sloppy quorum and hints.
      return eventually("the survivors to see the killed node suspect or down", () => victimSeenDown(survivors, victim.nodeId), { deadlineMs: formDeadlineMs, pollMs: 50 }).then(() => {
        seenDownMs = Date.now() - killedAtMs;
      });
    }
    if (index === restartAt) {
      restartedAtMs = Date.now();
      restarted = startNode(group, victimDir, ["--join", seed]);
    }
    return undefined;
  });
  const failed = [...run.failures.values()].reduce((a, b) => a + b, 0);
  t.diagnostic(`writes: ${run.acknowledged.size} acknowledged, ${failed} failed ${JSON.stringify(Object.fromEntries(run.failures))}, in ${run.durationMs} ms (concurrency ${concurrency})`);
  for (const sample of run.failureSamples) t.diagnostic(`a failed write: ${sample}`);
  assert.equal((await victim.exited).signal, "SIGKILL");
  assert.ok(restarted !== undefined, "the victim was restarted during the writes");
  const back = await restarted;
  assert.equal(back.nodeId, victim.nodeId, "the restarted node keeps its id (same data directory)");
  nodes = [first, others[0]!, back];
  assert.ok(run.acknowledged.size >= writes / 2, `most writes are acknowledged with two of three nodes up (${run.acknowledged.size})`);

  const pools = nodes.map((n) => new Pool(n.url, { connections: readConcurrency }));
  closers.push(() => Promise.all(pools.map((p) => p.close())).then(() => undefined));
  for (const [i, node] of nodes.entries()) {
    const wrong = await unreadable(node, pools[i]!, run.acknowledged, 2);
    assert.deepEqual(wrong.slice(0, 20), [], `${wrong.length} acknowledged writes not readable at R=2 from ${node.nodeId}`);
  }

  const catchUpStarted = Date.now();
  await eventually("the restarted node to be up in every view", () => allUp(nodes, ids), { deadlineMs: catchUpDeadlineMs, pollMs: 100 });
  let lastWrong: string[] = [];
  try {
    await eventually("every acknowledged write readable at R=3 from every node", async () => {
      for (const [i, node] of nodes.entries()) {
        lastWrong = (await unreadable(node, pools[i]!, run.acknowledged, 3)).map((key) => `${key} from ${node.nodeId}`);
        if (lastWrong.length > 0) return false;
      }
      return true;
    }, { deadlineMs: catchUpDeadlineMs, pollMs: 200 });
  } catch (error) {
    assert.fail(`${(error as Error).message}; ${lastWrong.length} misses in the last round, e.g. ${lastWrong.slice(0, 10).join(", ")}`);
  }
  t.diagnostic(`victim seen down by both survivors ${seenDownMs} ms after SIGKILL, restarted ${restartedAtMs - killedAtMs} ms after it; every acknowledged write readable at R=3 from every node ${Date.now() - catchUpStarted} ms after the R=2 checks`);
});
