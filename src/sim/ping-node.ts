import type { NodeId, RequestResult } from "../runtime/network.js";
import type { Runtime } from "../runtime/runtime.js";

/**
 * A toy node for proving the simulator, not part of Shoal: it pings a random peer on a timer
 * and keeps two counters on its disk, pings it answered and pongs it received. It uses only
 * the Runtime, exactly as product code must, so it runs under faults like a real node would:
 * timers, network, storage writes (every `durableEvery`-th one durable) and restarts that
 * recover the counters from storage.
 */
export interface PingNodeOptions {
  peers: readonly NodeId[];
  pingIntervalMs: number;
  requestTimeoutMs: number;
  /** Every n-th counter write is durable; the others can be lost in a crash. */
  durableEvery: number;
}

export interface PingCounters {
  answered: number;
  acknowledged: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const countersKey = encoder.encode("ping/counters");

export class PingNode {
  private counters: PingCounters;
  /** The counters this incarnation found on its disk at start. */
  readonly recovered: Readonly<PingCounters>;
  private writes = 0;
  /** Pongs received since this incarnation started. */
  acknowledgedSinceStart = 0;

  private constructor(
    private readonly runtime: Runtime,
    private readonly options: PingNodeOptions,
  ) {
    const stored = runtime.storage.get(countersKey);
    this.counters = stored === undefined ? { answered: 0, acknowledged: 0 } : (JSON.parse(decoder.decode(stored)) as PingCounters);
    this.recovered = { ...this.counters };
  }

  /** Starts a node from whatever its storage holds (a restart recovers the durable counters). */
  static open(runtime: Runtime, options: PingNodeOptions): PingNode {
    const node = new PingNode(runtime, options);
    runtime.network!.serve((from, message) => node.onMessage(from, message));
    node.scheduleNext();
    return node;
  }

  get state(): Readonly<PingCounters> {
    return this.counters;
  }

  private async onMessage(_from: NodeId, message: unknown): Promise<unknown> {
    const ping = message as { ping: number };
    this.counters.answered++;
    await this.persist();
    return { pong: ping.ping };
  }

  private scheduleNext(): void {
    const delayMs = this.options.pingIntervalMs * (0.5 + this.runtime.random.next());
    this.runtime.timers.setTimeout(() => void this.pingOnce(), delayMs);
  }

  private async pingOnce(): Promise<void> {
    const peers = this.options.peers.filter((p) => p !== this.runtime.nodeId);
    const peer = peers[this.runtime.random.int(peers.length)]!;
    const n = this.runtime.random.int(1_000_000);
    const result: RequestResult<{ pong: number }> = await this.runtime.network!.request(peer, { ping: n }, { timeoutMs: this.options.requestTimeoutMs });
    if (result.ok && result.reply.pong === n) {
      this.counters.acknowledged++;
      this.acknowledgedSinceStart++;
      await this.persist();
    }
    this.scheduleNext();
  }

  private persist(): Promise<void> {
    this.writes++;
    const durable = this.writes % this.options.durableEvery === 0;
    return this.runtime.storage.write([{ type: "put", key: countersKey, value: encoder.encode(JSON.stringify(this.counters)) }], { durable });
  }
}
