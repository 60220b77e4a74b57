import { badRequest, payloadTooLarge } from "../errors.js";
import type { Limits } from "../limits.js";
import type { BatchItemWrite, ItemKeyParts } from "../coordinator/item-operations.js";
import { checkMetadata, keyBytes, parseTtlSeconds } from "./item-request.js";
import { refuseUnknownFields, requireObject } from "./json-body.js";

/**
 * `POST /v1/tables/{t}/batch` bodies:
 *
 *   {"get": ["k1"],
 *    "put": [{"key": "k2", "value": "text"}, {"key": "k3", "valueBase64": "AAE=", "contentType":
 *            "application/octet-stream", "metadata": {"owner": "ana"}, "ttl": 60}],
 *    "delete": ["k4"]}
 *
 * At most limits.batchGetsMax gets and limits.batchWritesMax puts plus deletes; no key twice
 * among the writes. The whole body is validated before anything is written.
 */
export interface BatchRequest {
  getKeys: string[];
  gets: ItemKeyParts[];
  writes: BatchItemWrite[];
  /** The user's key strings, aligned with `writes`, for the response. */
  writeKeys: string[];
}

const base64Pattern = /^[A-Za-z0-9+/]*={0,2}$/;
const putFields = ["key", "value", "valueBase64", "contentType", "metadata", "ttl"];

export function parseBatchRequest(body: unknown, limits: Limits, nowMs: number): BatchRequest {
  const object = requireObject(body, "InvalidBatch", "a batch");
  refuseUnknownFields(object, ["get", "put", "delete"], "InvalidBatch", "a batch");
  const getKeys = stringList(object.get, "get");
  const puts = list(object.put, "put");
  const deleteKeys = stringList(object.delete, "delete");
  if (getKeys.length > limits.batchGetsMax) {
    throw badRequest("BatchTooLarge", `batch has ${getKeys.length} gets; the limit is ${limits.batchGetsMax} (limits.batchGetsMax)`);
  }
  const writeCount = puts.length + deleteKeys.length;
  if (writeCount > limits.batchWritesMax) {
    throw badRequest("BatchTooLarge", `batch has ${writeCount} puts and deletes; the limit is ${limits.batchWritesMax} (limits.batchWritesMax)`);
  }
  const request: BatchRequest = { getKeys, gets: getKeys.map((k) => ({ partitionKey: keyBytes(k, limits) })), writes: [], writeKeys: [] };
  const seen = new Set<string>();
  const claim = (key: string): void => {
    if (seen.has(key)) throw badRequest("DuplicateKey", `key "${key.slice(0, 100)}" appears more than once among the batch's writes`);
    seen.add(key);
  };
  puts.forEach((put, i) => {
    const parsed = parsePut(put, i, limits, nowMs);
    claim(parsed.keyText);
    request.writes.push({ type: "put", key: parsed.key, write: parsed.write });
    request.writeKeys.push(parsed.keyText);
  });
  for (const key of deleteKeys) {
    claim(key);
    request.writes.push({ type: "delete", key: { partitionKey: keyBytes(key, limits) } });
    request.writeKeys.push(key);
  }
  return request;
}

function parsePut(value: unknown, index: number, limits: Limits, nowMs: number) {
  const what = `put[${index}]`;
  const put = requireObject(value, "InvalidBatch", what);
  refuseUnknownFields(put, putFields, "InvalidBatch", what);
  if (typeof put.key !== "string") throw badRequest("InvalidBatch", `${what} needs a "key" string`);
  const key = keyBytes(put.key, limits);
  const bytes = putValue(put, what);
  if (bytes.length > limits.valueBytesMax) {
    throw payloadTooLarge("ValueTooLarge", `${what}: value is ${bytes.length} bytes; the limit is ${limits.valueBytesMax}`);
  }
  const contentType = put.contentType ?? "application/octet-stream";
  if (typeof contentType !== "string" || !/^[\x20-\x7e]{1,255}$/.test(contentType)) {
    throw badRequest("InvalidBatch", `${what}: contentType must be 1 to 255 printable ASCII characters`);
  }
  const metadata = putMetadata(put.metadata, what, limits);
  const expiresAtMs = put.ttl === undefined ? null : nowMs + parseTtlSeconds(typeof put.ttl === "number" ? String(put.ttl) : "", limits, `${what}.ttl`) * 1000;
  return { keyText: put.key, key: { partitionKey: key }, write: { value: bytes, contentType, metadata, expiresAtMs } };
}

function putValue(put: Record<string, unknown>, what: string): Uint8Array {
  const { value, valueBase64 } = put;
  if ((value === undefined) === (valueBase64 === undefined)) throw badRequest("InvalidBatch", `${what} needs exactly one of "value" and "valueBase64"`);
  if (value !== undefined) {
    if (typeof value !== "string") throw badRequest("InvalidBatch", `${what}: value must be a string (UTF-8); use valueBase64 for bytes`);
    return Buffer.from(value, "utf8");
  }
  if (typeof valueBase64 !== "string" || valueBase64.length % 4 !== 0 || !base64Pattern.test(valueBase64)) {
    throw badRequest("InvalidBatch", `${what}: valueBase64 must be padded standard base64`);
  }
  return Buffer.from(valueBase64, "base64");
}

function putMetadata(value: unknown, what: string, limits: Limits): Record<string, string> {
  if (value === undefined) return {};
  const object = requireObject(value, "InvalidMetadata", `${what}.metadata`);
  const metadata = Object.create(null) as Record<string, string>;
  for (const [name, text] of Object.entries(object)) {
    if (typeof text !== "string") throw badRequest("InvalidMetadata", `${what}: metadata "${name.slice(0, 64)}" must be a string`);
    metadata[name] = text;
  }
  checkMetadata(metadata, limits);
  return metadata;
}

function list(value: unknown, what: string): unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw badRequest("InvalidBatch", `"${what}" must be an array`);
  return value;
}

function stringList(value: unknown, what: string): string[] {
  const items = list(value, what);
  for (const item of items) if (typeof item !== "string") throw badRequest("InvalidBatch", `"${what}" must be an array of key strings`);
  return items as string[];
}
