import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { compareBytes, startsWith } from "../../src/storage/byte-order.js";
import type { Entry, RangeOptions, StorageEngine, WriteOp } from "../../src/storage/storage-engine.js";

/**
 * The StorageEngine contract (storage-engine.ts): every implementation runs these tests, so the
 * simulator's memory engine and production's LMDB engine cannot drift apart on anything the
 * core can observe (Hono's router suites, riak_kv's backend eqc tests).
 */
export type OpenStorageEngine = () => Promise<{ engine: StorageEngine; cleanup: () => Promise<void> }>;

const bytes = (...values: number[]) => Uint8Array.from(values);
const text = (value: string) => new TextEncoder().encode(value);

async function withEngine(open: OpenStorageEngine, body: (engine: StorageEngine) => Promise<void>): Promise<void> {
  const { engine, cleanup } = await open();
  try {
    await body(engine);
  } finally {
    await cleanup();
  }
}

function keysOf(entries: Iterable<Entry>): number[][] {
  return [...entries].map((entry) => [...entry.key]);
}

async function putAll(engine: StorageEngine, keys: readonly Uint8Array[]): Promise<void> {
  await engine.write(keys.map((key) => ({ type: "put", key, value: Uint8Array.of(key.length) })));
}

/** Keys chosen to trip byte-order mistakes: 0x00 and 0xFF bytes, prefixes of each other. */
const orderKeys = [bytes(0x00), bytes(0x00, 0x00), bytes(0x00, 0xff), bytes(0x01), bytes(0x01, 0x00), bytes(0x01, 0x00, 0x00), bytes(0x01, 0xff), bytes(0x7f), bytes(0x80), bytes(0xfe, 0xff), bytes(0xff), bytes(0xff, 0x00), bytes(0xff, 0xff), bytes(0xff, 0xff, 0xff)];
const sortedOrderKeys = [...orderKeys].sort(compareBytes).map((key) => [...key]);

export function storageEngineContract(name: string, open: OpenStorageEngine): void {
  describe(`StorageEngine contract: ${name}`, () => {
    basicContract(open);
    rangeContract(open);
    writeContract(open);
    lifecycleContract(open);
    modelContract(open);
  });
}

function basicContract(open: OpenStorageEngine): void {
  test("a put value is read back, and a delete removes it", () =>
    withEngine(open, async (engine) => {
      await engine.write([{ type: "put", key: text("k"), value: text("v1") }]);
      assert.deepEqual(engine.get(text("k")), text("v1"));
      await engine.write([{ type: "delete", key: text("k") }]);
      assert.equal(engine.get(text("k")), undefined);
    }));

  test("a missing key reads as undefined", () =>
    withEngine(open, async (engine) => {
      assert.equal(engine.get(text("never-written")), undefined);
    }));

  test("an overwrite replaces the value", () =>
    withEngine(open, async (engine) => {
      await engine.write([{ type: "put", key: text("k"), value: text("first, longer value") }]);
      await engine.write([{ type: "put", key: text("k"), value: text("second") }]);
      assert.deepEqual(engine.get(text("k")), text("second"));
      assert.equal([...engine.range({})].length, 1);
    }));

  test("deleting a missing key is fine", () =>
    withEngine(open, async (engine) => {
      await engine.write([{ type: "delete", key: text("absent") }]);
      assert.equal(engine.get(text("absent")), undefined);
    }));

  test("empty and MiB-sized values keep every byte", () =>
    withEngine(open, async (engine) => {
      const large = new Uint8Array(3 * 1024 * 1024);
      for (let i = 0; i < large.length; i++) large[i] = (i * 131) & 0xff;
      await engine.write([
        { type: "put", key: text("empty"), value: new Uint8Array(0) },
        { type: "put", key: text("large"), value: large },
      ]);
      assert.deepEqual(engine.get(text("empty")), new Uint8Array(0));
      assert.deepEqual(engine.get(text("large")), large);
    }));

  test("changing a written or returned array does not change what is stored", () =>
    withEngine(open, async (engine) => {
      const key = text("k");
      const value = text("value");
      const pending = engine.write([{ type: "put", key, value }]);
      value[0] = 0x21;
      key[0] = 0x21;
      await pending;
      const read = engine.get(text("k"))!;
      assert.deepEqual(read, text("value"));
      read[0] = 0x21;
      for (const entry of engine.range({})) entry.value[1] = 0x21;
      assert.deepEqual(engine.get(text("k")), text("value"));
    }));

  test("a Node Buffer written, or a view into a larger buffer, is copied too (Buffer#slice is a view)", () =>
    withEngine(open, async (engine) => {
      // msgpackr's output and records cut from a shared block are Buffers and views of one.
      const block = Buffer.from("kkvalueXX");
      const key = block.subarray(0, 2);
      const value = block.subarray(2, 7);
      const pending = engine.write([{ type: "put", key, value }]);
      block.fill(0x21);
      await pending;
      const read = engine.get(text("kk"))!;
      assert.deepEqual([...read], [...text("value")]);
      Buffer.from(read.buffer, read.byteOffset, read.byteLength).fill(0x22);
      for (const entry of engine.range({})) Buffer.from(entry.value.buffer, entry.value.byteOffset, entry.value.byteLength).fill(0x23);
      assert.deepEqual([...engine.get(text("kk"))!], [...text("value")]);
    }));
}

