import { assert } from "../assert.js";
import { ShoalError } from "../errors.js";
import {
  type ClientId,
  type FailedOutput,
  type HistoryOperation,
  type UnknownOutput,
  failedOutput,
  unknownOutput,
} from "./history.js";

/** What a workload says when it invokes an operation: everything but the outcome and times. */
export type OperationCall<Op extends HistoryOperation> = Op extends HistoryOperation<infer Kind, infer Input, unknown>
  ? { readonly client: ClientId; readonly key: string; readonly kind: Kind; readonly input: Input }
  : never;

/** The definite outputs an operation of kind `Kind` can complete with. */
export type DefiniteOutput<Op extends HistoryOperation, Kind extends string> = Exclude<
  Extract<Op, { kind: Kind }>["output"],
  UnknownOutput | FailedOutput
>;

/** The workload's handle on one invoked operation; exactly one of the three ends it. */
export interface PendingOperation<Output> {
  readonly id: number;
  /** The client was told the outcome. */
  complete(output: Output): void;
  /** The operation definitely did not take effect (e.g. 503 before any acceptor could accept). */
  fail(reason?: string): void;
  /** The outcome is unknown (a timeout, a 504 indeterminate, a lost connection). */
  timeout(): void;
}

export interface HistoryRecorderOptions {
  /** Operations one history may hold; invoking one more throws `HistoryOperationsMax`. */
  readonly operationsMax: number;
  /**
   * The one clock every operation is timed by: the simulator's true virtual time, or a
   * monotonic clock (`performance.now()`) in multi-process tests. Never a node's wall clock,
   * which may jump backwards and reorder intervals.
   */
  readonly now: () => number;
}

interface RecordEntry {
  readonly call: OperationCall<HistoryOperation>;
  readonly id: number;
  readonly callAt: number;
  output?: unknown;
  returnAt?: number;
}

/**
 * Records a history as a workload runs: `invoke` before sending a request, then `complete`,
 * `fail` or `timeout` on the returned handle. Operations still pending when `history()` is taken
 * (their client crashed, or the run ended first) count as indeterminate.
 *
 * @example
 * const recorder = new HistoryRecorder<RegisterOperation>({ operationsMax: 10_000, now: () => sim.nowMs() });
 * const op = recorder.invoke({ client: "c1", key: "k", kind: "put", input: { value: "v1" } });
 * op.complete("ok");
 * checkLinearizability(recorder.history(), registerModel);
 */
export class HistoryRecorder<Op extends HistoryOperation> {
  readonly #options: HistoryRecorderOptions;
  readonly #entries: RecordEntry[] = [];
  #lastTime = -Infinity;
  #pending = 0;

  constructor(options: HistoryRecorderOptions) {
    assert(Number.isSafeInteger(options.operationsMax) && options.operationsMax > 0, `operationsMax must be a positive integer, got ${options.operationsMax}`);
    this.#options = options;
  }

  /** Operations invoked so far. */
  get size(): number {
    return this.#entries.length;
  }

  /** Operations invoked and not yet completed, failed or timed out. */
  get pendingCount(): number {
    return this.#pending;
  }

  invoke<C extends OperationCall<Op>>(call: C): PendingOperation<DefiniteOutput<Op, C["kind"]>> {
    if (this.#entries.length >= this.#options.operationsMax) {
      throw new ShoalError(
        "HistoryOperationsMax",
        500,
        `cannot record ${call.kind} on "${call.key}" by client ${call.client}: the history already holds ${this.#entries.length} of ${this.#options.operationsMax} operations`,
        { operationsMax: this.#options.operationsMax },
      );
    }
    const entry: RecordEntry = { call, id: this.#entries.length, callAt: this.#now() };
    this.#entries.push(entry);
    this.#pending += 1;
    return {
      id: entry.id,
      complete: (output) => this.#end(entry, output, this.#now()),
      fail: (reason) => this.#end(entry, failedOutput(reason), this.#now()),
      timeout: () => this.#end(entry, unknownOutput, Infinity),
    };
  }

  /** A snapshot of the history; pending operations appear as indeterminate. */
  history(): Op[] {
    return this.#entries.map((entry) => {
      const ended = entry.returnAt !== undefined;
      return {
        id: entry.id,
        client: entry.call.client,
        key: entry.call.key,
        kind: entry.call.kind,
        input: entry.call.input,
        output: ended ? entry.output : unknownOutput,
        callAt: entry.callAt,
        returnAt: ended ? entry.returnAt : Infinity,
      } as unknown as Op;
    });
  }

  #end(entry: RecordEntry, output: unknown, returnAt: number): void {
    assert(entry.returnAt === undefined, `operation ${entry.id} (${entry.call.kind} on "${entry.call.key}") ended twice`);
    entry.output = output;
    entry.returnAt = returnAt;
    this.#pending -= 1;
  }

  #now(): number {
    const time = this.#options.now();
    assert(Number.isFinite(time), `the history clock returned ${time}`);
    assert(time >= this.#lastTime, `the history clock went backwards from ${this.#lastTime} to ${time}; use a monotonic clock`);
    this.#lastTime = time;
    return time;
  }
}
