/**
 * Picks benchmark keys uniformly from a fixed key space with a small seeded generator
 * (xorshift32), so every run of a scenario touches the same sequence of keys.
 */
export class KeyPicker {
  private state: number;

  constructor(
    private readonly prefix: string,
    private readonly keyCount: number,
    seed: number,
  ) {
    this.state = (seed >>> 0) || 0x9e3779b9;
  }

  next(): string {
    return keyName(this.prefix, this.nextIndex());
  }

  /** The next key's index, below keyCount (the same sequence next() names). */
  nextIndex(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state % this.keyCount;
  }
}

export function keyName(prefix: string, index: number): string {
  return `${prefix}${index}`;
}
