import type { Random } from "../runtime/runtime.js";
import type { Scheduler } from "./scheduler.js";
import type { StrongDecision, StrongRegister, StrongResult, StrongVersioned } from "./strong-register.js";

/**
 * A reference register for testing the strong workload and the checker themselves, apart from
 * any replication protocol: one copy per key, every change applied atomically at one instant
 * of virtual time between a random request delay and a random reply delay. That is
 * linearizable by construction (the instant is the linearization point), also when it answers
 * "unavailable" (nothing applied), or "indeterminate" (applied or not, at random).
 *
 * `staleReads` is the broken variant: a read answers the value the key held before its latest
 * change, as a replica that missed the last write would. The checker must object.
 */
export interface SingleCopyRegisterOptions {
  scheduler: Scheduler;
  random: Random;
  delayMsMax: number;
  /** Probability an operation answers "unavailable" without applying anything. */
  unavailableProbability?: number;
  /** Probability an operation answers "indeterminate" (it was applied with probability 1/2). */
  indeterminateProbability?: number;
  /** Test only: the broken variant (see above). */
  staleReads?: boolean;
}

interface Cell {
  current: StrongVersioned | undefined;
  previous: StrongVersioned | undefined;
}

type ChangeResult = StrongResult<{ before: StrongVersioned | undefined; after: StrongVersioned | undefined }>;

export class SingleCopyRegister implements StrongRegister {
  private readonly cells = new Map<string, Cell>();
  private versions = 0;

  constructor(private readonly options: SingleCopyRegisterOptions) {}

  async change(itemKey: Uint8Array, _n: number, decide: (current: StrongVersioned | undefined) => StrongDecision): Promise<ChangeResult> {
    await this.delay();
    const fault = this.fault();
    if (fault === "unavailable") return { ok: false, error: "unavailable", message: "single copy: refused before applying" };
    const applied = fault === undefined || this.options.random.next() < 0.5 ? this.apply(itemKey, decide) : undefined;
    await this.delay();
    if (fault === "indeterminate" || applied === undefined) return { ok: false, error: "indeterminate", message: "single copy: outcome withheld" };
    return { ok: true, value: applied };
  }

  async read(itemKey: Uint8Array): Promise<StrongResult<StrongVersioned | undefined>> {
    await this.delay();
    if (this.fault() !== undefined) return { ok: false, error: "unavailable", message: "single copy: read refused" };
    const cell = this.cell(itemKey);
    const value = this.options.staleReads === true ? cell.previous : cell.current;
    await this.delay();
    return { ok: true, value };
  }

  private apply(itemKey: Uint8Array, decide: (current: StrongVersioned | undefined) => StrongDecision): { before: StrongVersioned | undefined; after: StrongVersioned | undefined } {
    const cell = this.cell(itemKey);
    const before = cell.current;
    const decision = decide(before);
    if (decision.type === "keep") return { before, after: before };
    const after = decision.type === "delete" ? undefined : { ...decision.value, timestamp: this.options.scheduler.now(), version: `${++this.versions}` };
    cell.previous = before;
    cell.current = after;
    return { before, after };
  }

  private cell(itemKey: Uint8Array): Cell {
    const name = itemKey.join(",");
    let cell = this.cells.get(name);
    if (cell === undefined) {
      cell = { current: undefined, previous: undefined };
      this.cells.set(name, cell);
    }
    return cell;
  }

  private fault(): "unavailable" | "indeterminate" | undefined {
    const roll = this.options.random.next();
    const unavailable = this.options.unavailableProbability ?? 0;
    if (roll < unavailable) return "unavailable";
    if (roll < unavailable + (this.options.indeterminateProbability ?? 0)) return "indeterminate";
    return undefined;
  }

  private delay(): Promise<void> {
    const { scheduler, random } = this.options;
    return new Promise((resolve) => scheduler.at(scheduler.now() + 1 + random.int(this.options.delayMsMax), resolve, "single copy delay"));
  }
}