function rangeContract(open: OpenStorageEngine): void {
  test("keys iterate in unsigned byte order, including 0x00 and 0xFF bytes and prefixes", () =>
    withEngine(open, async (engine) => {
      await putAll(engine, orderKeys);
      assert.deepEqual(keysOf(engine.range({})), sortedOrderKeys);
      assert.deepEqual(keysOf(engine.range({ reverse: true })), [...sortedOrderKeys].reverse());
    }));

  test("start is inclusive and end exclusive, in both directions", () =>
    withEngine(open, async (engine) => {
      await putAll(engine, orderKeys);
      assert.deepEqual(keysOf(engine.range({ start: bytes(0x01), end: bytes(0x7f) })), [[0x01], [0x01, 0x00], [0x01, 0x00, 0x00], [0x01, 0xff]]);
      assert.deepEqual(keysOf(engine.range({ start: bytes(0x7f), end: bytes(0x01), reverse: true })), [[0x7f], [0x01, 0xff], [0x01, 0x00, 0x00], [0x01, 0x00]]);
      assert.deepEqual(keysOf(engine.range({ start: bytes(0xff, 0xff) })), [[0xff, 0xff], [0xff, 0xff, 0xff]]);
      assert.deepEqual(keysOf(engine.range({ end: bytes(0x00, 0xff) })), [[0x00], [0x00, 0x00]]);
      assert.deepEqual(keysOf(engine.range({ start: bytes(0x02), end: bytes(0x02) })), []);
      assert.deepEqual(keysOf(engine.range({ start: bytes(0x80), end: bytes(0x01) })), []);
    }));

  test("a prefix selects exactly the keys starting with it, including all-0xFF prefixes", () =>
    withEngine(open, async (engine) => {
      await putAll(engine, orderKeys);
      assert.deepEqual(keysOf(engine.range({ prefix: bytes(0x01) })), [[0x01], [0x01, 0x00], [0x01, 0x00, 0x00], [0x01, 0xff]]);
      assert.deepEqual(keysOf(engine.range({ prefix: bytes(0x01, 0x00) })), [[0x01, 0x00], [0x01, 0x00, 0x00]]);
      assert.deepEqual(keysOf(engine.range({ prefix: bytes(0xff) })), [[0xff], [0xff, 0x00], [0xff, 0xff], [0xff, 0xff, 0xff]]);
      assert.deepEqual(keysOf(engine.range({ prefix: bytes(0xff, 0xff), reverse: true })), [[0xff, 0xff, 0xff], [0xff, 0xff]]);
      assert.deepEqual(keysOf(engine.range({ prefix: bytes(0x02) })), []);
    }));

  test("prefix, start, end, limit and reverse combine", () =>
    withEngine(open, async (engine) => {
      await putAll(engine, orderKeys);
      assert.deepEqual(keysOf(engine.range({ prefix: bytes(0x01), start: bytes(0x01, 0x00, 0x00) })), [[0x01, 0x00, 0x00], [0x01, 0xff]]);
      assert.deepEqual(keysOf(engine.range({ prefix: bytes(0x01), end: bytes(0x01, 0x00, 0x00) })), [[0x01], [0x01, 0x00]]);
      assert.deepEqual(keysOf(engine.range({ prefix: bytes(0x01), limit: 2 })), [[0x01], [0x01, 0x00]]);
      assert.deepEqual(keysOf(engine.range({ prefix: bytes(0x01), reverse: true, limit: 2 })), [[0x01, 0xff], [0x01, 0x00, 0x00]]);
      assert.deepEqual(keysOf(engine.range({ prefix: bytes(0x01), start: bytes(0x01, 0x00), end: bytes(0x00), reverse: true })), [[0x01, 0x00], [0x01]]);
      assert.deepEqual(keysOf(engine.range({ start: bytes(0x00, 0xff), end: bytes(0xff), limit: 3 })), [[0x00, 0xff], [0x01], [0x01, 0x00]]);
      assert.deepEqual(keysOf(engine.range({ limit: 0 })), []);
      assert.deepEqual(keysOf(engine.range({ prefix: bytes(0x01), start: bytes(0x02) })), []);
    }));

  test("a range returns values with their keys", () =>
    withEngine(open, async (engine) => {
      await engine.write([
        { type: "put", key: text("a"), value: text("1") },
        { type: "put", key: text("b"), value: text("2") },
      ]);
      assert.deepEqual([...engine.range({})], [{ key: text("a"), value: text("1") }, { key: text("b"), value: text("2") }].map(({ key, value }) => ({ key: Uint8Array.from(key), value: Uint8Array.from(value) })));
    }));
}

