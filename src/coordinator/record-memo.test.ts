import { test } from "node:test";
import assert from "node:assert/strict";
import { RecordMemo } from "./record-memo.js";

const bytes = (...values: number[]) => new Uint8Array(values);
const key = (text: string) => new TextEncoder().encode(text);

test("the same bytes at a key decode once; other bytes at that key decode afresh and replace them", () => {
  const memo = new RecordMemo<string>({ slots: 8, recordBytesMax: 16 });
  let decodes = 0;
  const decode = (b: Uint8Array) => `decoded ${[...b].join(",")} #${++decodes}`;
  const first = memo.decode(key("a"), bytes(1, 2, 3), decode);
  assert.equal(memo.decode(key("a"), bytes(1, 2, 3), decode), first, "equal bytes (another array) hit");
  assert.equal(decodes, 1);
  assert.equal(memo.decode(key("a"), bytes(1, 2, 4), decode), "decoded 1,2,4 #2", "a rewritten record misses");
  assert.equal(memo.decode(key("a"), bytes(1, 2), decode), "decoded 1,2 #3", "so does a shorter one");
  assert.equal(memo.decode(key("a"), bytes(1, 2), decode), "decoded 1,2 #3");
  assert.deepEqual([memo.hits, memo.misses], [2, 3]);
});

test("records over recordBytesMax are decoded every time and never kept; a decode that throws keeps nothing", () => {
  const memo = new RecordMemo<number>({ slots: 4, recordBytesMax: 2 });
  let decodes = 0;
  const decode = () => ++decodes;
  memo.decode(key("big"), bytes(1, 2, 3), decode);
  memo.decode(key("big"), bytes(1, 2, 3), decode);
  assert.equal(decodes, 2);
  assert.throws(() => memo.decode(key("bad"), bytes(9), () => { throw new Error("corrupt"); }), /corrupt/);
  assert.equal(memo.decode(key("bad"), bytes(9), decode), 3, "the failed decode left nothing behind");
});

test("a slot holds one record: keys that share it evict each other, and a hit still needs equal bytes", () => {
  const memo = new RecordMemo<string>({ slots: 1, recordBytesMax: 16 });
  const decode = (b: Uint8Array) => `v${[...b].join(",")}`;
  memo.decode(key("a"), bytes(1), decode);
  memo.decode(key("b"), bytes(2), decode);
  assert.equal(memo.decode(key("a"), bytes(1), decode), "v1");
  assert.equal(memo.misses, 3, "b evicted a");
  assert.throws(() => new RecordMemo({ slots: 3, recordBytesMax: 1 }), /slots must be a power of two, got 3/);
});
