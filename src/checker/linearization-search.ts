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
 * Three rules keep them from multiplying the search (each proven where it is applied): they
 * are tried after the determinate candidates (`Pass`); of several with the same kind and input
 * only the earliest-called unplaced one is tried (`#interchangeableWaiting`); and one is placed
 * only when an operation that could go right after it needs it (`#tryUnknown`). And the memo
 * compares the indeterminate part of the linearized set by inclusion (`#remember`): a failed
 * configuration rules out every one that differs only by more indeterminate operations placed.
 * Budgets count the walk's iterations plus the model steps and memo comparisons those take.
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

/**
 * The order the candidates of one configuration are tried in: determinate read-only operations
 * first (forced, see `run`), then the other determinate ones, then the indeterminate ones. A
 * linearizable history rarely needs an indeterminate operation to explain it, so trying those
 * last finds a linearization before wandering through their subsets.
 */
const Pass = Object.freeze({ Reads: 0, Writes: 1, Unknowns: 2 } as const);
type Pass = (typeof Pass)[keyof typeof Pass];

/** A memo entry: a configuration the search visited; closed once its subtree failed. */
interface MemoEntry<State> {
  readonly bits: Uint32Array;
  readonly state: State;
  open: boolean;
}

interface Frame<State> {
  readonly entry: Entry;
  readonly stateBefore: State;
  /** The memo entry of the configuration this linearization reached (null when the memo was full). */
  readonly memo: MemoEntry<State> | null;
  /** The pass that linearized it; a read-only operation (Pass.Reads) is forced: no alternative. */
  readonly pass: Pass;
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
  /** Per operation: the pass that tries it. */
  readonly #pass: Pass[];
  /**
   * Per indeterminate operation: the previous indeterminate operation (by call) with the same
   * kind and input, or -1. See `#interchangeableWaiting`.
   */
  readonly #previousTwin: number[];
  readonly #linearized: LinearizedSet;
  readonly #memo: Map<number, Array<MemoEntry<State>>> = new Map();
  readonly #stack: Array<Frame<State>> = [];
  #memoSize = 0;
  /** Model steps taken outside the walk (`#neededAfter`), counted into the budget. */
  #work = 0;
  #state: State;
  #determinateLeft = 0;
  #deadEnd: SearchDeadEnd<State> | null = null;

  constructor(ops: readonly Op[], model: Model<State, Op>, limits: SearchLimits) {
    this.#ops = ops;
    this.#model = model;
    this.#limits = limits;
    this.#head = buildEntryList(ops);
    this.#pass = ops.map((op) => (isUnknownOutput(op.output) ? Pass.Unknowns : model.isReadOnly(op) ? Pass.Reads : Pass.Writes));
    this.#previousTwin = previousTwins(ops);
    this.#linearized = new LinearizedSet(ops.map((op) => isUnknownOutput(op.output)));
    this.#state = model.init();
    for (const op of ops) if (!isUnknownOutput(op.output)) this.#determinateLeft += 1;
  }

