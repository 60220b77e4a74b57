import { test, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { Pool } from "undici";
import { ShoalHttpClient } from "../../src/client/http-client.js";
import { eventually } from "../../src/testing/eventually.js";
import { ProcessGroup, runShoal, startNode, waitForExit, type NodeProcess } from "./shoal-process.js";
import { allUp, peerPortOf } from "./cluster-views.js";

/**
 * Issue 6, item 2 on real processes: three nodes, a small write load at W=2 through all three,
 * and `shoal cluster leave --url <node 3>`. The leaver hands its partitions off, then its
 * `shoal start` process logs that it left and exits 0 by itself; every acknowledged write is then
 * readable at R=2 from the two nodes that stay, and their ring no longer places the leaver.
 */
const group = new ProcessGroup();
const closers: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await group.cleanUp();
});

const table = "leave_writes";
const formDeadlineMs = 30_000;
const leaveDeadlineMs = 60_000;
const writersMax = 4;
const writesMax = 5000;

interface ClusterBody {
  ringVersion: number;
  pendingTransfers: number;
  members: Array<{ id: string; state: string; partitions: number }>;
}

async function view(url: string): Promise<ClusterBody | undefined> {
  const res = await fetch(`${url}/v1/cluster`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
  return res?.status === 200 ? ((await res.json()) as ClusterBody) : undefined;
}

test("shoal cluster leave under a write load: the leaver exits 0 once handed off, and no acknowledged write is lost", async (t) => {
  const root = group.tempDir("shoal-cluster-leave-");
  const first = await startNode(group, join(root, "node-1"));
  const seed = `127.0.0.1:${peerPortOf(first)}`;
  const others = await Promise.all([2, 3].map((i) => startNode(group, join(root, `node-${i}`), ["--join", seed])));
  const nodes: NodeProcess[] = [first, ...others];
  await eventually("three nodes to form one cluster", () => allUp(nodes, nodes.map((n) => n.nodeId)), { deadlineMs: formDeadlineMs, pollMs: 50 });
  await eventually("the ring to settle", async () => (await view(first.url))?.pendingTransfers === 0, { deadlineMs: formDeadlineMs, pollMs: 100 });
  const leaver = others[1]!;
  const stay = [first, others[0]!];

  const http = new ShoalHttpClient({ url: first.url });
  closers.push(() => http.close());
  await http.createTable({ name: table, replication: { n: 2, r: 2, w: 2 } });
  await eventually(`every node to know table ${table}`, async () => {
    const known = await Promise.all(nodes.map((n) => fetch(`${n.url}/v1/tables/${table}`, { signal: AbortSignal.timeout(2000) }).then((res) => res.status === 200, () => false)));
    return known.every(Boolean);
  }, { deadlineMs: formDeadlineMs, pollMs: 100 });

  const pools = nodes.map((n) => new Pool(n.url, { connections: writersMax }));
  closers.push(() => Promise.all(pools.map((p) => p.destroy())).then(() => undefined));
  const acknowledged = new Map<string, string>();
  let failed = 0;
  let stop = false;
  let next = 0;
  const writer = async (): Promise<void> => {
    while (!stop && next < writesMax) {
      const index = next++;
      const key = `k${String(index).padStart(5, "0")}`;
      const value = `v${index}`;
      try {
        const res = await pools[index % pools.length]!.request({ method: "PUT", path: `/v1/tables/${table}/items/${key}?w=2`, body: value, headers: { "content-type": "text/plain" }, headersTimeout: 5000, bodyTimeout: 5000 });
        await res.body.dump();
        if (res.statusCode === 200 || res.statusCode === 201) acknowledged.set(key, value);
        else failed++;
      } catch {
        failed++;
      }
    }
  };
  const writing = Promise.all(Array.from({ length: writersMax }, writer));
  await eventually("some writes before the leave", () => acknowledged.size >= 100, { deadlineMs: formDeadlineMs });
  const beforeLeave = acknowledged.size;

  const leave = await runShoal(group, ["cluster", "leave", "--url", leaver.url]);
  assert.equal(leave.code, 0, leave.stderr);
  assert.match(leave.stdout.toString(), new RegExp(`${leaver.nodeId} hands its partitions off`));
  const exit = await waitForExit(group, leaver.child, leaveDeadlineMs);
  const duringLeave = acknowledged.size - beforeLeave;
  stop = true;
  await writing;
  assert.deepEqual(exit, { code: 0, signal: null }, leaver.stderr());
  assert.ok(leaver.logs.some((line) => line.includes("left the cluster")), "the leaver logged that it left");
  assert.ok(duringLeave > 0, "writes were acknowledged while the leave ran");

  const settled = await eventually("the two nodes to agree on a settled ring without the leaver", async () => {
    const views = await Promise.all(stay.map((n) => view(n.url)));
    const ok = views.every((v) => v !== undefined && v.pendingTransfers === 0 && v.ringVersion === views[0]!.ringVersion && (v.members.find((m) => m.id === leaver.nodeId)?.partitions ?? 0) === 0);
    return ok ? views[0] : undefined;
  }, { deadlineMs: formDeadlineMs, pollMs: 100 });
  assert.deepEqual(settled!.members.filter((m) => m.partitions > 0).map((m) => m.id).sort(), stay.map((n) => n.nodeId).sort());

  for (const [i, node] of stay.entries()) {
    const wrong: string[] = [];
    for (const [key, value] of acknowledged) {
      const res = await pools[i]!.request({ method: "GET", path: `/v1/tables/${table}/items/${key}?r=2`, headersTimeout: 5000, bodyTimeout: 5000 });
      const body = await res.body.text();
      if (res.statusCode !== 200 || body !== value) wrong.push(`${key} (${res.statusCode})`);
    }
    assert.deepEqual(wrong.slice(0, 20), [], `${wrong.length} acknowledged writes not readable at R=2 from ${node.nodeId}`);
  }
  t.diagnostic(`writes: ${acknowledged.size} acknowledged (${beforeLeave} before the leave, ${duringLeave} during it), ${failed} failed; ring version ${settled!.ringVersion} after the leave`);
});
