import { test } from "node:test";
import assert from "node:assert/strict";
import type { Member } from "./member.js";
import { PiggybackQueue, transmitsFor } from "./piggyback-queue.js";

const m = (id: string, incarnation = 0): Member => ({ id, address: { host: id, peerPort: 1, clientPort: 2 }, state: "up", incarnation });

test("each record is piggybacked transmitsMax times, then retired", () => {
  const queue = new PiggybackQueue({ entriesMax: 8, perMessageMax: 4 });
  queue.push(m("a"));
  assert.deepEqual(queue.take(3).map((x) => x.id), ["a"]);
  assert.deepEqual(queue.take(3).map((x) => x.id), ["a"]);
  assert.deepEqual(queue.take(3).map((x) => x.id), ["a"]);
  assert.deepEqual(queue.take(3), []);
});

test("newer news about a member replaces the older and starts its count again", () => {
  const queue = new PiggybackQueue({ entriesMax: 8, perMessageMax: 4 });
  queue.push(m("a", 1));
  queue.take(2);
  queue.push(m("a", 2));
  assert.equal(queue.size, 1);
  assert.deepEqual(queue.take(2), [m("a", 2)]);
  assert.deepEqual(queue.take(2), [m("a", 2)]);
  assert.equal(queue.size, 0);
});

test("a message carries at most perMessageMax records, least sent first", () => {
  const queue = new PiggybackQueue({ entriesMax: 8, perMessageMax: 2 });
  for (const id of ["a", "b", "c"]) queue.push(m(id));
  assert.deepEqual(queue.take(5).map((x) => x.id), ["a", "b"]);
  assert.deepEqual(queue.take(5).map((x) => x.id), ["c", "a"]);
});

test("a full queue evicts the most-sent record", () => {
  const queue = new PiggybackQueue({ entriesMax: 2, perMessageMax: 1 });
  queue.push(m("a"));
  queue.push(m("b"));
  queue.take(5); // a sent once
  queue.push(m("c"));
  assert.equal(queue.size, 2);
  assert.deepEqual([queue.take(5), queue.take(5)].flat().map((x) => x.id).sort(), ["b", "c"]);
});

test("transmissions grow with the log of the cluster size", () => {
  assert.equal(transmitsFor(1, 3), 3);
  assert.equal(transmitsFor(3, 3), 6);
  assert.equal(transmitsFor(7, 3), 9);
  assert.equal(transmitsFor(100, 3), 21);
});
