import type { HttpOutcome } from "./http-call.js";

/**
 * What a read of an item answered, as values: 200 is one value, 300 lists the siblings, 404 is
 * none. The causal context travels with it so a following write can carry it. Anything else
 * (an error, a timeout) is no answer.
 */
export interface ItemRead {
  values: string[];
  context: string | undefined;
  etag: string | undefined;
}

export function parseItemRead(outcome: HttpOutcome): ItemRead | undefined {
  if (outcome.kind !== "answer") return undefined;
  const context = outcome.headers["x-shoal-context"];
  if (outcome.status === 200) return { values: [outcome.body], context, etag: outcome.headers.etag };
  if (outcome.status === 404) return { values: [], context, etag: undefined };
  if (outcome.status === 300) {
    const parsed = JSON.parse(outcome.body) as { siblings: Array<{ value: string; encoding: string }> };
    const values = parsed.siblings.map((s) => (s.encoding === "base64" ? Buffer.from(s.value, "base64").toString("utf8") : s.value));
    return { values: values.sort(), context, etag: undefined };
  }
  return undefined;
}

export function itemUrl(nodeUrl: string, table: string, key: string, query = ""): string {
  return `${nodeUrl}/v1/tables/${table}/items/${encodeURIComponent(key)}${query === "" ? "" : `?${query}`}`;
}
