import { assert } from "../assert.js";
import { fmix32 } from "../ring/murmur-hash3.js";
import { type HistoryOperation, isUnknownOutput } from "./history.js";
import type { Model } from "./model.js";

/**
 * Wing & Gong's backtracking search for a linearization of one key's operations, with Lowe's
 * memoisation of visited (linearized set, state) pairs (Wing & Gong 1993; Lowe 2017, "Testing
 * for linearizability"; the same algorithm Porcupine and Knossos run).
 *
 * The history becomes a time-ordered, doubly linked list of call and return entries. Walking it
 * from the head: at a call, try to linearize that operation now (the model accepts its output
 * from the current state); if so, push (operation, state before), unlink its entries and restart
 * from the head. At a return whose call is still unlinearized, no order of what came before
 * works: pop the last linearized operation, relink it, and try the entry after its call.
 *
 * Ordering at equal times: intervals are closed, so an operation returning at t and one called
 * at t are concurrent. Calls therefore sort before returns at the same time; the checker never
 * assumes an order the timestamps cannot show (coarse clocks make ties common).
 *
 * Reduction for read-only operations (those whose accepted steps never change the state): at
 * each configuration, first linearize every pending read-only operation the current state
 * explains, and never try the alternative of leaving it for later. This is safe: in any
 * linearization from here that places such a read later, moving it to now leaves every state
 * unchanged, and every operation that returned before its call is already linearized. Without
 * it, k concurrent reads of one value cost up to 2^k configurations.
 *
 * Indeterminate operations have no return entry: they may be linearized at any point after their
 * call, or never. Once every determinate operation is linearized the search succeeds; the
 * indeterminate ones left over never happened (or happened last, which nobody observed).
 */

export interface SearchLimits {
  /** Loop iterations this search may take before it answers "unknown". */
  readonly stepsMax: number;
  /** Entries of the memo; past it the search still prunes with what it has, but adds nothing. */
  readonly cacheEntriesMax: number;
}

/** The deepest point the search reached before it had to backtrack: a counterexample's core. */
export interface SearchDeadEnd<State> {
  /** Indices (into the searched operations) in linearization order, with the state after each. */
  readonly prefix: ReadonlyArray<{ readonly index: number; readonly stateAfter: State }>;
  /** The operation that returned while unlinearized at that point. */
  readonly stuckIndex: number;
}

export type SearchResult<State> =
  | { readonly ok: true; readonly steps: number }
  | { readonly ok: false; readonly steps: number; readonly deadEnd: SearchDeadEnd<State> }
  | { readonly ok: "unknown"; readonly steps: number };

interface Entry {
  readonly index: number;
  readonly isCall: boolean;
  readonly time: number;
  /** A call's return entry; null for returns and for calls of indeterminate operations. */
  match: Entry | null;
  prev: Entry | null;
  next: Entry | null;
}

interface Frame<State> {
  readonly entry: Entry;
  readonly stateBefore: State;
  /** A read-only operation linearized as soon as it could be; see `run`. */
  readonly forced: boolean;
}

export function searchLinearization<State, Op extends HistoryOperation>(
  ops: readonly Op[],
  model: Model<State, Op>,
  limits: SearchLimits,
): SearchResult<State> {
  const search = new LinearizationSearch(ops, model, limits);
  return search.run();
}

class LinearizationSearch<State, Op extends HistoryOperation> {
  readonly #ops: readonly Op[];
  readonly #model: Model<State, Op>;
  readonly #limits: SearchLimits;
  readonly #head: Entry;
  /** Per operation: determinate and read-only, so linearized as soon as the state allows. */
  readonly #readOnly: boolean[];
  readonly #linearized: LinearizedSet;
  readonly #memo: Map<number, Array<{ readonly bits: Uint32Array; readonly state: State }>> = new Map();
  readonly #stack: Array<Frame<State>> = [];
  #memoSize = 0;
  #state: State;
  #determinateLeft = 0;
  #deadEnd: SearchDeadEnd<State> | null = null;

