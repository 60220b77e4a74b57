import { test } from "node:test";
import assert from "node:assert/strict";
import type { Network, NodeId, RequestResult } from "../runtime/network.js";
import { encodeItemKey } from "../storage/item-key.js";
import * as dvvset from "../versioning/dotted-version-vector-set.js";
import type { Sibling } from "../versioning/sibling.js";
import { MergeBatcher, mergeBatchItemsMax, type MergeItemWire } from "./merge-batch.js";

// The sending side of "replica.merges": merges to one peer within one turn go as one message,
// each merge gets its own reply, bounds split batches, older peers get one message per merge.

const encoder = new TextEncoder();

function item(name: string, valueBytes = 10): MergeItemWire {
  const sibling: Sibling = { value: new Uint8Array(valueBytes), contentType: "text/plain", metadata: [], timestamp: 1, tombstone: false, expiresAtMs: null };
  return { key: encodeItemKey(7, encoder.encode(name)), set: dvvset.update(dvvset.newValue(sibling), dvvset.empty<Sibling>(), "n1"), hintFor: null, lww: false, ringVersion: 3, n: 3 };
}

interface Sent {
  to: NodeId;
  message: { type: string; merges?: MergeItemWire[]; key?: Uint8Array };
  timeoutMs: number;
}

/** A network that records requests and answers each with `answer` (by default: every merge ok, naming its key). */
function recordingNetwork(answer?: (sent: Sent) => RequestResult<unknown> | Promise<RequestResult<unknown>>): { network: Network; sent: Sent[] } {
  const sent: Sent[] = [];
  const keyName = (key: Uint8Array): string => Buffer.from(key).toString("latin1");
  const okAll = (s: Sent): RequestResult<unknown> =>
    s.message.type === "replica.merges" ? { ok: true, reply: { ok: true, replies: s.message.merges!.map((m) => ({ ok: true, durable: true, key: keyName(m.key) })) } } : { ok: true, reply: { ok: true, durable: true, key: keyName(s.message.key!) } };
  const network: Network = {
    request: <T>(to: NodeId, message: unknown, options: { timeoutMs: number }) => {
      const s = { to, message: message as Sent["message"], timeoutMs: options.timeoutMs };
      sent.push(s);
      return Promise.resolve((answer ?? okAll)(s)) as Promise<RequestResult<T>>;
    },
    send: () => undefined,
    serve: () => undefined,
  };
  return { network, sent };
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test("merges to one peer in one turn go as one replica.merges, and each gets its own reply in order", async () => {
  const { network, sent } = recordingNetwork();
  const batcher = new MergeBatcher(network);
  const toA = ["a1", "a2", "a3"].map((name) => batcher.send("A", item(name), 400));
  const toB = ["b1", "b2"].map((name) => batcher.send("B", item(name), 400));
  const replies = await Promise.all([...toA, ...toB]);
  assert.deepEqual(
    sent.map((s) => [s.to, s.message.type, s.message.merges?.length]),
    [
      ["A", "replica.merges", 3],
      ["B", "replica.merges", 2],
    ],
  );
  const keys = replies.map((r) => (r.ok ? (r.reply as { key: string }).key : "failed"));
  assert.deepEqual(
    keys,
    ["a1", "a2", "a3", "b1", "b2"].map((name) => Buffer.from(encodeItemKey(7, encoder.encode(name))).toString("latin1")),
  );
  assert.deepEqual(batcher.stats, { messages: 2, merges: 5 });
});

test("a lone merge goes as a plain replica.merge; merges in later turns go in later messages", async () => {
  const { network, sent } = recordingNetwork();
  const batcher = new MergeBatcher(network);
  const first = await batcher.send("A", item("k1"), 400);
  await turn();
  await Promise.all([batcher.send("A", item("k2"), 400), batcher.send("A", item("k3"), 400)]);
  assert.ok(first.ok);
  assert.deepEqual(
    sent.map((s) => s.message.type),
    ["replica.merge", "replica.merges"],
  );
  assert.equal(sent[0]!.message.key!.length, item("k1").key.length);
});

test("a batch is bounded by count and by bytes: a full one leaves at once, the rest in the next", async () => {
  const { network, sent } = recordingNetwork();
  const byCount = new MergeBatcher(network, { itemsMax: 2 });
  await Promise.all(["k1", "k2", "k3", "k4", "k5"].map((name) => byCount.send("A", item(name), 400)));
  assert.deepEqual(
    sent.map((s) => s.message.merges?.length ?? 1),
    [2, 2, 1],
  );
  sent.length = 0;
  // Each merge is about 1 KiB: a 2.5 KiB bound holds two; a merge larger than the bound goes alone.
  const byBytes = new MergeBatcher(network, { bytesMax: 2500 });
  await Promise.all([byBytes.send("A", item("k1", 1000), 400), byBytes.send("A", item("k2", 1000), 400), byBytes.send("A", item("k3", 1000), 400), byBytes.send("A", item("big", 5000), 400), byBytes.send("A", item("k4", 10), 400)]);
  assert.deepEqual(
    sent.map((s) => s.message.merges?.map((m) => m.key.length) ?? [s.message.key!.length]).map((keys) => keys.length),
    [2, 1, 1, 1],
  );
  assert.throws(() => new MergeBatcher(network, { itemsMax: 0 }), /itemsMax must be 1 to 64, got 0/);
  assert.equal(new MergeBatcher(network, { itemsMax: 1000 }) instanceof MergeBatcher, true, "a larger itemsMax is capped at mergeBatchItemsMax");
  assert.equal(mergeBatchItemsMax, 64);
});

test("a batch's deadline is the earliest of its merges'", async () => {
  const { network, sent } = recordingNetwork();
  const batcher = new MergeBatcher(network);
  await Promise.all([batcher.send("A", item("k1"), 400), batcher.send("A", item("k2"), 150), batcher.send("A", item("k3"), 300)]);
  assert.equal(sent[0]!.timeoutMs, 150);
});

test("a batch that timed out, or whose handler threw, answers every merge with that failure", async () => {
  const failure = { shoalRemoteFailure: { code: "Internal", message: "boom" } };
  for (const answer of [{ ok: false, error: "timeout" } as const, { ok: true, reply: failure } as const]) {
    const { network } = recordingNetwork(() => answer);
    const batcher = new MergeBatcher(network);
    const replies = await Promise.all([batcher.send("A", item("k1"), 400), batcher.send("A", item("k2"), 400)]);
    assert.deepEqual(replies, [answer, answer]);
  }
});

test("a reply that is not one reply per merge fails every merge of the batch, naming why", async () => {
  const { network } = recordingNetwork(() => ({ ok: true, reply: { ok: true, replies: [{ ok: true, durable: true }] } }));
  const batcher = new MergeBatcher(network);
  const replies = await Promise.all([batcher.send("A", item("k1"), 400), batcher.send("A", item("k2"), 400)]);
  for (const reply of replies) assert.deepEqual(reply, { ok: true, reply: { ok: false, error: "the reply to replica.merges is not one reply per merge" } });
});

test("a peer that predates replica.merges gets the batch again one merge per message, and single merges from then on", async () => {
  const { network, sent } = recordingNetwork((s) => (s.message.type === "replica.merges" ? { ok: true, reply: { ok: false, error: "unknown replica message replica.merges" } } : { ok: true, reply: { ok: true, durable: true } }));
  const batcher = new MergeBatcher(network);
  const replies = await Promise.all([batcher.send("old", item("k1"), 400), batcher.send("old", item("k2"), 400)]);
  assert.deepEqual(replies, [
    { ok: true, reply: { ok: true, durable: true } },
    { ok: true, reply: { ok: true, durable: true } },
  ]);
  await Promise.all([batcher.send("old", item("k3"), 400), batcher.send("old", item("k4"), 400)]);
  assert.deepEqual(
    sent.map((s) => s.message.type),
    ["replica.merges", "replica.merge", "replica.merge", "replica.merge", "replica.merge"],
  );
});

test("a send that throws is a failed result, not a rejection", async () => {
  const network: Network = {
    request: () => {
      throw new Error("no link");
    },
    send: () => undefined,
    serve: () => undefined,
  };
  const batcher = new MergeBatcher(network);
  const replies = await Promise.all([batcher.send("A", item("k1"), 400), batcher.send("A", item("k2"), 400), batcher.send("B", item("k3"), 400)]);
  assert.deepEqual(replies, [
    { ok: false, error: "unreachable" },
    { ok: false, error: "unreachable" },
    { ok: false, error: "unreachable" },
  ]);
});
