import { assert } from "../assert.js";
import { HistoryRecorder, type PendingOperation } from "../checker/history-recorder.js";
import { type Absent, type RegisterOperation, type RegisterValue, absent } from "../checker/history.js";
import type { NodeId } from "../runtime/network.js";
import type { Random } from "../runtime/runtime.js";
import { encodeItemKey } from "../storage/item-key.js";
import type { Simulation } from "./simulation.js";
import type { ChangeKinds } from "../paxos/strong-write.js";
import type { StrongDecision, StrongRegister, StrongRegisterOf, StrongResult, StrongValue, StrongVersioned } from "./strong-register.js";

/**
 * The strong scenario's clients (TESTING.md, "The linearizability checker"; issue 4): each
 * loops until its end time through a random running node, doing get, put of a unique value,
 * read-then-compare-and-set, increment and delete, and records every invocation and response
 * in the checker's history format on the simulator's true time:
 *
 * - a definite answer completes the operation with the output the client saw;
 * - "unavailable" and "overloaded" fail it: the coordinator promises nothing was accepted, so
 *   the checker drops it (if that promise is false, the history shows an effect nothing explains);
 * - "indeterminate", or no answer within `clientTimeoutMs` (a crashed or cut-off node), times
 *   it out: it returns at +infinity and may have happened at any point after its call, or never.
 *
 * Register values are numbers: puts and compare-and-sets write unique multiples of a million,
 * increments add 1-3, so every operation the model knows applies to every state.
 *
 * Keys: `keySlots` keys are live at a time and each client mostly uses its home slot, so a
 * key sees two or three clients at once (real contention, small searches). Every
 * `keyGenerationMs` the workload moves to fresh keys, as Jepsen's independent keys do, so no
 * key's history grows past what the checker searches quickly.
 */
export interface StrongWorkloadOptions {
  sim: Simulation;
  registerOf: StrongRegisterOf;
  nodeIds: readonly NodeId[];
  keySlots: number;
  keyGenerationMs: number;
  /** Replicas (acceptors) per key. */
  n: number;
  thinkMsMax: number;
  clientTimeoutMs: number;
  /** Operations one run may record (the recorder's bound). */
  operationsMax: number;
}

export const STRONG_TABLE_ID = 2;

/** How often a client leaves its home slot for a random one. */
const awayProbability = 0.2;
const uniqueValueStep = 1_000_000;
const incrementMax = 3;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function strongItemKeyOf(key: string): Uint8Array {
  return encodeItemKey(STRONG_TABLE_ID, encoder.encode(key));
}

export interface StrongWorkloadCounts {
  ok: number;
  failed: number;
  /** Unknown outcomes: answered "indeterminate", or no answer within the client's timeout. */
  unknown: number;
  /** Of the unknown outcomes, those without an answer in time. */
  silent: number;
}

export class StrongWorkload {
  readonly recorder: HistoryRecorder<RegisterOperation>;
  readonly counts: StrongWorkloadCounts = { ok: 0, failed: 0, unknown: 0, silent: 0 };
  private sequence = 0;
  private readonly startMs: number;

  constructor(private readonly options: StrongWorkloadOptions) {
    assert(options.keySlots > 0 && options.keyGenerationMs > 0, "the strong workload needs key slots and a key generation length");
    this.startMs = options.sim.now();
    this.recorder = new HistoryRecorder<RegisterOperation>({ operationsMax: options.operationsMax, now: () => options.sim.now() });
  }

  /** One client's loop; resolves at `endMs` (virtual). */
  async client(clientIndex: number, random: Random, endMs: number): Promise<void> {
    const { sim } = this.options;
    const client = `c${clientIndex}`;
    while (sim.now() < endMs) {
      await this.sleep(1 + random.int(this.options.thinkMsMax));
      if (sim.now() >= endMs) return;
      const register = this.randomRegister(random);
      if (register === undefined) continue;
      const key = this.keyFor(clientIndex, random);
      await this.randomOperation(register, client, key, random);
    }
  }

  /** Every key an operation was invoked on, in first-use order. */
  keysUsed(): string[] {
    return [...new Set(this.recorder.history().map((op) => op.key))];
  }

