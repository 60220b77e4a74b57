import { test, after } from "node:test";
import assert from "node:assert/strict";
import type { TableDefinition } from "../catalog/table-definition.js";
import { ClientProtocolHandler, type ClientMemberSource } from "../client-protocol/client-protocol-handler.js";
import { clientMessagePrefix } from "../client-protocol/client-messages.js";
import { TestItemOperations } from "../client-protocol/test-item-operations.js";
import type { ItemOperations } from "../coordinator/item-operations.js";
import { ShoalError } from "../errors.js";
import { defaultLimits } from "../limits.js";
import { PeerDispatcher } from "../node/peer-dispatcher.js";
import { claimInitial } from "../ring/claim.js";
import { partitionOf } from "../ring/partition-hash.js";
import { preferenceList } from "../ring/preference-list.js";
import { ringState, type RingState } from "../ring/ring-state.js";
import { eventually } from "../testing/eventually.js";
import { TcpNetwork } from "../transport/tcp-network.js";
import { ShoalClient } from "./shoal-client.js";

/**
 * The client against three in-process nodes: real TcpNetworks on loopback serving the client
 * protocol handler over one shared TestItemOperations, so each test can see which node
 * coordinated a request, stop a node, hold one, or move the ring.
 */
const tables: Record<string, TableDefinition> = {
  cart: { name: "cart", id: 1, replication: { n: 3, r: 2, w: 2 }, consistency: "eventual", conflicts: "siblings", createdAtMs: 0 },
  bank: { name: "bank", id: 2, replication: { n: 3, r: 2, w: 2 }, consistency: "strong", conflicts: "siblings", createdAtMs: 0 },
};
const text = (value: Uint8Array) => new TextDecoder().decode(value);
const ids = ["n1", "n2", "n3"];

interface TestCluster {
  ring: RingState;
  store: TestItemOperations;
  /** Node id per operation, in the order the nodes received them. */
  served: Array<{ node: string; op: string }>;
  /** A node whose entry is set waits for it before running any operation. */
  gates: Map<string, Promise<void>>;
  /** A node listed here answers every operation with this store failure code. */
  failing: Map<string, "Unavailable" | "Overloaded">;
  networks: Map<string, TcpNetwork>;
  seeds: string[];
}

const clusters: TestCluster[] = [];
const clients: ShoalClient[] = [];
after(async () => {
  for (const client of clients) client.close();
  for (const cluster of clusters) await Promise.all([...cluster.networks.values()].map((n) => n.close()));
});

async function startCluster(): Promise<TestCluster> {
  const claimed = claimInitial(ids.map((id) => ({ id })), { partitionCount: 16 });
  assert.ok(claimed.ok);
  const cluster: TestCluster = { ring: claimed.ring, store: new TestItemOperations(), served: [], gates: new Map(), failing: new Map(), networks: new Map(), seeds: [] };
  const members: ClientMemberSource[] = [];
  for (const id of ids) {
    const network = new TcpNetwork({ nodeId: id, limits: defaultLimits });
    const port = await network.listen("127.0.0.1", 0);
    members.push({ id, address: { host: "127.0.0.1", peerPort: port, clientPort: 1 }, state: "up" });
    const handler = new ClientProtocolHandler({ tables: { get: (name) => tables[name] }, items: nodeItems(cluster, id), ring: () => cluster.ring, members: () => members, limits: defaultLimits });
    const dispatcher = new PeerDispatcher();
    dispatcher.route(clientMessagePrefix, handler.handle);
    network.serve(dispatcher.handle);
    cluster.networks.set(id, network);
    cluster.seeds.push(`127.0.0.1:${port}`);
  }
  clusters.push(cluster);
  return cluster;
}

/** The shared store as seen through node `id`: records the node and honours its gate. */
function nodeItems(cluster: TestCluster, id: string): ItemOperations {
  const wrap =
    <A extends unknown[], R>(op: string, run: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      cluster.served.push({ node: id, op });
      await cluster.gates.get(id);
      const failure = cluster.failing.get(id);
      if (failure !== undefined) return { ok: false, error: { code: failure, message: `1 of 2 required replies (node ${id})` } } as R;
      return run(...args);
    };
  const store = cluster.store;
  return {
    get: wrap("get", store.get.bind(store)),
    put: wrap("put", store.put.bind(store)),
    delete: wrap("delete", store.delete.bind(store)),
    list: wrap("list", store.list.bind(store)),
    modify: store.modify.bind(store),
    query: store.query.bind(store),
    batch: store.batch.bind(store),
  };
}

async function connect(cluster: TestCluster, options: { requestTimeoutMs?: number } = {}): Promise<ShoalClient> {
  const client = await ShoalClient.connect({ seeds: cluster.seeds, ...options });
  clients.push(client);
  return client;
}

