import { httpCall, type HttpOutcome } from "./http-call.js";
import { itemUrl, parseItemRead, type ItemRead } from "./item-reads.js";
import { SeededRandom } from "./seeded-random.js";

/**
 * The client load on a siblings table while faults run (issue 6, item 3). Each client sends one
 * request at a time to a random node: blind puts of a unique value, read-modify-writes (a read,
 * then a put carrying the read's X-Shoal-Context, which supersedes exactly what the read saw),
 * deletes carrying a read's context, and plain reads. Every write is recorded with the values
 * its context saw and its outcome:
 *
 * - ok: 2xx, acknowledged;
 * - failed: a 4xx that refuses before anything is written (it changed nothing);
 * - unknown: a 5xx, a timeout or a lost connection (it may have reached some replicas), and a
 *   delete's 404 (the coordinator saw nothing live, but its tombstone may still be written).
 *
 * Values are unique per run, so a value names one write, and "a context covering a write's
 * dot" is "a read that returned the write's value" (see eventual-check.ts).
 */
export type WriteOutcome = "ok" | "failed" | "unknown";

export interface EventualWriteRecord {
  readonly id: number;
  readonly client: number;
  readonly node: number;
  readonly key: string;
  readonly kind: "put" | "delete";
  /** The put's value; absent for deletes. */
  readonly value?: string;
  /** The values the read whose context this write carried returned; empty for a blind put. */
  readonly saw: readonly string[];
  readonly outcome: WriteOutcome;
  /** Status or error, for the report. */
  readonly detail: string;
}

export interface EventualWorkloadOptions {
  urls: readonly string[];
  table: string;
  keys: number;
  clients: number;
  seed: number;
  /** Bound on operations (reads and writes) over all clients. */
  opsMax: number;
  timeoutMs: number;
  /** Query for writes and reads, e.g. "w=2" / "r=2". */
  writeQuery: string;
  readQuery: string;
}

export interface EventualWorkloadResult {
  writes: EventualWriteRecord[];
  reads: { ok: number; failed: number };
  keys: string[];
}

export class EventualWorkload {
  private stopping = false;
  private ops = 0;
  private nextId = 0;
  private readonly writes: EventualWriteRecord[] = [];
  private readonly reads = { ok: 0, failed: 0 };
  readonly keys: string[];

  constructor(private readonly options: EventualWorkloadOptions) {
    this.keys = Array.from({ length: options.keys }, (_, i) => `ev-${i}`);
  }

  /** Runs until stop() or opsMax; resolves with the recorded writes. */
  async run(): Promise<EventualWorkloadResult> {
    await Promise.all(Array.from({ length: this.options.clients }, (_, client) => this.client(client)));
    return { writes: this.writes, reads: this.reads, keys: this.keys };
  }

  stop(): void {
    this.stopping = true;
  }

  private async client(client: number): Promise<void> {
    const random = new SeededRandom(this.options.seed * 1000 + client);
    let sequence = 0;
    while (!this.stopping && this.ops < this.options.opsMax) {
      this.ops++;
      const node = random.below(this.options.urls.length);
      const key = random.pick(this.keys);
      const roll = random.next();
      const value = `c${client}-${sequence++}`;
      if (roll < 0.45) await this.put(client, node, key, value, undefined);
      else if (roll < 0.8) await this.readThen(client, node, key, (read) => this.put(client, node, key, value, read));
      else if (roll < 0.9) await this.readThen(client, node, key, (read) => this.remove(client, node, key, read));
      else await this.read(node, key);
    }
  }

  private async read(node: number, key: string): Promise<ItemRead | undefined> {
    const outcome = await httpCall({ method: "GET", url: itemUrl(this.options.urls[node]!, this.options.table, key, this.options.readQuery), timeoutMs: this.options.timeoutMs });
    const read = parseItemRead(outcome);
    if (read === undefined) this.reads.failed++;
    else this.reads.ok++;
    return read;
  }

  private async readThen(client: number, node: number, key: string, write: (read: ItemRead) => Promise<void>): Promise<void> {
    const read = await this.read(node, key);
    if (read === undefined || this.stopping) return;
    if (read.context === undefined && read.values.length === 0) return;
    await write(read);
  }

  private async put(client: number, node: number, key: string, value: string, read: ItemRead | undefined): Promise<void> {
    const headers: Record<string, string> = { "content-type": "text/plain" };
    if (read?.context !== undefined) headers["x-shoal-context"] = read.context;
    const outcome = await httpCall({ method: "PUT", url: itemUrl(this.options.urls[node]!, this.options.table, key, this.options.writeQuery), headers, body: value, timeoutMs: this.options.timeoutMs });
    this.record({ client, node, key, kind: "put", value, saw: read?.values ?? [], ...classify(outcome, false) });
  }

  private async remove(client: number, node: number, key: string, read: ItemRead): Promise<void> {
    const headers: Record<string, string> = read.context !== undefined ? { "x-shoal-context": read.context } : {};
    const outcome = await httpCall({ method: "DELETE", url: itemUrl(this.options.urls[node]!, this.options.table, key, this.options.writeQuery), headers, timeoutMs: this.options.timeoutMs });
    this.record({ client, node, key, kind: "delete", saw: read.values, ...classify(outcome, true) });
  }

  private record(write: Omit<EventualWriteRecord, "id">): void {
    this.writes.push({ id: this.nextId++, ...write });
  }
}

function classify(outcome: HttpOutcome, isDelete: boolean): { outcome: WriteOutcome; detail: string } {
  if (outcome.kind === "error") return { outcome: "unknown", detail: outcome.error.slice(0, 120) };
  const detail = outcome.status >= 300 ? `${outcome.status} ${errorCode(outcome.body)}` : String(outcome.status);
  if (outcome.status < 300) return { outcome: "ok", detail };
  if (isDelete && outcome.status === 404) return { outcome: "unknown", detail };
  if (outcome.status < 500) return { outcome: "failed", detail };
  return { outcome: "unknown", detail };
}

function errorCode(body: string): string {
  try {
    return (JSON.parse(body) as { error?: { code?: string } }).error?.code ?? "";
  } catch {
    return "";
  }
}
