import { assert } from "../assert.js";

/**
 * `work` over every item with at most `concurrencyMax` running at once (a batch's keys live on
 * different replicas, so they run in parallel, but a thousand at once would flood the peers'
 * in-flight bounds). Results keep the items' order.
 */
export async function boundedMap<T, R>(items: readonly T[], concurrencyMax: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  assert(Number.isSafeInteger(concurrencyMax) && concurrencyMax >= 1, `boundedMap: concurrencyMax must be a positive integer, got ${concurrencyMax}`);
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrencyMax, items.length) }, () => worker()));
  return results;
}
