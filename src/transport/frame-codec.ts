import { Packr, RESERVE_START_SPACE } from "msgpackr";
import { assert } from "../assert.js";
import { ShoalError } from "../errors.js";

/**
 * Framing of Shoal's binary protocol (DESIGN.md, "Node-to-node transport"): every frame is a
 * 4-byte big-endian payload length followed by one MessagePack value (msgpackr). The same frames
 * carry node-to-node RPC and, later, the Shoal client's requests.
 *
 * Copies are kept to the minimum: a frame that lies inside one received chunk is handed out as a
 * view of that chunk (no copy); a frame split across chunks is assembled once into a buffer of
 * exactly its length. Buffers handed out are never written again, because msgpackr decodes
 * binary fields as views into the payload it was given.
 */
export const frameHeaderBytes = 4;

/** The largest length a u32 header can state. */
const u32Max = 0xffff_ffff;

export function frameTooLargeError(action: string, frameBytes: number, frameBytesMax: number): ShoalError {
  return new ShoalError(
    "FrameTooLarge",
    413,
    `${action}: frame is ${frameBytes} bytes; the limit is ${frameBytesMax}`,
    { frameBytes, frameBytesMax },
  );
}

/** Packs messages into frames, writing the length header into space msgpackr reserves. */
export class FrameEncoder {
  private readonly packr: Packr;

  constructor(private readonly frameBytesMax: number) {
    assert(Number.isSafeInteger(frameBytesMax) && frameBytesMax > 0 && frameBytesMax <= u32Max, `frameBytesMax out of range: ${frameBytesMax}`);
    this.packr = new Packr({ useRecords: false });
  }

  /**
   * One whole frame (header and payload) for `message`. Throws FrameTooLarge when the payload
   * passes the bound: the limits (limits.ts) size frames for the largest item, so a caller that
   * hits this built a message it should have refused earlier.
   */
  encode(message: unknown): Buffer {
    const frame = this.packr.pack(message, RESERVE_START_SPACE | frameHeaderBytes);
    const payloadBytes = frame.length - frameHeaderBytes;
    if (payloadBytes > this.frameBytesMax) throw frameTooLargeError("cannot send message", payloadBytes, this.frameBytesMax);
    frame.writeUInt32BE(payloadBytes, 0);
    return frame;
  }
}

/** Decodes one frame payload; throws on bytes that are not one MessagePack value. */
export class PayloadDecoder {
  private readonly packr = new Packr({ useRecords: false });

  decode(payload: Uint8Array): unknown {
    return this.packr.unpack(payload);
  }
}

export type FrameDecodeResult = { ok: true } | { ok: false; frameBytes: number; frameBytesMax: number };

/** Shared, so a chunk that decodes cleanly allocates no result. */
const decodeOk: FrameDecodeResult = Object.freeze({ ok: true });

/**
 * A streaming splitter of a byte stream into frame payloads. Chunks may hold part of a frame,
 * part of a header, or many frames; the payloads come out in order and whole. A header that
 * announces more than `frameBytesMax` stops the decoder for good (the connection must close:
 * the stream can no longer be trusted), before anything that large is allocated.
 */
export class FrameDecoder {
  private readonly header = new Uint8Array(frameHeaderBytes);
  private headerFilled = 0;
  /** The frame being assembled across chunks, or null between frames. */
  private partial: Buffer | null = null;
  private partialFilled = 0;
  private failure: FrameDecodeResult | null = null;

  constructor(private frameBytesMax: number) {
    this.setFrameBytesMax(frameBytesMax);
  }

  /** Changes the bound, e.g. from the small handshake bound to the full one. */
  setFrameBytesMax(frameBytesMax: number): void {
    assert(Number.isSafeInteger(frameBytesMax) && frameBytesMax >= 0 && frameBytesMax <= u32Max, `frameBytesMax out of range: ${frameBytesMax}`);
    this.frameBytesMax = frameBytesMax;
  }

  /** Bytes of an unfinished frame (header included) held between chunks. */
  get bufferedBytes(): number {
    return this.headerFilled + (this.partial === null ? 0 : frameHeaderBytes + this.partialFilled);
  }

  /** Feeds one chunk; calls `onFrame` for every payload it completes, in order. */
  push(chunk: Uint8Array, onFrame: (payload: Uint8Array) => void): FrameDecodeResult {
    if (this.failure !== null) return this.failure;
    let offset = 0;
    while (offset < chunk.length) {
      if (this.partial !== null) {
        offset = this.fillPartial(chunk, offset, onFrame);
        continue;
      }
      let frameBytes: number;
      if (this.headerFilled === 0 && chunk.length - offset >= frameHeaderBytes) {
        // The usual case: the whole header is in this chunk, read in place without copying it.
        frameBytes = ((chunk[offset]! << 24) >>> 0) + (chunk[offset + 1]! << 16) + (chunk[offset + 2]! << 8) + chunk[offset + 3]!;
        offset += frameHeaderBytes;
      } else {
        const headerEnd = this.readHeader(chunk, offset);
        if (headerEnd < 0) return decodeOk;
        offset = headerEnd;
        frameBytes = this.takeLength();
      }
      if (frameBytes > this.frameBytesMax) {
        this.failure = { ok: false, frameBytes, frameBytesMax: this.frameBytesMax };
        return this.failure;
      }
      if (chunk.length - offset >= frameBytes) {
        onFrame(chunk.subarray(offset, offset + frameBytes));
        offset += frameBytes;
      } else {
        this.partial = Buffer.allocUnsafe(frameBytes);
        this.partialFilled = 0;
      }
    }
    return decodeOk;
  }

  /** Copies header bytes from `chunk`; the offset after the header, or -1 if the chunk ran out. */
  private readHeader(chunk: Uint8Array, offset: number): number {
    const wanted = frameHeaderBytes - this.headerFilled;
    const available = Math.min(wanted, chunk.length - offset);
    this.header.set(chunk.subarray(offset, offset + available), this.headerFilled);
    this.headerFilled += available;
    return this.headerFilled === frameHeaderBytes ? offset + available : -1;
  }

  private takeLength(): number {
    const h = this.header;
    this.headerFilled = 0;
    return ((h[0]! << 24) >>> 0) + (h[1]! << 16) + (h[2]! << 8) + h[3]!;
  }

  private fillPartial(chunk: Uint8Array, offset: number, onFrame: (payload: Uint8Array) => void): number {
    const partial = this.partial!;
    const count = Math.min(partial.length - this.partialFilled, chunk.length - offset);
    partial.set(chunk.subarray(offset, offset + count), this.partialFilled);
    this.partialFilled += count;
    if (this.partialFilled === partial.length) {
      this.partial = null;
      this.partialFilled = 0;
      onFrame(partial);
    }
    return offset + count;
  }
}