function firstReplica(ring: RingState, key: string): string {
  return preferenceList(ring, partitionOf(new TextEncoder().encode(key), ring.partitionCount), 3)[0]!;
}

test("each request goes straight to the first node of its key's preference list", async () => {
  const cluster = await startCluster();
  const client = await connect(cluster);
  const keys = Array.from({ length: 60 }, (_, i) => `user/${i}`);
  for (const key of keys) await client.put("cart", key, `v${i(key)}`);
  const puts = cluster.served.filter((s) => s.op === "put").map((s) => s.node);
  assert.deepEqual(puts, keys.map((key) => firstReplica(cluster.ring, key)));
  assert.equal(new Set(puts).size, 3, "60 keys spread over all three nodes");
});

const i = (key: string) => key.split("/")[1];

test("writes to a strong table go to the key's first primary every time: one proposer per key, whose held promises skip the prepare", async () => {
  const cluster = await startCluster();
  const client = await connect(cluster);
  const keys = Array.from({ length: 30 }, (_, n) => `acct/${n}`);
  for (const key of [...keys, ...keys]) await client.put("bank", key, "1");
  const puts = cluster.served.filter((s) => s.op === "put").map((s) => s.node);
  assert.deepEqual(puts, [...keys, ...keys].map((key) => firstReplica(cluster.ring, key)), "every write of a key through the same node");
});

