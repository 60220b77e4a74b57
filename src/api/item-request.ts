import type { IncomingHttpHeaders } from "node:http";
import { badRequest } from "../errors.js";
import type { Limits } from "../limits.js";
import type { WriteCondition } from "../replica/item-write.js";
import { ITEM_KEY_ENCODED_BYTES_MAX, encodedItemKeyLength } from "../storage/item-key.js";

/**
 * Validation of what an item request carries: the key, user metadata, expiry and
 * conditional headers. Each function throws a ShoalError (400) naming the numbers.
 */
export const metadataHeaderPrefix = "x-shoal-meta-";

/** A metadata name must be a header token so it round-trips as `x-shoal-meta-<name>`. */
const tokenChar = new Uint8Array(128);
for (const c of "abcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-.^_`|~") tokenChar[c.charCodeAt(0)] = 1;

/** A raw path segment to key bytes: percent-decoded UTF-8, not empty, at most keyBytesMax. */
export function parseKeySegment(raw: string, limits: Limits): Uint8Array {
  if (raw === "") throw badRequest("InvalidKey", "key is empty; a key needs at least 1 byte");
  let decoded = raw;
  if (raw.includes("%")) {
    try {
      decoded = decodeURIComponent(raw);
    } catch {
      throw badRequest("InvalidKey", "key is not valid percent-encoded UTF-8");
    }
  }
  return keyBytes(decoded, limits);
}

/** A key given as a JSON string (batch, list prefix checks): UTF-8, 1..keyBytesMax bytes. */
export function keyBytes(key: string, limits: Limits): Uint8Array {
  if (key === "") throw badRequest("InvalidKey", "key is empty; a key needs at least 1 byte");
  const bytes = Buffer.from(key, "utf8");
  if (bytes.length > limits.keyBytesMax) throw badRequest("KeyTooLong", `key is ${bytes.length} bytes; the limit is ${limits.keyBytesMax}`);
  // The order-preserving key encoding spends two bytes on each NUL byte, and LMDB caps keys;
  // only keys dense in NULs reach this (1024 bytes need more than 945 NULs).
  const encodedBytes = encodedItemKeyLength(bytes);
  if (encodedBytes > ITEM_KEY_ENCODED_BYTES_MAX) {
    throw badRequest(
      "KeyTooLong",
      `key is ${bytes.length} bytes but encodes to ${encodedBytes} (each NUL byte counts twice); the limit is ${ITEM_KEY_ENCODED_BYTES_MAX} encoded bytes`,
    );
  }
  if (bytes.length !== key.length && hasLoneSurrogate(key)) throw badRequest("InvalidKey", "key is not well-formed Unicode (lone surrogate)");
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}

/** User metadata from `x-shoal-meta-<name>` headers (names arrive lower-cased). */
export function metadataFromHeaders(headers: IncomingHttpHeaders, limits: Limits): Record<string, string> {
  let metadata: Record<string, string> | undefined;
  for (const name in headers) {
    if (!name.startsWith(metadataHeaderPrefix)) continue;
    const value = headers[name];
    metadata ??= Object.create(null) as Record<string, string>;
    metadata[name.slice(metadataHeaderPrefix.length)] = Array.isArray(value) ? value.join(", ") : (value ?? "");
  }
  if (metadata === undefined) return {};
  checkMetadata(metadata, limits);
  return metadata;
}

/**
 * Names must be lower-case header tokens and values header-safe Latin-1 (no control
 * characters), so every item can be answered as headers; size counts names plus values in
 * bytes as they travel in headers.
 */
export function checkMetadata(metadata: Record<string, string>, limits: Limits): void {
  let bytes = 0;
  let entries = 0;
  for (const name in metadata) {
    const value = metadata[name]!;
    entries++;
    if (name === "" || !isToken(name)) {
      throw badRequest("InvalidMetadata", `metadata name "${name.slice(0, 64)}" must be lower-case letters, digits or !#$%&'*+-.^_\`|~`);
    }
    if (typeof value !== "string" || !isHeaderValue(value)) {
      throw badRequest("InvalidMetadata", `metadata "${name}" must be a string of printable Latin-1 characters`);
    }
    bytes += name.length + value.length;
  }
  if (entries > limits.metadataEntriesMax) {
    throw badRequest("MetadataTooLarge", `metadata has ${entries} entries; the limit is ${limits.metadataEntriesMax}`);
  }
  if (bytes > limits.metadataBytesMax) {
    throw badRequest("MetadataTooLarge", `metadata is ${bytes} bytes; the limit is ${limits.metadataBytesMax}`);
  }
}

/** A TTL in seconds: a positive integer no larger than ttlSecondsMax. */
export function parseTtlSeconds(text: string, limits: Limits, source: string): number {
  const seconds = /^[0-9]{1,16}$/.test(text) ? Number(text) : NaN;
  if (!(seconds >= 1 && seconds <= limits.ttlSecondsMax)) {
    throw badRequest("InvalidTtl", `${source} must be a whole number of seconds from 1 to ${limits.ttlSecondsMax}, got "${text.slice(0, 32)}"`);
  }
  return seconds;
}

/** Expiry from `x-shoal-expires-in` or `?ttl=` (not both), as absolute ms; null when absent. */
export function expiryFromRequest(headers: IncomingHttpHeaders, query: string, limits: Limits, nowMs: number): number | null {
  const header = headers["x-shoal-expires-in"];
  const param = query === "" ? null : new URLSearchParams(query).get("ttl");
  if (header !== undefined && param !== null) throw badRequest("InvalidTtl", "give the expiry as x-shoal-expires-in or ?ttl=, not both");
  if (header !== undefined) return nowMs + parseTtlSeconds(String(header), limits, "x-shoal-expires-in") * 1000;
  if (param !== null) return nowMs + parseTtlSeconds(param, limits, "ttl") * 1000;
  return null;
}

/** An If-Match / If-None-Match value: `*` or a list of entity tags (weak ones compare weakly). */
export function parseEtagList(header: string): "*" | string[] {
  const trimmed = header.trim();
  if (trimmed === "*") return "*";
  const tags: string[] = [];
  for (let part of trimmed.split(",")) {
    part = part.trim();
    if (part.startsWith("W/")) part = part.slice(2);
    if (part.length >= 2 && part.startsWith('"') && part.endsWith('"')) part = part.slice(1, -1);
    if (part !== "") tags.push(part);
  }
  return tags;
}

export function conditionFromHeaders(headers: IncomingHttpHeaders): WriteCondition {
  const ifMatch = headers["if-match"];
  const ifNoneMatch = headers["if-none-match"];
  if (ifMatch === undefined && ifNoneMatch === undefined) return {};
  const condition: WriteCondition = {};
  if (ifMatch !== undefined) condition.ifMatch = parseEtagList(ifMatch);
  if (ifNoneMatch !== undefined) condition.ifNoneMatch = parseEtagList(ifNoneMatch);
  return condition;
}

function hasLoneSurrogate(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    const next = text.charCodeAt(i + 1);
    if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) i++;
    else return true;
  }
  return false;
}

function isToken(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 128 || tokenChar[c] !== 1) return false;
  }
  return true;
}

function isHeaderValue(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f || c > 0xff) return false;
  }
  return true;
}
