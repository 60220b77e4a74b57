/**
 * IMF-fixdate strings (Last-Modified) for millisecond times, memoised per second: formatting a
 * Date costs about as much as reading an item, and hot items share a few timestamps. The memo
 * holds at most `httpDateMemoMax` seconds and is emptied when full.
 */
const httpDateMemoMax = 4096;
const memo = new Map<number, string>();

export function httpDate(ms: number): string {
  const second = Math.floor(ms / 1000);
  let text = memo.get(second);
  if (text === undefined) {
    if (memo.size >= httpDateMemoMax) memo.clear();
    text = new Date(second * 1000).toUTCString();
    memo.set(second, text);
  }
  return text;
}