test("put, get, delete and list round-trip values, metadata, sort keys, siblings and contexts", async () => {
  const cluster = await startCluster();
  const client = await connect(cluster);
  const first = await client.put("cart", "k", "apple", { contentType: "text/plain", metadata: { owner: "ana" }, expiresAt: new Date(4_000_000_000_000) });
  assert.equal(first.created, true);
  await client.put("cart", "k", new Uint8Array([0, 1, 2]));
  const both = await client.get("cart", "k");
  assert.ok(both !== undefined);
  assert.equal(both.siblings.length, 2, "a write without a context becomes a sibling");
  assert.equal(text(both.siblings[0]!.value), "apple");
  assert.deepEqual(both.siblings[0]!.metadata, { owner: "ana" });
  assert.equal(both.siblings[0]!.expiresAt?.getTime(), 4_000_000_000_000);
  assert.equal(both.siblings[0]!.version, first.version);
  assert.ok(both.siblings[0]!.lastModified instanceof Date);
  await client.put("cart", "k", "merged", { context: both.context });
  assert.deepEqual((await client.get("cart", "k"))?.siblings.map((s) => text(s.value)), ["merged"]);

  await client.put("cart", { partitionKey: "order", sortKey: "2" }, "second");
  await client.put("cart", { partitionKey: "order", sortKey: "1" }, "first");
  const listed = [];
  for await (const item of client.list("cart", { pageSize: 1 })) listed.push(`${text(item.partitionKey)}${item.sortKey ? `#${text(item.sortKey)}` : ""}`);
  assert.deepEqual(listed, ["k", "order#1", "order#2"]);
  const prefixed = [];
  for await (const item of client.list("cart", { prefix: "ord" })) prefixed.push(text(item.siblings[0]!.value));
  assert.deepEqual(prefixed, ["first", "second"]);

  assert.deepEqual(await client.delete("cart", "k"), { existed: true });
  assert.equal(await client.get("cart", "k"), undefined, "not found is undefined, not an error");
});

test("failures are ShoalErrors with the node's code and status", async () => {
  const cluster = await startCluster();
  const client = await connect(cluster);
  await assert.rejects(client.get("nope", "k"), (e: unknown) => e instanceof ShoalError && e.code === "TableNotFound" && e.status === 404 && /"nope"/.test(e.message));
  await client.put("cart", "k", "v");
  await assert.rejects(client.put("cart", "k", "w", { ifNoneMatch: "*" }), (e: unknown) => e instanceof ShoalError && e.code === "PreconditionFailed" && e.status === 412);
  await assert.rejects(client.put("cart", "", "v"), (e: unknown) => e instanceof ShoalError && e.code === "BadRequest");
});

test("a read moves on to the next replica when the first node is down", async () => {
  const cluster = await startCluster();
  const client = await connect(cluster);
  await client.put("cart", "k", "v");
  const [owner, second] = preferenceList(cluster.ring, partitionOf(new TextEncoder().encode("k"), cluster.ring.partitionCount), 3);
  await cluster.networks.get(owner!)!.close();
  cluster.served.length = 0;
  const item = await client.get("cart", "k");
  assert.equal(text(item!.siblings[0]!.value), "v");
  assert.deepEqual(cluster.served, [{ node: second, op: "get" }]);
});

test("a write goes to the next replica only when the first could not be reached, and is applied once", async () => {
  const cluster = await startCluster();
  const [owner, second] = preferenceList(cluster.ring, partitionOf(new TextEncoder().encode("k"), cluster.ring.partitionCount), 3);
  // Down before the client connects: a connection that was open when the node went away can
  // carry the write before the client learns of the close, and then the outcome is unknown.
  await cluster.networks.get(owner!)!.close();
  const client = await connect(cluster);
  await client.put("cart", "k", "v");
  assert.deepEqual(cluster.served, [{ node: second, op: "put" }]);
  assert.equal((await client.get("cart", "k"))?.siblings.length, 1);
});

test("a write that reached a node which never answers fails as WriteOutcomeUnknown and is not sent elsewhere", async () => {
  const cluster = await startCluster();
  const client = await connect(cluster, { requestTimeoutMs: 300 });
  const owner = firstReplica(cluster.ring, "k");
  let release!: () => void;
  cluster.gates.set(owner, new Promise<void>((resolve) => (release = resolve)));
  try {
    await assert.rejects(client.put("cart", "k", "v"), (e: unknown) => e instanceof ShoalError && e.code === "WriteOutcomeUnknown" && /read the key to find out/.test(e.message));
    assert.deepEqual(cluster.served, [{ node: owner, op: "put" }], "no other node was asked");
  } finally {
    release();
  }
  // The held write did happen once released: that is exactly why the client could not say.
  const item = await eventually("the held write to land", async () => (await client.get("cart", "k")) ?? false);
  assert.equal(item.siblings.length, 1);
});

test("a write whose connection is lost before the answer fails as WriteOutcomeUnknown", async () => {
  const cluster = await startCluster();
  const client = await connect(cluster);
  const owner = firstReplica(cluster.ring, "k");
  cluster.gates.set(owner, new Promise<void>(() => undefined));
  const put = client.put("cart", "k", "v");
  await eventually("the write to reach its node", () => cluster.served.length === 1);
  await cluster.networks.get(owner)!.close();
  await assert.rejects(put, (e: unknown) => e instanceof ShoalError && e.code === "WriteOutcomeUnknown" && /lost the connection/.test(e.message));
  assert.deepEqual(cluster.served, [{ node: owner, op: "put" }]);
});

test("a read answered Unavailable by one node is asked of the next; a write answered so is not", async () => {
  const cluster = await startCluster();
  const client = await connect(cluster);
  await client.put("cart", "k", "v");
  const [owner, second] = preferenceList(cluster.ring, partitionOf(new TextEncoder().encode("k"), cluster.ring.partitionCount), 3);
  cluster.failing.set(owner!, "Unavailable");
  cluster.served.length = 0;
  assert.equal(text((await client.get("cart", "k"))!.siblings[0]!.value), "v");
  assert.deepEqual(cluster.served, [{ node: owner, op: "get" }, { node: second, op: "get" }]);
  cluster.served.length = 0;
  await assert.rejects(client.put("cart", "k", "w"), (e: unknown) => e instanceof ShoalError && e.code === "Unavailable" && e.status === 503 && /1 of 2 required replies/.test(e.message));
  assert.deepEqual(cluster.served, [{ node: owner, op: "put" }]);
  for (const id of ids) cluster.failing.set(id, "Unavailable");
  await assert.rejects(client.get("cart", "k"), (e: unknown) => e instanceof ShoalError && e.code === "Unavailable" && /3 node\(s\) tried/.test(e.message));
});

test("a newer ring version in any answer makes the client refetch the ring and place keys with it", async () => {
  const cluster = await startCluster();
  const client = await connect(cluster);
  const before = cluster.ring;
  assert.equal(client.ringVersion, before.version);
  // Every partition moves to the next member: a ring the old one would place keys wrongly with.
  const next = (id: string) => ids[(ids.indexOf(id) + 1) % ids.length]!;
  cluster.ring = ringState({ ...before, version: before.version + 1, owners: before.owners.map(next) });
  await client.put("cart", "trigger", "v");
  await eventually("the client to adopt the new ring", () => client.ringVersion === before.version + 1);
  cluster.served.length = 0;
  await client.put("cart", "k", "v");
  assert.deepEqual(cluster.served, [{ node: firstReplica(cluster.ring, "k"), op: "put" }]);
  assert.notEqual(firstReplica(cluster.ring, "k"), firstReplica(before, "k"));
});

test("connect fails with NoSeedReachable naming each seed when none answers", async () => {
  const network = new TcpNetwork({ nodeId: "gone", limits: defaultLimits });
  const port = await network.listen("127.0.0.1", 0);
  await network.close();
  await assert.rejects(
    ShoalClient.connect({ seeds: [`127.0.0.1:${port}`, "not-an-address"], connectTimeoutMs: 1000 }),
    (e: unknown) => e instanceof ShoalError && e.code === "NoSeedReachable" && e.message.includes(`127.0.0.1:${port}`) && e.message.includes("not host:port"),
  );
});
