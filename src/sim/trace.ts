import { assert } from "../assert.js";

/**
 * The simulator's fingerprint of a run: every dispatched event and every delivered message
 * appends to a running 64-bit FNV-1a hash. Two runs of one seed must end with the same hash
 * (TESTING.md, "Determinism is itself tested"); when they do not, record the lines of both runs
 * (`linesMax > 0`) and compare them to find the first divergence.
 *
 * The 64-bit product is computed on two 32-bit halves so it stays exact in doubles:
 * FNV's prime is 2^40 + 0x1b3, so (hi * 2^32 + lo) * prime mod 2^64 is
 * lo * 0x1b3 + 2^32 * (hi * 0x1b3 + lo * 2^8 + carry).
 */
const PRIME_LOW = 0x1b3;
const TWO_32 = 0x1_0000_0000;
const timeBytes = new Uint8Array(8);
const timeView = new DataView(timeBytes.buffer);

export interface TraceOptions {
  /** Keep at most this many appended lines for debugging (0: keep none). */
  linesMax?: number;
}

export class Trace {
  private hi = 0xcbf29ce4;
  private lo = 0x84222325;
  private appended = 0;
  private readonly linesMax: number;
  private readonly kept: string[] = [];

  constructor(options: TraceOptions = {}) {
    this.linesMax = options.linesMax ?? 0;
    assert(Number.isSafeInteger(this.linesMax) && this.linesMax >= 0, `trace linesMax must be a non-negative integer, got ${this.linesMax}`);
  }

  /** Appends a canonical line (callers build it from virtual time, node ids, kinds). */
  add(line: string): void {
    for (let i = 0; i < line.length; i++) this.mix(line.charCodeAt(i));
    this.mix(0x0a);
    this.appended++;
    if (this.kept.length < this.linesMax) this.kept.push(line);
  }

  /** Appends one dispatched event: its virtual time (the float's 8 bytes) and its label. */
  addEvent(timeMs: number, label: string): void {
    timeView.setFloat64(0, timeMs, true); // little-endian: the same bytes on every host
    for (let i = 0; i < 8; i++) this.mix(timeBytes[i]!);
    this.add(label);
  }

  /** Appends raw bytes, e.g. a message's encoding, so its content is part of the fingerprint. */
  addBytes(bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length; i++) this.mix(bytes[i]!);
    this.mix(0x0a);
    this.appended++;
  }

  /** The hash so far as 16 hex digits. */
  hex(): string {
    return this.hi.toString(16).padStart(8, "0") + this.lo.toString(16).padStart(8, "0");
  }

  /** Number of lines and byte strings appended. */
  get count(): number {
    return this.appended;
  }

  /** The first `linesMax` lines appended (for diffing two runs). */
  lines(): readonly string[] {
    return this.kept;
  }

  /** Index of the first line where two recorded runs differ (-1: none within what both kept). */
  static firstDifference(a: readonly string[], b: readonly string[]): number {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
    return a.length === b.length ? -1 : n;
  }

  private mix(byte: number): void {
    const lo = (this.lo ^ byte) >>> 0;
    const low = lo * PRIME_LOW;
    const carry = Math.floor(low / TWO_32);
    this.hi = (this.hi * PRIME_LOW + lo * 256 + carry) >>> 0;
    this.lo = low >>> 0;
  }
}