  constructor(ops: readonly Op[], model: Model<State, Op>, limits: SearchLimits) {
    this.#ops = ops;
    this.#model = model;
    this.#limits = limits;
    this.#head = buildEntryList(ops);
    this.#readOnly = ops.map((op) => !isUnknownOutput(op.output) && model.isReadOnly(op));
    this.#linearized = new LinearizedSet(ops.length);
    this.#state = model.init();
    for (const op of ops) if (!isUnknownOutput(op.output)) this.#determinateLeft += 1;
  }

  run(): SearchResult<State> {
    let entry = this.#head.next;
    let readPass = true;
    let steps = 0;
    while (this.#determinateLeft > 0) {
      if (steps >= this.#limits.stepsMax) return { ok: "unknown", steps };
      steps += 1;
      if (entry === null || !entry.isCall) {
        if (readPass) {
          readPass = false;
          entry = this.#head.next;
          continue;
        }
        // Every unlinearized determinate operation still has its return entry in the list, so
        // the walk meets one before it can run off the end.
        assert(entry !== null, "linearization search ran past the last entry with determinate operations left");
        this.#noteDeadEnd(entry);
        const resumeAfter = this.#backtrack();
        if (resumeAfter === null) return { ok: false, steps, deadEnd: this.#deadEnd! };
        entry = resumeAfter.next;
        continue;
      }
      const readOnly = this.#readOnly[entry.index]!;
      if (readOnly !== readPass) {
        entry = entry.next;
        continue;
      }
      const outcome = this.#tryLinearize(entry, readOnly);
      if (outcome === "linearized") {
        entry = this.#head.next;
        readPass = true;
      } else if (outcome === "seen" && readOnly) {
        // The configuration after the forced read was explored and failed, so this one fails.
        const resumeAfter = this.#backtrack();
        if (resumeAfter === null) return { ok: false, steps, deadEnd: this.#deadEnd! };
        entry = resumeAfter.next;
      } else {
        entry = entry.next;
      }
    }
    return { ok: true, steps };
  }

  /**
   * Linearizes `call`'s operation now if the model accepts it and the (linearized set, state)
   * pair is new; "seen" when the memo already holds it (Lowe: that subtree failed before).
   */
  #tryLinearize(call: Entry, forced: boolean): "linearized" | "rejected" | "seen" {
    const step = this.#model.step(this.#state, this.#ops[call.index]!);
    if (!step.ok) return "rejected";
    this.#linearized.add(call.index);
    if (!this.#remember(step.next)) {
      this.#linearized.remove(call.index);
      return "seen";
    }
    this.#stack.push({ entry: call, stateBefore: this.#state, forced });
    this.#state = step.next;
    if (call.match !== null) this.#determinateLeft -= 1;
    lift(call);
    return "linearized";
  }

  /**
   * Undoes linearizations until one that had an alternative; returns its call entry, after
   * which the walk resumes, or null when nothing is left to try. A forced read has no
   * alternative: if nothing worked after it, nothing works without it either.
   */
  #backtrack(): Entry | null {
    for (;;) {
      const frame = this.#stack.pop();
      if (frame === undefined) return null;
      const call = this.#undo(frame);
      if (!frame.forced) return call;
    }
  }

  #undo(frame: Frame<State>): Entry {
    const call = frame.entry;
    unlift(call);
    this.#linearized.remove(call.index);
    this.#state = frame.stateBefore;
    if (call.match !== null) this.#determinateLeft += 1;
    return call;
  }

