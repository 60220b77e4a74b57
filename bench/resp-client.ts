import { connect, type Socket } from "node:net";

/**
 * A minimal Redis (RESP2) client for the benchmark: one TCP connection, commands pipelined
 * (written without waiting), replies matched to commands in order. It parses simple strings,
 * errors, integers, bulk strings and flat arrays, which is all GET, SET and PING need. Written
 * here so the client side of the Redis rows costs about what undici costs for the HTTP rows.
 */
export type RespValue = string | number | Buffer | null | RespValue[] | RespError;

export class RespError extends Error {
  override readonly name = "RespError";
}

interface Pending {
  resolve: (value: RespValue) => void;
  reject: (error: Error) => void;
}

export interface RespClientOptions {
  host: string;
  port: number;
  /** Commands written but not yet answered; beyond it `command` rejects (backpressure bug in the caller). */
  pipelineMax: number;
}

const crlf = Buffer.from("\r\n");
/** An incomplete reply larger than this means a protocol error, not a slow server. */
const replyBytesMax = 64 * 1024 * 1024;

export class RespClient {
  private readonly pending: Pending[] = [];
  private buffer: Buffer = Buffer.alloc(0);
  private closedError: Error | undefined;

  private constructor(
    private readonly socket: Socket,
    private readonly pipelineMax: number,
  ) {
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", (error) => this.failAll(error));
    socket.on("close", () => this.failAll(new Error("connection closed")));
  }

  static connect(options: RespClientOptions): Promise<RespClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: options.host, port: options.port });
      socket.once("error", reject);
      socket.once("connect", () => {
        socket.off("error", reject);
        resolve(new RespClient(socket, options.pipelineMax));
      });
    });
  }

  /** Sends one command; the promise resolves with its reply (a RespError value rejects). */
  command(args: readonly (string | Buffer)[]): Promise<RespValue> {
    if (this.closedError !== undefined) return Promise.reject(this.closedError);
    if (this.pending.length >= this.pipelineMax) return Promise.reject(new Error(`more than ${this.pipelineMax} commands in flight on one connection`));
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.socket.write(encodeCommand(args));
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    let offset = 0;
    for (;;) {
      const parsed = parseReply(this.buffer, offset);
      if (parsed === undefined) break;
      offset = parsed.next;
      const waiter = this.pending.shift();
      if (waiter === undefined) return this.failAll(new Error("reply without a command"));
      if (parsed.value instanceof RespError) waiter.reject(parsed.value);
      else waiter.resolve(parsed.value);
    }
    this.buffer = offset === this.buffer.length ? Buffer.alloc(0) : this.buffer.subarray(offset);
    if (this.buffer.length > replyBytesMax) this.failAll(new Error(`incomplete reply over ${replyBytesMax} bytes`));
  }

  private failAll(error: Error): void {
    this.closedError ??= error;
    for (const waiter of this.pending.splice(0)) waiter.reject(error);
    this.socket.destroy();
  }
}

export function encodeCommand(args: readonly (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = typeof arg === "string" ? Buffer.from(arg) : arg;
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, crlf);
  }
  return Buffer.concat(parts);
}

/** Parses one reply at `offset`; undefined when the buffer does not yet hold all of it. */
export function parseReply(buffer: Buffer, offset: number): { value: RespValue; next: number } | undefined {
  const lineEnd = buffer.indexOf(crlf, offset);
  if (lineEnd < 0) return undefined;
  const type = String.fromCharCode(buffer[offset]!);
  const line = buffer.toString("latin1", offset + 1, lineEnd);
  const afterLine = lineEnd + 2;
  switch (type) {
    case "+":
      return { value: line, next: afterLine };
    case "-":
      return { value: new RespError(line), next: afterLine };
    case ":":
      return { value: Number(line), next: afterLine };
    case "$": {
      const length = Number(line);
      if (length < 0) return { value: null, next: afterLine };
      if (buffer.length < afterLine + length + 2) return undefined;
      return { value: buffer.subarray(afterLine, afterLine + length), next: afterLine + length + 2 };
    }
    case "*":
      return parseArray(buffer, afterLine, Number(line));
    default:
      throw new Error(`unexpected RESP type byte ${JSON.stringify(type)}`);
  }
}

function parseArray(buffer: Buffer, offset: number, count: number): { value: RespValue; next: number } | undefined {
  if (count < 0) return { value: null, next: offset };
  const values: RespValue[] = [];
  let next = offset;
  for (let i = 0; i < count; i++) {
    const element = parseReply(buffer, next);
    if (element === undefined) return undefined;
    values.push(element.value);
    next = element.next;
  }
  return { value: values, next };
}