  run(): SearchResult<State> {
    let entry = this.#head.next;
    let pass: Pass = Pass.Reads;
    let steps = 0;
    while (this.#determinateLeft > 0) {
      steps += 1 + this.#work;
      this.#work = 0;
      if (steps > this.#limits.stepsMax) return { ok: "unknown", steps: this.#limits.stepsMax };
      if (entry === null || !entry.isCall) {
        // Calls after the first pending return cannot go next; the next pass starts over.
        if (pass !== Pass.Unknowns) {
          pass = pass === Pass.Reads ? Pass.Writes : Pass.Unknowns;
          entry = this.#head.next;
          continue;
        }
        // Every unlinearized determinate operation still has its return entry in the list, so
        // the walk meets one before it can run off the end.
        assert(entry !== null, "linearization search ran past the last entry with determinate operations left");
        this.#noteDeadEnd(entry);
        const resume = this.#backtrack();
        if (resume === null) return { ok: false, steps, deadEnd: this.#deadEnd! };
        entry = resume.entry.next;
        pass = resume.pass;
        continue;
      }
      if (this.#pass[entry.index] !== pass || (pass === Pass.Unknowns && this.#interchangeableWaiting(entry.index))) {
        entry = entry.next;
        continue;
      }
      const outcome = pass === Pass.Unknowns ? this.#tryUnknown(entry) : this.#tryLinearize(entry, pass);
      if (outcome === "linearized") {
        entry = this.#head.next;
        pass = Pass.Reads;
      } else if (outcome === "seen" && pass === Pass.Reads) {
        // The configuration after the forced read was explored and failed, so this one fails.
        const resume = this.#backtrack();
        if (resume === null) return { ok: false, steps, deadEnd: this.#deadEnd! };
        entry = resume.entry.next;
        pass = resume.pass;
      } else {
        entry = entry.next;
      }
    }
    return { ok: true, steps: steps + this.#work };
  }

  /**
   * Normal form for indeterminate operations: the search places one (u, in state s) only when
   * some operation x that could go right after it needs it: x is rejected in s, or x leaves a
   * different state after u than without u, and x is not a determinate read-only operation.
   *
   * Complete: take any linearization from this configuration whose first operation is u, and x
   * the operation after it. If x, applied in s, leaves the state it leaves after u, u can be
   * left out (it is optional). If x is a determinate read-only operation accepted in s, x then
   * u is as good as u then x (u returns at infinity, so x may precede it; the state after both
   * is u(s)). Repeating this only removes indeterminate operations or moves them later, so it
   * ends, with a linearization that starts with a determinate operation or with an indeterminate
   * one that the next operation needs, which this search tries. The test depends only on the
   * configuration (linearized set and state), so the memo stays sound.
   */
  #tryUnknown(call: Entry): "linearized" | "rejected" | "seen" {
    const state = this.#state;
    const step = this.#model.step(state, this.#ops[call.index]!);
    if (!step.ok || !this.#neededAfter(call, state, step.next)) return "rejected";
    return this.#tryLinearize(call, Pass.Unknowns);
  }

  #neededAfter(call: Entry, before: State, after: State): boolean {
    const model = this.#model;
    for (let x = this.#head.next; x !== null && x.isCall; x = x.next) {
      if (x === call) continue;
      // An indeterminate x waiting for an earlier twin cannot go next, unless that twin is u.
      if (x.match === null && this.#previousTwin[x.index] !== call.index && this.#interchangeableWaiting(x.index)) continue;
      const op = this.#ops[x.index]!;
      this.#work += 2;
      const withU = model.step(after, op);
      if (!withU.ok) continue;
      const withoutU = model.step(before, op);
      if (!withoutU.ok) return true;
      if (x.match !== null && this.#pass[x.index] === Pass.Reads) continue;
      if (!model.equal(withU.next, withoutU.next)) return true;
    }
    return false;
  }

  /**
   * Symmetry: indeterminate operations with the same kind and input step alike from every state
   * and, once called, may go at any later point. So from any configuration, a linearization
   * that places one while an earlier-called twin is unplaced can place that twin there instead
   * (and the later one where the twin was, or nowhere). The search only tries the earliest
   * unplaced twin; the placed twins of each group stay a prefix by call order.
   */
  #interchangeableWaiting(index: number): boolean {
    const twin = this.#previousTwin[index]!;
    return twin >= 0 && !this.#linearized.has(twin);
  }

  /**
   * Linearizes `call`'s operation now if the model accepts it and the (linearized set, state)
   * pair is new; "seen" when the memo already holds it (Lowe: that subtree failed before).
   */
  #tryLinearize(call: Entry, pass: Pass): "linearized" | "rejected" | "seen" {
    const step = this.#model.step(this.#state, this.#ops[call.index]!);
    if (!step.ok) return "rejected";
    this.#linearized.add(call.index);
    const memo = this.#remember(step.next);
    if (memo === "seen") {
      this.#linearized.remove(call.index);
      return "seen";
    }
    this.#stack.push({ entry: call, stateBefore: this.#state, memo, pass });
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
  #backtrack(): { readonly entry: Entry; readonly pass: Pass } | null {
    for (;;) {
      const frame = this.#stack.pop();
      if (frame === undefined) return null;
      const entry = this.#undo(frame);
      if (frame.pass !== Pass.Reads) return { entry, pass: frame.pass };
    }
  }

  #undo(frame: Frame<State>): Entry {
    const call = frame.entry;
    // Everything after this configuration was tried and failed.
    if (frame.memo !== null) frame.memo.open = false;
    unlift(call);
    this.#linearized.remove(call.index);
    this.#state = frame.stateBefore;
    if (call.match !== null) this.#determinateLeft += 1;
    return call;
  }

  /**
   * Lowe's memo, with subsumption for indeterminate operations: "seen" when a configuration
   * with the same determinate operations linearized, the same state, and a subset of the
   * indeterminate ones linearized already failed (a closed entry). The current configuration
   * can do nothing that one could not: the same determinate operations are left, under the
   * same real-time constraints, and every indeterminate operation it may still place, that one
   * could too (they never return, so nothing else constrains them). An open entry is an
   * ancestor still being searched and proves nothing. Otherwise the configuration is added
   * (open) and returned, or null when the memo is full.
   */
  #remember(state: State): MemoEntry<State> | "seen" | null {
    const key = (this.#linearized.determinateHash ^ Math.imul(this.#model.hash(state), 0x9e3779b1)) >>> 0;
    let bucket = this.#memo.get(key);
    if (bucket !== undefined) {
      this.#work += bucket.length;
      for (const seen of bucket) {
        if (!seen.open && this.#linearized.subsumedBy(seen.bits) && this.#model.equal(seen.state, state)) return "seen";
      }
    }
    if (this.#memoSize >= this.#limits.cacheEntriesMax) return null;
    if (bucket === undefined) {
      bucket = [];
      this.#memo.set(key, bucket);
    }
    const entry = { bits: this.#linearized.snapshot(), state, open: true };
    bucket.push(entry);
    this.#memoSize += 1;
    return entry;
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

/** Per indeterminate operation, the previous one by call with the same kind and input; else -1. */
function previousTwins(ops: readonly HistoryOperation[]): number[] {
  const last = new Map<string, number>();
  const order = ops.map((_, index) => index).sort((a, b) => ops[a]!.callAt - ops[b]!.callAt || a - b);
  const previous = ops.map(() => -1);
  for (const index of order) {
    const op = ops[index]!;
    if (!isUnknownOutput(op.output)) continue;
    const group = `${op.kind}\u0000${JSON.stringify(op.input)}`;
    previous[index] = last.get(group) ?? -1;
    last.set(group, index);
  }
  return previous;
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

/**
 * The set of linearized operations as a bitset, with an order-free hash of its determinate
 * members kept incrementally (the memo compares indeterminate members by inclusion).
 */
class LinearizedSet {
  readonly #words: Uint32Array;
  /** Per word, the bits of indeterminate operations. */
  readonly #indeterminate: Uint32Array;
  readonly #isIndeterminate: readonly boolean[];
  #determinateHash = 0;

  constructor(indeterminate: readonly boolean[]) {
    this.#words = new Uint32Array(Math.ceil(indeterminate.length / 32));
    this.#indeterminate = new Uint32Array(this.#words.length);
    indeterminate.forEach((unknown, index) => {
      if (unknown) this.#indeterminate[index >>> 5]! |= 1 << (index & 31);
    });
    this.#isIndeterminate = indeterminate;
  }

  get determinateHash(): number {
    return this.#determinateHash;
  }

  add(index: number): void {
    const bit = 1 << (index & 31);
    assert((this.#words[index >>> 5]! & bit) === 0, `operation ${index} linearized twice`);
    this.#words[index >>> 5]! |= bit;
    if (!this.#isIndeterminate[index]) this.#determinateHash ^= mixIndex(index);
  }

  remove(index: number): void {
    const bit = 1 << (index & 31);
    assert((this.#words[index >>> 5]! & bit) !== 0, `operation ${index} removed but not linearized`);
    this.#words[index >>> 5]! &= ~bit;
    if (!this.#isIndeterminate[index]) this.#determinateHash ^= mixIndex(index);
  }

  has(index: number): boolean {
    return (this.#words[index >>> 5]! & (1 << (index & 31))) !== 0;
  }

  /** Same determinate members as `other`, and every indeterminate member of `other`. */
  subsumedBy(other: Uint32Array): boolean {
    const words = this.#words;
    const indeterminate = this.#indeterminate;
    for (let i = 0; i < words.length; i++) {
      const mine = words[i]!;
      const theirs = other[i]!;
      if (((mine ^ theirs) & ~indeterminate[i]!) !== 0 || (theirs & ~mine & indeterminate[i]!) !== 0) return false;
    }
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
