import { test, after } from "node:test";
import assert from "node:assert/strict";
import { eventually } from "../testing/eventually.js";
import { fetch } from "undici";
import { MemoryStorageEngine } from "../storage/memory-storage-engine.js";
import { startTestNode, type TestNode } from "./test-node.js";
import { ringMetaKey } from "./node-cluster.js";

/** In-process nodes on real TCP and real timers; the multi-process test is test/process/cluster-formation.test.ts. */
const started: TestNode[] = [];
after(() => Promise.all(started.map((n) => n.close())));

async function start(options: Parameters<typeof startTestNode>[0]): Promise<TestNode> {
  const node = await startTestNode(options);
  started.push(node);
  return node;
}

test("a node joining by seed address is claimed into the ring; both agree and count two members", async () => {
  const first = await start({ config: { nodeId: "n1" } });
  const second = await start({ config: { nodeId: "n2", join: [`127.0.0.1:${first.node.peerPort}`] } });
  const converged = () => [first, second].every((t) => {
    const status = t.node.cluster.status();
    return status.ringVersion === 2 && status.members.length === 2 && status.members.every((m) => m.state === "up" && m.partitions === 128);
  });
  await eventually("two nodes converging on ring version 2", converged);
  assert.equal(first.node.cluster.size(), 2);
  const table = await (await fetch(`${second.url}/v1/tables`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "cart" }) })).json();
  assert.deepEqual((table as { effectiveReplication: unknown }).effectiveReplication, { n: 2, r: 2, w: 2 }, JSON.stringify(table));
});

test("the ring is persisted on change and a restarted node resumes it", async () => {
  const storage = new MemoryStorageEngine();
  const node = await start({ storage, config: { nodeId: "solo" } });
  assert.notEqual(storage.get(ringMetaKey), undefined, "a first ring is persisted at once");
  const ring = node.node.cluster.membership.ring();
  await node.close();
  const again = await start({ storage, config: { nodeId: "solo" } });
  assert.deepEqual(again.node.cluster.membership.ring(), ring);
  assert.equal(again.node.cluster.status().members[0]?.state, "up");
});

test("a new node whose seeds never answer fails to start with JoinFailed naming the seed", async () => {
  const gone = await start({ config: { nodeId: "gone" } });
  const port = gone.node.peerPort;
  await gone.close();
  await assert.rejects(
    startTestNode({ config: { nodeId: "lonely", join: [`127.0.0.1:${port}`], joinTimeoutMs: 300 } }),
    (error: Error & { code?: string }) => error.code === "JoinFailed" && error.message.includes(`127.0.0.1:${port}`),
  );
});

test("a seed list naming only this node itself forms a cluster of one", async () => {
  // The peer port must be known before start, so take a free one from a node that then stops.
  const probe = await start({ config: { nodeId: "probe" } });
  const port = probe.node.peerPort;
  await probe.close();
  const self = await start({ config: { nodeId: "self", peerPort: port, join: [`127.0.0.1:${port}`] } });
  await eventually("the node forming a ring of one", () => self.node.cluster.status().ringVersion >= 1);
  assert.deepEqual(self.node.cluster.status().members.map((m) => m.id), ["self"]);
});

test("a restarted node without --join finds its cluster again through the peers it persisted", async () => {
  const storage = new MemoryStorageEngine();
  const first = await start({ storage, config: { nodeId: "r1" } });
  const second = await start({ config: { nodeId: "r2", join: [`127.0.0.1:${first.node.peerPort}`] } });
  const bothUp = (nodes: TestNode[]) => () => nodes.every((t) => {
    const status = t.node.cluster.status();
    return status.members.length === 2 && status.members.every((m) => m.state === "up");
  });
  await eventually("two nodes up", bothUp([first, second]));
  await first.close();
  await eventually("the survivor noticing", () => second.node.cluster.status().members.find((m) => m.id === "r1")?.state !== "up");
  // Same storage, no seeds, and a new peer port (0 again): only the persisted peers lead back.
  const restarted = await start({ storage, config: { nodeId: "r1" } });
  await eventually("both nodes up again", bothUp([restarted, second]));
  // "Up" in both views can come a gossip round before the ring does: wait for one ring, with a deadline.
  await eventually("both nodes on one ring version", () => restarted.node.cluster.status().ringVersion === second.node.cluster.status().ringVersion);
  assert.deepEqual(restarted.node.cluster.membership.ring(), second.node.cluster.membership.ring());
});
