/** The part of a socket the writer uses (net.Socket satisfies it; tests can fake it). */
export interface FrameSink {
  write(chunk: Uint8Array): boolean;
  cork(): void;
  uncork(): void;
  readonly writableLength: number;
}

/** Runs `flush` once the current work is done; `afterIoPhase` in production. */
export type FlushScheduler = (flush: () => void) => void;

/**
 * Flushes once per turn of the event loop, after every I/O callback of that turn ran (the
 * check phase): the replies and requests a whole batch of incoming frames produces leave in one
 * socket write per connection, not one per callback. Each write wakes the peer's process, and
 * with several nodes sharing a core those wake-ups, not the bytes, are what a frame costs.
 */
export const afterIoPhase: FlushScheduler = (flush) => void setImmediate(flush);

/**
 * Batches the frames written during one event-loop turn into as few socket writes as possible
 * (DESIGN.md, "Performance model": cork sockets and write many frames at once). Many small
 * frames are joined into one buffer (one copy of a few KiB beats one syscall per frame);
 * when that would copy much, the socket is corked so the frames leave in one writev.
 *
 * A writer starts held: frames queue until `start()`, so requests made while a connection
 * is still dialing or shaking hands leave right after the handshake. The owner bounds what
 * may queue (in-flight requests, queued sends, `pendingBytes`).
 */
export class FrameWriter {
  private queue: Uint8Array[] = [];
  private queuedBytes = 0;
  private started = false;
  private scheduled = false;
  private discarded = false;
  private readonly flushBound = () => this.flush();

  constructor(
    private readonly sink: FrameSink,
    private readonly schedule: FlushScheduler = afterIoPhase,
    /** Frames totalling at most this many bytes are joined into one buffer. */
    private readonly coalesceBytesMax = 64 * 1024,
  ) {}

  /** Bytes accepted but not yet handed to the kernel: ours plus the socket's buffer. */
  get pendingBytes(): number {
    return this.queuedBytes + this.sink.writableLength;
  }

  get queuedFrames(): number {
    return this.queue.length;
  }

  enqueue(frame: Uint8Array): void {
    if (this.discarded) return;
    this.queue.push(frame);
    this.queuedBytes += frame.length;
    if (this.started && !this.scheduled) {
      this.scheduled = true;
      this.schedule(this.flushBound);
    }
  }

  /** Lets queued and future frames flow. */
  start(): void {
    this.started = true;
    this.flush();
  }

  /** Drops everything queued and accepts nothing more (the connection is gone). */
  discard(): void {
    this.discarded = true;
    this.queue = [];
    this.queuedBytes = 0;
  }

  flush(): void {
    this.scheduled = false;
    if (!this.started || this.discarded || this.queue.length === 0) return;
    const frames = this.queue;
    const bytes = this.queuedBytes;
    this.queue = [];
    this.queuedBytes = 0;
    if (frames.length === 1) {
      this.sink.write(frames[0]!);
    } else if (bytes <= this.coalesceBytesMax) {
      this.sink.write(Buffer.concat(frames, bytes));
    } else {
      this.sink.cork();
      for (const frame of frames) this.sink.write(frame);
      this.sink.uncork();
    }
  }
}
