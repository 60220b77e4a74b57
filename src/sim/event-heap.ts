import { assert } from "../assert.js";

/**
 * A binary min-heap of scheduled events ordered by (timeMs, seq). The sequence number is
 * unique and increasing, so two events at one virtual instant run in the order they were
 * scheduled and the order never depends on the heap's internal layout.
 */
export interface HeapEvent {
  readonly timeMs: number;
  readonly seq: number;
}

export class EventHeap<E extends HeapEvent> {
  private readonly items: E[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): E | undefined {
    return this.items[0];
  }

  push(event: E): void {
    const items = this.items;
    items.push(event);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(event, items[parent]!)) break;
      items[i] = items[parent]!;
      i = parent;
    }
    items[i] = event;
  }

  pop(): E | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined || items.length === 0) return top;
    const n = items.length;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && before(items[right]!, items[left]!) ? right : left;
      if (!before(items[child]!, last)) break;
      items[i] = items[child]!;
      i = child;
    }
    items[i] = last;
    return top;
  }

  /** Removes every event for which `drop` holds (compaction of cancelled events). */
  removeWhere(drop: (event: E) => boolean): void {
    const kept = this.items.filter((e) => !drop(e));
    this.items.length = 0;
    for (const e of kept) this.push(e);
    assert(this.items.length === kept.length, "event heap lost events while compacting");
  }
}

function before(a: HeapEvent, b: HeapEvent): boolean {
  return a.timeMs < b.timeMs || (a.timeMs === b.timeMs && a.seq < b.seq);
}
