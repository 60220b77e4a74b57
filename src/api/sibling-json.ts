import type { ItemVersion } from "../coordinator/item-operations.js";
import { hlcPhysicalMs } from "../versioning/hybrid-logical-clock.js";
import { httpDate } from "./http-date.js";

/**
 * One sibling (one concurrent version of an item, Dynamo paper section 4.4) as JSON: the body
 * of a `300 Multiple Choices` read and the `siblings` array of list and batch entries.
 *
 *   {"value": "hello", "encoding": "utf8", "contentType": "text/plain", "metadata": {"owner": "ana"},
 *    "lastModified": "Sun, 22 Nov 2026 04:00:00 GMT", "etag": "\"<version>\"", "expiresAt": null}
 *
 * `value` is the bytes as UTF-8 text when the content type is textual (text/*, application/json,
 * application/*+json) and the bytes are valid UTF-8; otherwise standard padded base64, and
 * `encoding` says which. `etag` is quoted as in the ETag header, so it can be sent back in
 * If-Match as it is. `expiresAt` is an ISO date or null.
 */
export interface SiblingJson {
  value: string;
  encoding: "utf8" | "base64";
  contentType: string;
  metadata: Readonly<Record<string, string>>;
  lastModified: string;
  etag: string;
  expiresAt: string | null;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export function siblingJson(item: ItemVersion): SiblingJson {
  const text = isTextual(item.contentType) ? utf8OrUndefined(item.value) : undefined;
  return {
    value: text ?? Buffer.from(item.value.buffer, item.value.byteOffset, item.value.byteLength).toString("base64"),
    encoding: text === undefined ? "base64" : "utf8",
    contentType: item.contentType,
    metadata: item.metadata,
    lastModified: httpDate(hlcPhysicalMs(item.timestamp)),
    etag: `"${item.version}"`,
    expiresAt: item.expiresAtMs === null ? null : new Date(item.expiresAtMs).toISOString(),
  };
}

/** Whether a content type names text: text/*, application/json or a +json suffix (parameters ignored). */
export function isTextual(contentType: string): boolean {
  const semicolon = contentType.indexOf(";");
  const type = (semicolon < 0 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
  return type.startsWith("text/") || type === "application/json" || (type.startsWith("application/") && type.endsWith("+json"));
}

function utf8OrUndefined(bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}