function writeContract(open: OpenStorageEngine): void {
  test("a batch becomes visible all at once", () =>
    withEngine(open, async (engine) => {
      const ops: WriteOp[] = Array.from({ length: 200 }, (_, i) => ({ type: "put", key: text(`batch-${String(i).padStart(4, "0")}`), value: text(`v${i}`) }));
      await engine.write([{ type: "put", key: text("batch-0199"), value: text("old") }]);
      let done = false;
      const pending = engine.write(ops).then(() => {
        done = true;
      });
      // Observe on every turn until the batch commits; each view must be all or nothing.
      for (let turn = 0; !done && turn < 100_000; turn++) {
        const first = engine.get(text("batch-0000")) !== undefined;
        const last = engine.get(text("batch-0199"));
        const lastNew = last !== undefined && new TextDecoder().decode(last) === "v199";
        assert.equal(first, lastNew, "a reader saw part of a batch");
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      await pending;
      assert.equal([...engine.range({ prefix: text("batch-") })].length, 200);
    }));

  test("a batch mixing puts and deletes applies in order", () =>
    withEngine(open, async (engine) => {
      await engine.write([{ type: "put", key: text("a"), value: text("1") }]);
      await engine.write([
        { type: "delete", key: text("a") },
        { type: "put", key: text("b"), value: text("1") },
        { type: "put", key: text("b"), value: text("2") },
        { type: "put", key: text("c"), value: text("1") },
        { type: "delete", key: text("c") },
      ]);
      assert.deepEqual(keysOf(engine.range({})), [[...text("b")]]);
      assert.deepEqual(engine.get(text("b")), text("2"));
    }));

  test("many concurrent writes all land", () =>
    withEngine(open, async (engine) => {
      const writes: Promise<void>[] = [];
      for (let i = 0; i < 1000; i++) {
        const key = text(`c-${String(i).padStart(5, "0")}`);
        writes.push(engine.write([{ type: "put", key, value: text(String(i)) }], { durable: i % 10 === 0 }));
      }
      await Promise.all(writes);
      const entries = [...engine.range({ prefix: text("c-") })];
      assert.equal(entries.length, 1000);
      assert.deepEqual(entries[999]!.value, text("999"));
    }));

  test("sync and durable writes resolve", () =>
    withEngine(open, async (engine) => {
      await engine.write([{ type: "put", key: text("d"), value: text("1") }], { durable: true });
      await engine.sync();
      await engine.write([], { durable: true });
      await Promise.all([engine.sync(), engine.write([{ type: "put", key: text("e"), value: text("2") }]), engine.sync()]);
      assert.deepEqual(engine.get(text("e")), text("2"));
    }));

  test("stats reports a size that grows with the data", () =>
    withEngine(open, async (engine) => {
      const before = engine.stats().sizeBytes;
      assert.ok(Number.isSafeInteger(before) && before >= 0);
      const value = new Uint8Array(1000).fill(7);
      await engine.write(Array.from({ length: 500 }, (_, i): WriteOp => ({ type: "put", key: text(`s-${i}`), value })));
      const after = engine.stats();
      assert.ok(after.sizeBytes >= 500 * 1000, `sizeBytes ${after.sizeBytes} is below the 500000 bytes written`);
      assert.ok(after.sizeBytes > before);
      if (after.entries !== undefined) assert.equal(after.entries, 500);
    }));
}

function lifecycleContract(open: OpenStorageEngine): void {
  test("a closed engine refuses every call", () =>
    withEngine(open, async (engine) => {
      const pending = engine.write([{ type: "put", key: text("k"), value: text("v") }]);
      await engine.close();
      await pending;
      assert.throws(() => engine.get(text("k")), /closed/);
      assert.throws(() => [...engine.range({})], /closed/);
      assert.throws(() => engine.stats(), /closed/);
      await assert.rejects(engine.write([{ type: "put", key: text("k"), value: text("v") }]), /closed/);
      await assert.rejects(engine.sync(), /closed/);
      await engine.close();
    }));

  test("keys outside the engine's key size are refused", () =>
    withEngine(open, async (engine) => {
      await assert.rejects(async () => engine.write([{ type: "put", key: new Uint8Array(0), value: text("v") }]));
      await assert.rejects(async () => engine.write([{ type: "put", key: new Uint8Array(4096), value: text("v") }]));
    }));
}

type ModelOp = { type: "put"; key: number[]; value: number } | { type: "delete"; key: number[] };

// Small alphabet and short keys so prefixes, duplicates and boundary bytes collide often.
const modelKey: fc.Arbitrary<number[]> = fc.oneof(
  fc.constantFrom<number[]>([0x00], [0x00, 0x00], [0xff], [0xff, 0xff]),
  fc.array(fc.constantFrom(0x00, 0x01, 0x7f, 0xfe, 0xff), { minLength: 1, maxLength: 3 }),
);
const modelOp: fc.Arbitrary<ModelOp> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ type: fc.constant("put" as const), key: modelKey, value: fc.integer({ min: 0, max: 255 }) }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant("delete" as const), key: modelKey }) },
);
const modelRange = fc.record(
  {
    start: modelKey,
    end: modelKey,
    prefix: fc.array(fc.constantFrom(0x00, 0x01, 0xff), { maxLength: 2 }),
    limit: fc.integer({ min: 0, max: 6 }),
    reverse: fc.boolean(),
  },
  { requiredKeys: [] },
);

