import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as delay } from "node:timers/promises";
import { fetch } from "undici";
import { ProcessGroup, cliPath, startNode, waitForExit, type NodeProcess } from "./shoal-process.js";

/**
 * Issue 3, items 1 and 2: real `shoal start` processes on loopback form one cluster through
 * --join, every node's GET /v1/cluster agrees, and a node killed with -9 is seen suspect or down
 * by the others. Waiting is polling with a deadline; the figures go to the test's diagnostics.
 */
const group = new ProcessGroup();
/** PIDs of nodes started by `shoal cluster` (detached: the group only knows their parent). */
const orphans: number[] = [];
after(async () => {
  for (const pid of orphans) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  await group.cleanUp();
});

const formDeadlineMs = 30_000;
const detectDeadlineMs = 30_000;
const pollMs = 50;

interface MemberView {
  id: string;
  state: string;
  partitions: number;
  address: string;
  clientUrl: string;
}
interface ClusterView {
  self: string;
  ringVersion: number;
  partitionCount: number;
  members: MemberView[];
  pendingTransfers: number;
}

async function view(url: string): Promise<ClusterView | undefined> {
  try {
    const res = await fetch(`${url}/v1/cluster`, { signal: AbortSignal.timeout(2000) });
    return res.status === 200 ? ((await res.json()) as ClusterView) : undefined;
  } catch {
    return undefined;
  }
}

/** Polls until `check` holds for the views of `nodes`; returns them, or fails naming the last views. */
async function until(what: string, nodes: readonly NodeProcess[], check: (views: ClusterView[]) => boolean, deadlineMs: number): Promise<ClusterView[]> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const last = await Promise.all(nodes.map((n) => view(n.url)));
    const views = last.filter((v): v is ClusterView => v !== undefined);
    if (views.length === nodes.length && check(views)) return views;
    if (Date.now() > deadline) assert.fail(`${what} did not happen within ${deadlineMs} ms; last views: ${JSON.stringify(last)}`);
    await delay(pollMs);
  }
}

function peerPortOf(node: NodeProcess): number {
  for (const line of node.logs) {
    const parsed = JSON.parse(line) as { msg?: string; peerPort?: unknown };
    if (parsed.msg === "listening" && typeof parsed.peerPort === "number") return parsed.peerPort;
  }
  assert.fail(`node ${node.nodeId} logged no peer port`);
}

const formed = (size: number) => (views: ClusterView[]) => {
  const version = views[0]!.ringVersion;
  return views.every((v) => {
    const sum = v.members.reduce((total, m) => total + m.partitions, 0);
    // pendingTransfers 0: the ring is settled (a join moves partitions through a transition first).
    return v.ringVersion === version && v.members.length === size && v.members.every((m) => m.state === "up") && sum === v.partitionCount && v.pendingTransfers === 0;
  });
};

test("three nodes joined by --join agree on one ring, and a node killed with -9 is seen suspect or down", async (t) => {
  const root = group.tempDir("shoal-cluster-");
  const started = Date.now();
  const first = await startNode(group, join(root, "node-1"));
  const seed = `127.0.0.1:${peerPortOf(first)}`;
  assert.notEqual(peerPortOf(first), 0, "the listening line carries the bound peer port");
  const others = await Promise.all([2, 3].map((i) => startNode(group, join(root, `node-${i}`), ["--join", seed])));
  const nodes = [first, ...others];
  const views = await until("three nodes forming one cluster", nodes, formed(3), formDeadlineMs);
  const formMs = Date.now() - started;
  t.diagnostic(`3-node cluster formed ${formMs} ms after the first process was spawned (ring version ${views[0]!.ringVersion})`);

  const ids = nodes.map((n) => n.nodeId).sort();
  for (const v of views) {
    assert.deepEqual(v.members.map((m) => m.id), ids);
    assert.equal(v.pendingTransfers, 0);
    const self = v.members.find((m) => m.id === v.self)!;
    const node = nodes.find((n) => n.nodeId === v.self)!;
    assert.equal(self.clientUrl, node.url, "a member's client url is where it listens");
    assert.ok(v.members.every((m) => m.partitions > 0), "every member owns partitions");
  }

  const victim = others[1]!;
  const killedAt = Date.now();
  victim.child.kill("SIGKILL");
  assert.equal((await victim.exited).signal, "SIGKILL");
  const survivors = [first, others[0]!];
  await until("the survivors seeing the killed node suspect or down", survivors, (vs) => vs.every((v) => {
    const state = v.members.find((m) => m.id === victim.nodeId)?.state;
    return state === "suspect" || state === "down";
  }), detectDeadlineMs);
  t.diagnostic(`killed node seen suspect or down by both survivors ${Date.now() - killedAt} ms after SIGKILL`);
  const after = await Promise.all(survivors.map((n) => view(n.url)));
  assert.ok(after.every((v) => v!.members.find((m) => m.id === victim.nodeId)!.partitions > 0), "a failed node keeps its partitions (no ring change for a transient failure)");
});

test("shoal cluster starts N nodes that form one cluster, prints their endpoints, and stops them all on SIGTERM", async () => {
  const dataDir = join(group.tempDir("shoal-cluster-cmd-"), "data");
  const child = group.track(spawn(process.execPath, [cliPath, "cluster", "--nodes", "2", "--port", "0", "--peer-port", "0", "--data-dir", dataDir], { stdio: ["ignore", "pipe", "pipe"] }));
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (text: string) => (stderr += text));
  const lines: string[] = [];
  const formedLine = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "cluster formed" line within ${formDeadlineMs * 2} ms; stdout: ${lines.join("\n")}; stderr: ${stderr}`)), formDeadlineMs * 2);
    child.once("exit", (code) => reject(new Error(`shoal cluster exited early (code ${code}); stdout: ${lines.join("\n")}; stderr: ${stderr}`)));
    createInterface({ input: child.stdout! }).on("line", (line) => {
      lines.push(line);
      const pid = /^\d+\s+\S+\s+http:\/\/\S+\s+\S+\s+(\d+)\s/.exec(line)?.[1];
      if (pid !== undefined) orphans.push(Number(pid));
      if (line.startsWith("cluster formed:")) {
        clearTimeout(timer);
        resolve(line);
      }
    });
  });
  assert.match(formedLine, /^cluster formed: 2 members up, ring version \d+/);
  assert.match(lines[0]!, /^NODE\s+ID\s+CLIENT URL\s+PEER ADDRESS\s+PID\s+LOG$/);
  assert.equal(orphans.length, 2, `two node rows in:\n${lines.join("\n")}`);
  const url = /http:\/\/\S+/.exec(lines[2]!)![0];
  const status = await view(url);
  assert.equal(status?.members.length, 2);

  child.kill("SIGTERM");
  const exit = await waitForExit(group, child);
  assert.equal(exit.code, 0, `stderr: ${stderr}`);
  for (const pid of orphans) assert.throws(() => process.kill(pid, 0), /ESRCH/, `node process ${pid} is gone`);
});