  /** One read of `key` through `register`, recorded; true when it answered definitely. */
  async read(register: StrongRegister, client: string, key: string): Promise<boolean> {
    return (await this.get(register, client, key)) !== undefined;
  }

  /** One increment of `key` through `register`, recorded; true when it answered definitely. */
  async incrementOnce(register: StrongRegister, client: string, key: string): Promise<boolean> {
    return (await this.increment(register, client, key, 1)) !== undefined;
  }

  private async randomOperation(register: StrongRegister, client: string, key: string, random: Random): Promise<void> {
    const roll = random.next();
    if (roll < 0.35) await this.get(register, client, key);
    else if (roll < 0.5) await this.put(register, client, key);
    else if (roll < 0.75) await this.readThenCompareAndSet(register, client, key);
    else if (roll < 0.9) await this.increment(register, client, key, 1 + random.int(incrementMax));
    else await this.delete(register, client, key);
  }

  private randomRegister(random: Random): StrongRegister | undefined {
    const running = this.options.nodeIds.filter((id) => this.options.sim.isUp(id));
    if (running.length === 0) return undefined;
    return this.options.registerOf(running[random.int(running.length)]!);
  }

  private keyFor(clientIndex: number, random: Random): string {
    const { keySlots, keyGenerationMs } = this.options;
    const slot = random.next() < awayProbability ? random.int(keySlots) : clientIndex % keySlots;
    const generation = Math.floor((this.options.sim.now() - this.startMs) / keyGenerationMs);
    return `k${slot}.${generation}`;
  }

  private async get(register: StrongRegister, client: string, key: string): Promise<RegisterValue | Absent | undefined> {
    const op = this.recorder.invoke({ client, key, kind: "get", input: null });
    // A client's get takes the one-round-trip read where the register has one (paxos/README.md).
    const read = register.readFast !== undefined ? register.readFast(strongItemKeyOf(key), this.options.n) : register.read(strongItemKeyOf(key), this.options.n);
    const result = await this.withDeadline(read);
    return this.finish(op, result, (value) => decodeRegister(value));
  }

  private async put(register: StrongRegister, client: string, key: string): Promise<void> {
    const value = this.uniqueValue();
    const op = this.recorder.invoke({ client, key, kind: "put", input: { value } });
    // Through `write` where the register has it: forwarded to the key's first live primary.
    const change = register.write !== undefined ? register.write(strongItemKeyOf(key), this.options.n, { type: "set", value: storedOf(value) }) : register.change(strongItemKeyOf(key), this.options.n, () => setTo(value));
    const result = await this.withDeadline(change);
    this.finish(op, result, () => "ok" as const);
  }

  /** A read, then a change whose decide keeps the value unless it still is what the read saw. */
  private async readThenCompareAndSet(register: StrongRegister, client: string, key: string): Promise<void> {
    const expected = await this.get(register, client, key);
    if (expected === undefined) return;
    const value = this.uniqueValue();
    const op = this.recorder.invoke({ client, key, kind: "cas", input: { expected, value } });
    const change =
      this.namesChanges(register, client)
        ? register.write!(strongItemKeyOf(key), this.options.n, { type: "change", kind: casKind, args: { expected, value } }, { decide: compareAndSet(expected, value) })
        : register.change(strongItemKeyOf(key), this.options.n, compareAndSet(expected, value));
    const result = await this.withDeadline(change);
    this.finish(op, result, ({ before }) => (decodeRegister(before) === expected ? "ok" : "fail"));
  }

  private async increment(register: StrongRegister, client: string, key: string, by: number): Promise<number | undefined> {
    const op = this.recorder.invoke({ client, key, kind: "increment", input: { by } });
    const change =
      this.namesChanges(register, client)
        ? register.write!(strongItemKeyOf(key), this.options.n, { type: "change", kind: incrementKind, args: { by } }, { decide: incrementBy(by) })
        : register.change(strongItemKeyOf(key), this.options.n, incrementBy(by));
    const result = await this.withDeadline(change);
    return this.finish(op, result, ({ after }) => numberOrZero(decodeRegister(after)));
  }

