import { test } from "node:test";
import assert from "node:assert/strict";
import { FrameWriter, type FrameSink } from "./frame-writer.js";

class RecordingSink implements FrameSink {
  writes: Buffer[] = [];
  corked = 0;
  writableLength = 0;
  write(chunk: Uint8Array): boolean {
    this.writes.push(Buffer.from(chunk));
    return true;
  }
  cork(): void {
    this.corked++;
  }
  uncork(): void {}
}

function manualScheduler(): { schedule: (fn: () => void) => void; run: () => void; pending: () => number } {
  let queue: Array<() => void> = [];
  return {
    schedule: (fn) => queue.push(fn),
    run: () => {
      const now = queue;
      queue = [];
      for (const fn of now) fn();
    },
    pending: () => queue.length,
  };
}

test("frames written in one tick leave in one socket write, in order", () => {
  const sink = new RecordingSink();
  const tick = manualScheduler();
  const writer = new FrameWriter(sink, tick.schedule);
  writer.start();
  for (let i = 0; i < 50; i++) writer.enqueue(Buffer.from([i]));
  assert.equal(tick.pending(), 1, "one flush is scheduled for the whole tick");
  assert.equal(sink.writes.length, 0);
  tick.run();
  assert.equal(sink.writes.length, 1);
  assert.deepEqual([...sink.writes[0]!], Array.from({ length: 50 }, (_, i) => i));
});

test("a held writer queues frames until it is started", () => {
  const sink = new RecordingSink();
  const tick = manualScheduler();
  const writer = new FrameWriter(sink, tick.schedule);
  writer.enqueue(Buffer.from("a"));
  writer.enqueue(Buffer.from("b"));
  tick.run();
  assert.equal(sink.writes.length, 0);
  assert.equal(writer.pendingBytes, 2);
  writer.start();
  assert.deepEqual(sink.writes.map(String), ["ab"]);
  assert.equal(writer.pendingBytes, 0);
});

test("large batches are corked into one writev instead of copied", () => {
  const sink = new RecordingSink();
  const tick = manualScheduler();
  const writer = new FrameWriter(sink, tick.schedule, 100);
  writer.start();
  writer.enqueue(Buffer.alloc(80, 1));
  writer.enqueue(Buffer.alloc(80, 2));
  tick.run();
  assert.equal(sink.corked, 1);
  assert.equal(sink.writes.length, 2);
});

test("a discarded writer drops queued frames and accepts no more", () => {
  const sink = new RecordingSink();
  const tick = manualScheduler();
  const writer = new FrameWriter(sink, tick.schedule);
  writer.enqueue(Buffer.from("lost"));
  writer.discard();
  writer.enqueue(Buffer.from("also lost"));
  writer.start();
  tick.run();
  assert.equal(sink.writes.length, 0);
  assert.equal(writer.pendingBytes, 0);
});