  /** Adds (linearized set, state) to the memo; false when it was there already (Lowe). */
  #remember(state: State): boolean {
    const key = (this.#linearized.hash ^ Math.imul(this.#model.hash(state), 0x9e3779b1)) >>> 0;
    let bucket = this.#memo.get(key);
    if (bucket !== undefined) {
      for (const seen of bucket) {
        if (this.#linearized.equals(seen.bits) && this.#model.equal(seen.state, state)) return false;
      }
    }
    if (this.#memoSize >= this.#limits.cacheEntriesMax) return true;
    if (bucket === undefined) {
      bucket = [];
      this.#memo.set(key, bucket);
    }
    bucket.push({ bits: this.#linearized.snapshot(), state });
    this.#memoSize += 1;
    return true;
  }

  /**
   * Keeps the deepest dead end (most operations linearized when an unlinearized operation
   * returned) for the counterexample; ties keep the first, which is earliest in the search.
   */
  #noteDeadEnd(returnEntry: Entry): void {
    const stack = this.#stack;
    if (this.#deadEnd !== null && this.#deadEnd.prefix.length >= stack.length) return;
    const prefix = stack.map((frame, i) => ({
      index: frame.entry.index,
      stateAfter: i + 1 < stack.length ? stack[i + 1]!.stateBefore : this.#state,
    }));
    this.#deadEnd = { prefix, stuckIndex: returnEntry.index };
  }
}

/**
 * The entry list: a head sentinel, then call and return entries by time, calls before returns
 * at equal times (closed intervals), then by operation index so the order is deterministic.
 */
function buildEntryList(ops: readonly HistoryOperation[]): Entry {
  const entries: Entry[] = [];
  ops.forEach((op, index) => {
    const call: Entry = { index, isCall: true, time: op.callAt, match: null, prev: null, next: null };
    entries.push(call);
    if (isUnknownOutput(op.output)) return;
    const ret: Entry = { index, isCall: false, time: op.returnAt, match: null, prev: null, next: null };
    call.match = ret;
    entries.push(ret);
  });
  entries.sort((a, b) => a.time - b.time || Number(b.isCall) - Number(a.isCall) || a.index - b.index);
  const head: Entry = { index: -1, isCall: false, time: -Infinity, match: null, prev: null, next: null };
  let last = head;
  for (const entry of entries) {
    last.next = entry;
    entry.prev = last;
    last = entry;
  }
  return head;
}

/** Unlinks a call and its return (Knuth's dancing links: the entries keep their own links). */
function lift(call: Entry): void {
  unlink(call);
  if (call.match !== null) unlink(call.match);
}

/** Relinks what `lift` removed, in the reverse order, so nested lifts undo exactly. */
function unlift(call: Entry): void {
  if (call.match !== null) relink(call.match);
  relink(call);
}

function unlink(entry: Entry): void {
  entry.prev!.next = entry.next;
  if (entry.next !== null) entry.next.prev = entry.prev;
}

function relink(entry: Entry): void {
  entry.prev!.next = entry;
  if (entry.next !== null) entry.next.prev = entry;
}

/** The set of linearized operations as a bitset, with an order-free hash kept incrementally. */
class LinearizedSet {
  readonly #words: Uint32Array;
  #hash = 0;

  constructor(size: number) {
    this.#words = new Uint32Array(Math.ceil(size / 32));
  }

  get hash(): number {
    return this.#hash;
  }

  add(index: number): void {
    const bit = 1 << (index & 31);
    assert((this.#words[index >>> 5]! & bit) === 0, `operation ${index} linearized twice`);
    this.#words[index >>> 5]! |= bit;
    this.#hash ^= mixIndex(index);
  }

  remove(index: number): void {
    const bit = 1 << (index & 31);
    assert((this.#words[index >>> 5]! & bit) !== 0, `operation ${index} removed but not linearized`);
    this.#words[index >>> 5]! &= ~bit;
    this.#hash ^= mixIndex(index);
  }

  equals(other: Uint32Array): boolean {
    const words = this.#words;
    for (let i = 0; i < words.length; i++) if (words[i] !== other[i]) return false;
    return true;
  }

  snapshot(): Uint32Array {
    return this.#words.slice();
  }
}

/** A 32-bit finaliser (murmur3 fmix32) so that XOR of a set's members spreads well. */
function mixIndex(index: number): number {
  return fmix32((index + 0x9e3779b9) | 0);
}