  private async delete(register: StrongRegister, client: string, key: string): Promise<void> {
    const op = this.recorder.invoke({ client, key, kind: "delete", input: null });
    const change = register.write !== undefined ? register.write(strongItemKeyOf(key), this.options.n, { type: "delete" }) : register.change(strongItemKeyOf(key), this.options.n, () => ({ type: "delete" }));
    const result = await this.withDeadline(change);
    this.finish(op, result, ({ before }) => (before === undefined ? "not-found" : "deleted"));
  }

  /** Ends `op` from the coordinator's answer (or its absence); the output when definite. */
  private finish<T, O>(op: PendingOperation<O>, result: StrongResult<T> | undefined, output: (value: T) => O): O | undefined {
    if (result === undefined || (!result.ok && result.error === "indeterminate")) {
      this.counts.unknown++;
      if (result === undefined) this.counts.silent++;
      op.timeout();
      return undefined;
    }
    if (!result.ok) {
      this.counts.failed++;
      op.fail(result.error);
      return undefined;
    }
    this.counts.ok++;
    const value = output(result.value);
    op.complete(value);
    return value;
  }

  /**
   * Whether `client`'s increments and compare-and-sets go through `write` as named changes
   * (forwarded to the key's first live primary, like REST increments) or through `change` as
   * functions (proposed where they arrive, like DynamoDB's conditional writes): odd clients
   * name them, even ones do not, so every seed runs both paths against each other.
   */
  private namesChanges(register: StrongRegister, client: string): boolean {
    return register.write !== undefined && Number(client.slice(1)) % 2 === 1;
  }

  private uniqueValue(): number {
    return ++this.sequence * uniqueValueStep;
  }

  private sleep(delayMs: number): Promise<void> {
    return new Promise((resolve) => this.options.sim.scheduler.at(this.options.sim.now() + delayMs, resolve, "strong client think"));
  }

  /** The outcome, or undefined when no answer came within the client's timeout. */
  private withDeadline<T>(work: Promise<T>): Promise<T | undefined> {
    const { scheduler } = this.options.sim;
    return new Promise((resolve) => {
      const timer = scheduler.at(scheduler.now() + this.options.clientTimeoutMs, () => resolve(undefined), "strong client timeout");
      void work.then((value) => {
        scheduler.cancel(timer);
        resolve(value);
      });
    });
  }
}

const incrementKind = "sim.increment";
const casKind = "sim.cas";

function incrementBy(by: number): (current: StrongVersioned | undefined) => StrongDecision {
  return (current) => setTo(numberOrZero(decodeRegister(current)) + by);
}

function compareAndSet(expected: RegisterValue | Absent, value: number): (current: StrongVersioned | undefined) => StrongDecision {
  return (current) => (decodeRegister(current) === expected ? setTo(value) : { type: "keep" });
}

/**
 * The workload's increments and compare-and-sets as named changes (StrongCoordinatorOptions.changeKinds;
 * paxos/README.md, "Forwarding read-modify-writes"), so `write` sends them to the key's first live
 * primary as it does puts and deletes; what the coordinator answers for them is unchanged.
 */
export const strongWorkloadChangeKinds: ChangeKinds = (kind, args) => {
  const a = args as { by?: unknown; expected?: unknown; value?: unknown } | null;
  if (kind === incrementKind && typeof a?.by === "number") return { decide: incrementBy(a.by) };
  if (kind === casKind && typeof a?.value === "number" && (typeof a.expected === "number" || a.expected === absent)) return { decide: compareAndSet(a.expected, a.value) };
  return `not a change of the strong workload: ${kind}`;
};

function setTo(value: number): StrongDecision {
  return { type: "set", value: storedOf(value) };
}

function storedOf(value: number): StrongValue {
  return { value: encoder.encode(JSON.stringify(value)), contentType: "application/json", metadata: [], expiresAtMs: null };
}

/** The register value a stored value holds: absent, or the number the workload wrote. */
export function decodeRegister(stored: StrongVersioned | undefined): RegisterValue | Absent {
  if (stored === undefined) return absent;
  const value: unknown = JSON.parse(decoder.decode(stored.value));
  assert(typeof value === "number", `the strong workload writes numbers only, but read ${JSON.stringify(value)}`);
  return value;
}

function numberOrZero(value: RegisterValue | Absent): number {
  assert(typeof value !== "string", "the strong workload writes numbers only");
  return value ?? 0;
}
