import { checkMetadata } from "../api/item-request.js";
import { ShoalError } from "../errors.js";
import type { Limits } from "../limits.js";
import type { WriteCondition } from "../replica/item-write.js";
import { ITEM_KEY_ENCODED_BYTES_MAX, encodedItemKeyLength } from "../storage/item-key.js";
import { clientMessageTypes, type ClientDeleteRequest, type ClientGetRequest, type ClientPutRequest, type ClientRequest, type WireItemKey } from "./client-messages.js";

/**
 * Checks a decoded client message before anything trusts it (STYLE.md: assert around the wire;
 * here the other end is a user's program, so a malformed message is an operating error and a
 * value, never an assertion). Every bound the REST edge applies holds here too: key and value
 * bytes, metadata, page size. The answer names the field and the numbers.
 */
export type ClientLimits = Pick<
  Limits,
  "keyBytesMax" | "valueBytesMax" | "metadataBytesMax" | "metadataEntriesMax" | "listPageItemsMax" | "listPageItemsDefault" | "tableNameLengthMax"
>;

export type ParsedClientRequest = { ok: true; request: ClientRequest } | { ok: false; message: string };

/** A field's problem, thrown inside this module only and turned into a value at its edge. */
class Malformed extends Error {}

type Fields = Record<string, unknown>;

export function parseClientRequest(message: unknown, limits: ClientLimits): ParsedClientRequest {
  try {
    return { ok: true, request: parseOrThrow(message, limits) };
  } catch (error) {
    if (error instanceof Malformed || error instanceof ShoalError) return { ok: false, message: error.message };
    throw error;
  }
}

function parseOrThrow(message: unknown, limits: ClientLimits): ClientRequest {
  if (typeof message !== "object" || message === null || Array.isArray(message)) throw new Malformed("a client message must be a map");
  const m = message as Fields;
  switch (m.type) {
    case clientMessageTypes.ping:
      return { type: clientMessageTypes.ping };
    case clientMessageTypes.ring:
      return { type: clientMessageTypes.ring };
    case clientMessageTypes.get:
      return parseGet(m, limits);
    case clientMessageTypes.put:
      return parsePut(m, limits);
    case clientMessageTypes.delete:
      return addWriteOptions<ClientDeleteRequest>({ type: clientMessageTypes.delete, table: tableName(m.table, limits), key: itemKey(m.key, limits) }, m);
    case clientMessageTypes.list:
      return parseList(m, limits);
    default:
      throw new Malformed(`unknown client message type ${JSON.stringify(String(m.type)).slice(0, 80)}`);
  }
}

function parseGet(m: Fields, limits: ClientLimits): ClientRequest {
  const quorum = quorumOf(m.quorum, ["r", "pr"]);
  const consistency = m.consistency;
  if (consistency !== undefined && consistency !== "eventual" && consistency !== "strong") throw new Malformed(`consistency must be "eventual" or "strong", got ${String(consistency).slice(0, 32)}`);
  // Optional fields are set only when present (no spread of a temporary object per field: this runs per request).
  const request: ClientGetRequest = { type: clientMessageTypes.get, table: tableName(m.table, limits), key: itemKey(m.key, limits) };
  if (quorum !== undefined) request.quorum = quorum;
  if (consistency !== undefined) request.consistency = consistency;
  return request;
}

function parsePut(m: Fields, limits: ClientLimits): ClientRequest {
  const value = bytes(m.value, "value");
  if (value.byteLength > limits.valueBytesMax) throw new Malformed(`value is ${value.byteLength} bytes; the limit is ${limits.valueBytesMax}`);
  if (m.contentType !== undefined && (typeof m.contentType !== "string" || m.contentType.length === 0 || m.contentType.length > 256)) {
    throw new Malformed("contentType must be a non-empty string of at most 256 characters");
  }
  const metadata = metadataOf(m.metadata, limits);
  const expiresAtMs = m.expiresAtMs;
  if (expiresAtMs !== undefined && expiresAtMs !== null && !(Number.isSafeInteger(expiresAtMs) && (expiresAtMs as number) > 0)) {
    throw new Malformed(`expiresAtMs must be a positive whole number of ms since the epoch, got ${String(expiresAtMs)}`);
  }
  const request: ClientPutRequest = { type: clientMessageTypes.put, table: tableName(m.table, limits), key: itemKey(m.key, limits), value };
  if (m.contentType !== undefined) request.contentType = m.contentType as string;
  if (metadata !== undefined) request.metadata = metadata;
  if (expiresAtMs !== undefined) request.expiresAtMs = expiresAtMs as number | null;
  return addWriteOptions(request, m);
}