function modelAnswer(model: Map<string, { key: Uint8Array; value: Uint8Array }>, options: RangeOptions): number[][] {
  const sorted = [...model.values()].sort((a, b) => compareBytes(a.key, b.key));
  if (options.reverse) sorted.reverse();
  const low = options.reverse ? options.end : options.start;
  const high = options.reverse ? options.start : options.end;
  const selected = sorted.filter(({ key }) => {
    if (options.prefix !== undefined && !startsWith(key, options.prefix)) return false;
    if (low !== undefined && (options.reverse ? compareBytes(key, low) <= 0 : compareBytes(key, low) < 0)) return false;
    if (high !== undefined && (options.reverse ? compareBytes(key, high) > 0 : compareBytes(key, high) >= 0)) return false;
    return true;
  });
  return selected.slice(0, options.limit ?? Infinity).map(({ key, value }) => [...key, -1, ...value]);
}

function modelContract(open: OpenStorageEngine): void {
  test("after random batches, every range equals a sorted-map model's answer", () =>
    withEngine(open, async (engine) => {
      await fc.assert(
        fc.asyncProperty(fc.array(fc.array(modelOp, { minLength: 1, maxLength: 6 }), { maxLength: 8 }), fc.array(modelRange, { minLength: 1, maxLength: 8 }), async (batches, ranges) => {
          await engine.write([...engine.range({})].map(({ key }): WriteOp => ({ type: "delete", key })));
          const model = new Map<string, { key: Uint8Array; value: Uint8Array }>();
          await Promise.all(
            batches.map((batch) => {
              const ops = batch.map((op): WriteOp => (op.type === "put" ? { type: "put", key: Uint8Array.from(op.key), value: Uint8Array.of(op.value) } : { type: "delete", key: Uint8Array.from(op.key) }));
              for (const op of ops) {
                if (op.type === "put") model.set(String(op.key), { key: op.key, value: op.value });
                else model.delete(String(op.key));
              }
              return engine.write(ops);
            }),
          );
          for (const range of ranges) {
            const options: RangeOptions = { ...range, start: range.start && Uint8Array.from(range.start), end: range.end && Uint8Array.from(range.end), prefix: range.prefix && Uint8Array.from(range.prefix) };
            const actual = [...engine.range(options)].map(({ key, value }) => [...key, -1, ...value]);
            assert.deepEqual(actual, modelAnswer(model, options), `range ${JSON.stringify(range)}`);
          }
        }),
        { seed: 20241122, numRuns: 120 },
      );
    }));
}
