/**
 * A bounded least-recently-used cache of parsed expressions by their text. Applications send the
 * same few expression strings over and over (with different ExpressionAttributeValues), and
 * parsing one (peggy, then the builder's structural checks) costs more than the rest of a
 * GetItem's front door; the parsed forms are immutable and independent of the placeholders'
 * values, so one parse serves every request with that text. Only successes are kept (a text
 * that fails to parse fails again, with the same message, at the same cost). Bounded twice: at
 * most `entriesMax` entries, and texts over `textLengthMax` characters are never kept.
 */
export class ParseCache<T> {
  private readonly entries = new Map<string, T>();

  constructor(
    readonly entriesMax: number,
    readonly textLengthMax: number,
  ) {
    if (!Number.isInteger(entriesMax) || entriesMax < 1) throw new Error(`ParseCache entriesMax must be a positive integer; got ${entriesMax}`);
    if (!Number.isInteger(textLengthMax) || textLengthMax < 0) throw new Error(`ParseCache textLengthMax must be a non-negative integer; got ${textLengthMax}`);
  }

  get size(): number {
    return this.entries.size;
  }

  /** The parsed form of `text`, from the cache or from `parse` (whose throw passes through, uncached). */
  get(text: string, parse: (text: string) => T): T {
    const hit = this.entries.get(text);
    if (hit !== undefined) {
      // Most recently used last: Map keeps insertion order, so the first key is the eviction victim.
      this.entries.delete(text);
      this.entries.set(text, hit);
      return hit;
    }
    const parsed = parse(text);
    if (text.length <= this.textLengthMax) {
      this.entries.set(text, parsed);
      if (this.entries.size > this.entriesMax) this.entries.delete(this.entries.keys().next().value!);
    }
    return parsed;
  }
}
