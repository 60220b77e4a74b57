import { test } from "node:test";
import assert from "node:assert/strict";
import type { Network, NodeId, RequestResult } from "../runtime/network.js";
import { learnRingFrom } from "./learn-ring.js";

// learnRingFrom asks a peer for its ring and hands it to membership; learns from one peer
// while one is in flight share it (a burst of refused reads during a ring change asks once).

function fakeNetwork() {
  const asked: NodeId[] = [];
  const waiting: ((result: RequestResult<unknown>) => void)[] = [];
  const network = {
    request(to: NodeId): Promise<RequestResult<unknown>> {
      asked.push(to);
      return new Promise((resolve) => waiting.push(resolve));
    },
  } as unknown as Network;
  return { network, asked, answer: (result: RequestResult<unknown>) => waiting.shift()!(result) };
}

const syncReply = { ok: true, reply: { type: "membership.sync-reply", ring: { version: 9 }, ringStamp: { origin: "n2" } } } as const;

test("learns from one peer in flight share one request; a later learn asks again", async () => {
  const { network, asked, answer } = fakeNetwork();
  const handled: unknown[] = [];
  const learn = learnRingFrom(network, { handle: (_from, message) => handled.push(message) }, 100);
  const first = learn("n2");
  const second = learn("n2");
  const other = learn("n3");
  assert.deepEqual(asked, ["n2", "n3"]);
  answer(syncReply);
  answer({ ok: false, error: "timeout" });
  await Promise.all([first, second, other]);
  assert.deepEqual(handled, [{ type: "membership.ring", ring: { version: 9 }, origin: "n2" }]);
  const third = learn("n2");
  assert.deepEqual(asked, ["n2", "n3", "n2"]);
  answer(syncReply);
  await third;
  assert.equal(handled.length, 2);
});

test("a membership that throws on the ring is contained: the learn resolves and the peer can be asked again", async () => {
  const { network, asked, answer } = fakeNetwork();
  const learn = learnRingFrom(network, { handle: () => { throw new Error("bad ring"); } }, 100);
  const first = learn("n2");
  answer(syncReply);
  await first;
  const again = learn("n2");
  answer({ ok: false, error: "timeout" });
  await again;
  assert.deepEqual(asked, ["n2", "n2"]);
});
