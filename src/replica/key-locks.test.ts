import { test } from "node:test";
import assert from "node:assert/strict";
import { KeyLocks } from "./key-locks.js";

test("a held key makes the next acquirer wait until release, in arrival order", async () => {
  const locks = new KeyLocks({ keysMax: 10, waitersPerKeyMax: 10 });
  assert.equal(await locks.acquire(["a"]), true);
  const order: number[] = [];
  const second = locks.acquire(["a"]).then(() => order.push(2));
  const third = locks.acquire(["a"]).then(() => order.push(3));
  await Promise.resolve();
  assert.deepEqual(order, []);
  locks.release(["a"]);
  await second;
  locks.release(["a"]);
  await third;
  locks.release(["a"]);
  assert.deepEqual(order, [2, 3]);
  assert.equal(locks.heldCount, 0);
});

test("bounds refuse instead of queueing without end", async () => {
  const locks = new KeyLocks({ keysMax: 2, waitersPerKeyMax: 1 });
  assert.equal(await locks.acquire(["a", "b"]), true);
  assert.equal(await locks.acquire(["c"]), false);
  const waiting = locks.acquire(["a"]);
  assert.equal(await locks.acquire(["a"]), false);
  locks.release(["a", "b"]);
  assert.equal(await waiting, true);
  locks.release(["a"]);
  assert.equal(locks.heldCount, 0);
});

test("tryAcquireOne takes a free key at once and refuses a held one", async () => {
  const locks = new KeyLocks({ keysMax: 10, waitersPerKeyMax: 10 });
  assert.equal(locks.tryAcquireOne("a"), true);
  assert.equal(locks.tryAcquireOne("a"), false);
  const waiting = locks.acquire(["a"]);
  locks.release(["a"]);
  assert.equal(await waiting, true);
  locks.release(["a"]);
  assert.equal(locks.heldCount, 0);
});