function parseList(m: Fields, limits: ClientLimits): ClientRequest {
  const prefix = m.prefix === undefined ? undefined : bytes(m.prefix, "prefix");
  if (prefix !== undefined && prefix.byteLength > limits.keyBytesMax) throw new Malformed(`prefix is ${prefix.byteLength} bytes; the limit is ${limits.keyBytesMax}`);
  const limit = m.limit;
  if (limit !== undefined && !(Number.isSafeInteger(limit) && (limit as number) >= 1 && (limit as number) <= limits.listPageItemsMax)) {
    throw new Malformed(`limit must be a whole number from 1 to ${limits.listPageItemsMax}, got ${String(limit)}`);
  }
  return {
    type: clientMessageTypes.list,
    table: tableName(m.table, limits),
    ...(prefix !== undefined ? { prefix } : {}),
    ...(m.after !== undefined ? { after: itemKey(m.after, limits) } : {}),
    ...(limit !== undefined ? { limit: limit as number } : {}),
  };
}

interface WriteOptionFields {
  quorum?: { w?: number; dw?: number; pw?: number };
  context?: string;
  condition?: WriteCondition;
}

/** Sets the write options `m` carries on `request` and returns it. */
function addWriteOptions<R extends WriteOptionFields>(request: R, m: Fields): R {
  const quorum = quorumOf(m.quorum, ["w", "dw", "pw"]);
  if (m.context !== undefined && typeof m.context !== "string") throw new Malformed("context must be the string a read returned");
  const condition = conditionOf(m.condition);
  if (quorum !== undefined) request.quorum = quorum;
  if (m.context !== undefined && m.context !== "") request.context = m.context as string;
  if (condition !== undefined) request.condition = condition;
  return request;
}

/** Only bounded here: whether the name exists is the catalog's answer (TableNotFound). */
function tableName(value: unknown, limits: ClientLimits): string {
  const max = limits.tableNameLengthMax;
  if (typeof value !== "string" || value.length === 0 || value.length > max) throw new Malformed(`table must be a name of 1 to ${max} characters`);
  return value;
}

function bytes(value: unknown, field: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new Malformed(`${field} must be bytes`);
  return value;
}

function itemKey(value: unknown, limits: ClientLimits): WireItemKey {
  if (typeof value !== "object" || value === null) throw new Malformed("key must be a map with partitionKey bytes");
  const { partitionKey, sortKey } = value as Fields;
  const partition = keyPart(partitionKey, "partitionKey", limits);
  const sort = sortKey === undefined ? undefined : keyPart(sortKey, "sortKey", limits);
  const encodedBytes = encodedItemKeyLength(partition, sort);
  if (encodedBytes > ITEM_KEY_ENCODED_BYTES_MAX) {
    throw new Malformed(`key encodes to ${encodedBytes} bytes (each NUL byte counts twice); the limit is ${ITEM_KEY_ENCODED_BYTES_MAX}`);
  }
  return sort === undefined ? { partitionKey: partition } : { partitionKey: partition, sortKey: sort };
}

function keyPart(value: unknown, field: string, limits: ClientLimits): Uint8Array {
  const part = bytes(value, field);
  if (part.byteLength === 0) throw new Malformed(`${field} is empty; a key needs at least 1 byte`);
  if (part.byteLength > limits.keyBytesMax) throw new Malformed(`${field} is ${part.byteLength} bytes; the limit is ${limits.keyBytesMax}`);
  return part;
}

function quorumOf<K extends string>(value: unknown, names: readonly K[]): Partial<Record<K, number>> | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "object" || value === null) throw new Malformed(`quorum must be a map of ${names.join(", ")}`);
  const quorum: Partial<Record<K, number>> = {};
  for (const [name, n] of Object.entries(value as Fields)) {
    if (!names.includes(name as K)) throw new Malformed(`quorum may set ${names.join(", ")}, not ${name.slice(0, 32)}`);
    if (n === undefined) continue;
    if (!(Number.isSafeInteger(n) && (n as number) >= 0)) throw new Malformed(`${name}=${String(n)} is not a whole number`);
    quorum[name as K] = n as number;
  }
  return quorum;
}

function conditionOf(value: unknown): WriteCondition | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "object" || value === null) throw new Malformed("condition must be a map of ifMatch, ifNoneMatch");
  const { ifMatch, ifNoneMatch } = value as Fields;
  const condition: WriteCondition = {};
  if (ifMatch !== undefined) condition.ifMatch = versionList(ifMatch, "ifMatch");
  if (ifNoneMatch !== undefined) condition.ifNoneMatch = versionList(ifNoneMatch, "ifNoneMatch");
  return condition;
}

/** A bound on listed versions: a sibling set is at most limits.siblingsMax (100) long. */
const conditionVersionsMax = 128;

function versionList(value: unknown, field: string): "*" | string[] {
  if (value === "*") return "*";
  if (!Array.isArray(value) || value.length > conditionVersionsMax || !value.every((v) => typeof v === "string" && v.length > 0 && v.length <= 256)) {
    throw new Malformed(`${field} must be "*" or a list of at most ${conditionVersionsMax} versions`);
  }
  return value as string[];
}

function metadataOf(value: unknown, limits: ClientLimits): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Malformed("metadata must be a map of strings");
  const metadata = Object.assign(Object.create(null) as Record<string, string>, value as Record<string, string>);
  // The REST edge's rules, so every item can also be answered as HTTP headers; throws ShoalError.
  checkMetadata(metadata, limits as Limits);
  return metadata;
}
