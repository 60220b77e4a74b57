import { performance } from "node:perf_hooks";
import { HistoryRecorder, type PendingOperation } from "../../src/checker/history-recorder.js";
import type { RegisterOperation } from "../../src/checker/history.js";
import { httpCall, type HttpOutcome } from "./http-call.js";
import { itemUrl, parseItemRead } from "./item-reads.js";
import { SeededRandom } from "./seeded-random.js";

/**
 * The client load on a strong table (CASPaxos) while faults run, recorded as a register
 * history for src/checker's linearizability check. Operations: get, put of a unique value,
 * delete, and compare-and-set as a read followed by a PUT with If-Match on the ETag it returned
 * (If-None-Match: * when it found nothing). Values are unique, so "the version is the ETag I
 * read" is "the value is the one I read", which is the register model's cas(expected, value).
 *
 * Outcomes: 2xx, 404 and 412 are definite; another 4xx refused the request before any round
 * (failed); a 5xx, a timeout or a lost connection is unknown (an acceptor may have accepted, and
 * a later round may complete it). Time is the test host's monotonic clock.
 */
export interface StrongWorkloadOptions {
  urls: readonly string[];
  table: string;
  keys: number;
  clients: number;
  seed: number;
  opsMax: number;
  timeoutMs: number;
}

export class StrongWorkload {
  private stopping = false;
  private ops = 0;
  readonly recorder: HistoryRecorder<RegisterOperation>;
  readonly keys: string[];

  constructor(private readonly options: StrongWorkloadOptions) {
    this.keys = Array.from({ length: options.keys }, (_, i) => `st-${i}`);
    this.recorder = new HistoryRecorder<RegisterOperation>({ operationsMax: options.opsMax * 2, now: () => performance.now() });
  }

  async run(): Promise<RegisterOperation[]> {
    await Promise.all(Array.from({ length: this.options.clients }, (_, client) => this.client(client)));
    return this.recorder.history();
  }

  stop(): void {
    this.stopping = true;
  }

  private async client(client: number): Promise<void> {
    const random = new SeededRandom(this.options.seed * 1000 + 500 + client);
    let sequence = 0;
    while (!this.stopping && this.ops < this.options.opsMax) {
      this.ops++;
      const url = random.pick(this.options.urls);
      const key = random.pick(this.keys);
      const value = `s${client}-${sequence++}`;
      const roll = random.next();
      if (roll < 0.3) await this.get(client, url, key);
      else if (roll < 0.55) await this.put(client, url, key, value);
      else if (roll < 0.9) await this.compareAndSet(client, url, key, value);
      else await this.remove(client, url, key);
    }
  }

  private async get(client: number, url: string, key: string): Promise<{ value: string | null; etag: string | undefined } | undefined> {
    const op = this.recorder.invoke({ client, key, kind: "get", input: null });
    const outcome = await httpCall({ method: "GET", url: itemUrl(url, this.options.table, key), timeoutMs: this.options.timeoutMs });
    const read = parseItemRead(outcome);
    if (read === undefined) {
      end(op, outcome);
      return undefined;
    }
    if (read.values.length > 1) {
      // A strong table never has siblings; record what was seen so the checker rejects it.
      op.complete(`siblings:${read.values.join("|")}`);
      return undefined;
    }
    const value = read.values[0] ?? null;
    op.complete(value);
    return { value, etag: read.etag };
  }

  private async put(client: number, url: string, key: string, value: string): Promise<void> {
    const op = this.recorder.invoke({ client, key, kind: "put", input: { value } });
    const outcome = await this.write(url, key, value, {});
    if (isAnswer(outcome, 200, 201)) op.complete("ok");
    else end(op, outcome);
  }

  private async compareAndSet(client: number, url: string, key: string, value: string): Promise<void> {
    const read = await this.get(client, url, key);
    if (read === undefined || this.stopping) return;
    const op = this.recorder.invoke({ client, key, kind: "cas", input: { expected: read.value, value } });
    const condition: Record<string, string> = read.value === null ? { "if-none-match": "*" } : { "if-match": read.etag ?? "" };
    const outcome = await this.write(url, key, value, condition);
    if (isAnswer(outcome, 200, 201)) op.complete("ok");
    else if (isAnswer(outcome, 412)) op.complete("fail");
    else end(op, outcome);
  }

  private async remove(client: number, url: string, key: string): Promise<void> {
    const op = this.recorder.invoke({ client, key, kind: "delete", input: null });
    const outcome = await httpCall({ method: "DELETE", url: itemUrl(url, this.options.table, key), timeoutMs: this.options.timeoutMs });
    if (isAnswer(outcome, 204)) op.complete("deleted");
    else if (isAnswer(outcome, 404)) op.complete("not-found");
    else end(op, outcome);
  }

  private write(url: string, key: string, value: string, headers: Record<string, string>): Promise<HttpOutcome> {
    return httpCall({ method: "PUT", url: itemUrl(url, this.options.table, key), headers: { "content-type": "text/plain", ...headers }, body: value, timeoutMs: this.options.timeoutMs });
  }
}

function isAnswer(outcome: HttpOutcome, ...statuses: number[]): boolean {
  return outcome.kind === "answer" && statuses.includes(outcome.status);
}

/** An outcome that is not a definite answer: a 4xx refusal failed, everything else is unknown. */
function end(op: PendingOperation<unknown>, outcome: HttpOutcome): void {
  if (outcome.kind === "answer" && outcome.status >= 400 && outcome.status < 500) op.fail(`${outcome.status}`);
  else op.timeout();
}
