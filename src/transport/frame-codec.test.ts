import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { FrameDecoder, FrameEncoder, PayloadDecoder, frameHeaderBytes } from "./frame-codec.js";
import { ShoalError } from "../errors.js";

const seed = 20261122;

function frameOf(payload: Uint8Array): Buffer {
  const frame = Buffer.alloc(frameHeaderBytes + payload.length);
  frame.writeUInt32BE(payload.length, 0);
  frame.set(payload, frameHeaderBytes);
  return frame;
}

/** Cuts `stream` at the given points (any order, duplicates allowed) into chunks. */
function split(stream: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const point of [...points, stream.length]) {
    chunks.push(stream.subarray(start, point));
    start = point;
  }
  return chunks;
}

function decodeAll(decoder: FrameDecoder, chunks: Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const chunk of chunks) {
    const result = decoder.push(chunk, (payload) => out.push(Buffer.from(payload)));
    assert.equal(result.ok, true);
  }
  return out;
}

test("any split of a stream of frames decodes to the same frames", () => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }),
      fc.array(fc.nat(), { maxLength: 40 }),
      (payloads, cuts) => {
        const stream = Buffer.concat(payloads.map(frameOf));
        const decoder = new FrameDecoder(1024);
        const decoded = decodeAll(decoder, split(stream, cuts));
        assert.deepEqual(decoded.map((d) => [...d]), payloads.map((p) => [...p]));
        assert.equal(decoder.bufferedBytes, 0);
      },
    ),
    { seed, numRuns: 200 },
  );
});

test("a stream fed one byte at a time decodes every frame", () => {
  const payloads = [Buffer.from("a"), Buffer.alloc(0), Buffer.from("hello world")];
  const stream = Buffer.concat(payloads.map(frameOf));
  const decoder = new FrameDecoder(64);
  const chunks = [...stream].map((byte) => Uint8Array.of(byte));
  assert.deepEqual(decodeAll(decoder, chunks).map((d) => Buffer.from(d).toString()), ["a", "", "hello world"]);
});

test("encoded messages round-trip through any split", () => {
  const message = fc.oneof(
    fc.string(),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.record({ key: fc.string(), value: fc.uint8Array({ maxLength: 64 }), n: fc.double({ noNaN: true, noDefaultInfinity: true }) }),
    fc.array(fc.oneof(fc.string(), fc.integer()), { maxLength: 5 }),
  );
  fc.assert(
    fc.property(fc.array(message, { maxLength: 10 }), fc.array(fc.nat(), { maxLength: 10 }), (messages, cuts) => {
      const encoder = new FrameEncoder(1 << 16);
      const payloads = new PayloadDecoder();
      const stream = Buffer.concat(messages.map((m) => encoder.encode(m)));
      const decoded: unknown[] = [];
      const decoder = new FrameDecoder(1 << 16);
      for (const chunk of split(stream, cuts)) decoder.push(chunk, (p) => decoded.push(payloads.decode(p)));
      assert.equal(decoded.length, messages.length);
      for (const [i, m] of messages.entries()) assert.deepEqual(normalize(decoded[i]), normalize(m));
    }),
    { seed, numRuns: 150 },
  );
});

/** Binary fields decode as Buffers (a Uint8Array subclass); compare them by bytes. */
function normalize(value: unknown): unknown {
  if (value instanceof Uint8Array) return { bytes: [...value] };
  if (Array.isArray(value)) return value.map(normalize);
  if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalize(v)]));
  if (Object.is(value, -0)) return 0;
  return value;
}

test("a frame inside one chunk is handed out as a view, not a copy", () => {
  const stream = Buffer.concat([frameOf(Buffer.from("one")), frameOf(Buffer.from("two"))]);
  const views: Uint8Array[] = [];
  new FrameDecoder(64).push(stream, (payload) => views.push(payload));
  assert.equal(views.length, 2);
  for (const view of views) assert.equal(view.buffer, stream.buffer);
});

test("a frame split across chunks is assembled into a buffer of exactly its length", () => {
  const stream = frameOf(Buffer.from("split payload"));
  const payloads: Uint8Array[] = [];
  const decoder = new FrameDecoder(64);
  decoder.push(stream.subarray(0, 6), (p) => payloads.push(p));
  assert.equal(decoder.bufferedBytes, 6);
  decoder.push(stream.subarray(6), (p) => payloads.push(p));
  assert.equal(payloads.length, 1);
  assert.equal(payloads[0]!.byteLength, "split payload".length);
  assert.notEqual(payloads[0]!.buffer, stream.buffer);
});

test("a header announcing more than the bound stops the decoder before allocating", () => {
  const decoder = new FrameDecoder(100);
  const header = Buffer.alloc(4);
  header.writeUInt32BE(0xffff_fff0, 0);
  const frames: Uint8Array[] = [];
  const result = decoder.push(header, (p) => frames.push(p));
  assert.deepEqual(result, { ok: false, frameBytes: 0xffff_fff0, frameBytesMax: 100 });
  assert.equal(decoder.bufferedBytes, 0);
  // The stream cannot be trusted any more: later bytes are refused too.
  assert.equal(decoder.push(frameOf(Buffer.from("x")), (p) => frames.push(p)).ok, false);
  assert.equal(frames.length, 0);
});

test("a frame of exactly the bound is accepted and one byte more is refused", () => {
  const atBound: Uint8Array[] = [];
  assert.equal(new FrameDecoder(10).push(frameOf(Buffer.alloc(10, 7)), (p) => atBound.push(p)).ok, true);
  assert.equal(atBound.length, 1);
  const over = new FrameDecoder(10).push(frameOf(Buffer.alloc(11)), () => assert.fail("no frame expected"));
  assert.deepEqual(over, { ok: false, frameBytes: 11, frameBytesMax: 10 });
});

test("raising the bound lets later larger frames through", () => {
  const decoder = new FrameDecoder(4);
  const frames: Uint8Array[] = [];
  assert.equal(decoder.push(frameOf(Buffer.from("abcd")), (p) => frames.push(p)).ok, true);
  decoder.setFrameBytesMax(100);
  assert.equal(decoder.push(frameOf(Buffer.from("a longer frame")), (p) => frames.push(p)).ok, true);
  assert.equal(frames.length, 2);
});

test("the encoder refuses a message whose payload passes the bound, naming the numbers", () => {
  const encoder = new FrameEncoder(100);
  assert.throws(
    () => encoder.encode({ value: new Uint8Array(200) }),
    (error: unknown) => error instanceof ShoalError && error.code === "FrameTooLarge" && /limit is 100/.test(error.message),
  );
  const frame = encoder.encode("small");
  assert.equal(frame.readUInt32BE(0), frame.length - frameHeaderBytes);
});

test("encoded frames stay intact while later messages are encoded", () => {
  const encoder = new FrameEncoder(1 << 20);
  const first = encoder.encode({ n: 1, text: "first" });
  const copy = Buffer.from(first);
  for (let i = 0; i < 2000; i++) encoder.encode({ n: i, text: "x".repeat(i % 50) });
  assert.deepEqual(first, copy);
});
