import type { AttributeValue, Item } from "./attribute-value.js";
import { attributeTypes } from "./attribute-value.js";
import { normalizeNumber } from "./dynamo-number.js";
import { ok, serializationError, validationError, type Result } from "./validation-error.js";

/**
 * DynamoDB JSON (API reference, "AttributeValue") to the typed model and back, with
 * DynamoDB's validation: exactly one type key, NULL must be true, no empty or duplicate sets,
 * numbers valid and normalised, maps and lists nested at most `nestingDepthMax` deep. Empty
 * strings and binaries are allowed here; key attributes are checked by key-attribute-check.ts.
 * A JSON value of the wrong JSON type is a SerializationException, as DynamoDB's deserializer
 * reports it; everything else is a ValidationException.
 */
export const nestingDepthMax = 32;

const typeNames: ReadonlySet<string> = new Set(attributeTypes);

export const attributeValueMessages = {
  empty: "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes",
  severalTypes: "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes",
  nullFalse: "One or more parameter values were invalid: Null attribute value types must have the value of true",
  emptyStringSet: "One or more parameter values were invalid: An string set  may not be empty",
  emptyNumberSet: "One or more parameter values were invalid: An number set  may not be empty",
  emptyBinarySet: "One or more parameter values were invalid: Binary sets should not be empty",
  duplicates: (members: string[]) => `One or more parameter values were invalid: Input collection [${members.join(", ")}] contains duplicates.`,
  nesting: "Nesting Levels have exceeded supported limits",
  wrongJsonType: (type: string, expected: string) => `Unexpected value for ${type}: expected ${expected}`,
  base64: (type: string) => `Invalid base64 in ${type}`,
  loneSurrogate: "Invalid UTF-8: a string holds an unpaired surrogate",
};

/**
 * In a /u regular expression a surrogate range matches only unpaired surrogates. Such a
 * string has no UTF-8 form: TextEncoder would turn every one into U+FFFD, so two different
 * keys would share key bytes. Refused on the way in, like any text that is not UTF-8.
 */
const loneSurrogate = /[\ud800-\udfff]/u;
/** String.prototype.isWellFormed (ES2024, Node 20+): native, and at once for one-byte strings. */
const isWellFormed = (String.prototype as { isWellFormed?: (this: string) => boolean }).isWellFormed;

export function hasLoneSurrogate(text: string): boolean {
  return isWellFormed !== undefined ? !isWellFormed.call(text) : loneSurrogate.test(text);
}

type Json = unknown;

/** Nesting levels of a value: 1 for a scalar or set, one more per map or list around the deepest member. */
export function nestingDepth(value: AttributeValue): number {
  if ("M" in value) return 1 + Object.values(value.M).reduce((deepest, member) => Math.max(deepest, nestingDepth(member)), 0);
  if ("L" in value) return 1 + value.L.reduce((deepest, member) => Math.max(deepest, nestingDepth(member)), 0);
  return 1;
}

function isPlainObject(json: Json): json is Record<string, Json> {
  return typeof json === "object" && json !== null && !Array.isArray(json);
}

/** One attribute value from DynamoDB JSON; `depth` is the nesting level of this value (1 at the top). */
export function parseAttributeValue(json: Json, depth = 1): Result<AttributeValue> {
  if (!isPlainObject(json)) return serializationError("Unexpected value type in payload: an AttributeValue is a JSON object");
  if (depth > nestingDepthMax) return validationError(attributeValueMessages.nesting);
  // One pass over the object's own keys (usually exactly one) instead of probing all ten types.
  let type: string | undefined;
  let keys = 0;
  for (const key in json) {
    keys++;
    if (!typeNames.has(key) || !Object.hasOwn(json, key) || json[key] === null || json[key] === undefined) continue;
    if (type !== undefined) return validationError(attributeValueMessages.severalTypes);
    type = key;
  }
  if (type === undefined) return validationError(attributeValueMessages.empty);
  const member = json[type];
  // Built once: a request's {"S": ...}, {"N": ...} (already normalised) or {"BOOL": ...} object
  // with no other key already has the model's shape, so it is the model (no copy); the model is
  // read-only, and the parsed request is this request's alone.
  if (keys === 1) {
    if (type === "S" && typeof member === "string") return hasLoneSurrogate(member) ? serializationError(attributeValueMessages.loneSurrogate) : ok(json as AttributeValue);
    if (type === "BOOL" && typeof member === "boolean") return ok(json as AttributeValue);
    if (type === "N" && typeof member === "string") {
      const number = normalizeNumber(member);
      if (number.ok && number.value === member) return ok(json as AttributeValue);
    }
  }
  return parseTyped(type, member, depth);
}

function parseTyped(type: string, json: Json, depth: number): Result<AttributeValue> {
  switch (type) {
    case "S":
      if (typeof json !== "string") return serializationError(attributeValueMessages.wrongJsonType("S", "a string"));
      return hasLoneSurrogate(json) ? serializationError(attributeValueMessages.loneSurrogate) : ok({ S: json });
    case "N":
      return parseNumberJson(json);
    case "B":
      return mapOk(parseBase64("B", json), (B) => ({ B }));
    case "BOOL":
      return typeof json === "boolean" ? ok({ BOOL: json }) : serializationError(attributeValueMessages.wrongJsonType("BOOL", "a boolean"));
    case "NULL":
      if (typeof json !== "boolean") return serializationError(attributeValueMessages.wrongJsonType("NULL", "a boolean"));
      return json ? ok({ NULL: true }) : validationError(attributeValueMessages.nullFalse);
    case "M":
      return mapOk(parseMap(json, depth), (M) => ({ M }));
    case "L":
      return parseList(json, depth);
    case "SS":
      return parseStringSet(json);
    case "NS":
      return parseNumberSet(json);
    default:
      return parseBinarySet(json);
  }
}

function mapOk<T, U>(result: Result<T>, f: (value: T) => U): Result<U> {
  return result.ok ? ok(f(result.value)) : result;
}

function parseNumberJson(json: Json): Result<AttributeValue> {
  if (typeof json !== "string") return serializationError(attributeValueMessages.wrongJsonType("N", "a string"));
  return mapOk(normalizeNumber(json), (N) => ({ N }));
}

const base64Syntax = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function parseBase64(type: string, json: Json): Result<Uint8Array> {
  if (typeof json !== "string") return serializationError(attributeValueMessages.wrongJsonType(type, "a base64 string"));
  if (!base64Syntax.test(json)) return serializationError(attributeValueMessages.base64(type));
  return ok(new Uint8Array(Buffer.from(json, "base64")));
}

function parseMap(json: Json, depth: number): Result<Record<string, AttributeValue>> {
  if (!isPlainObject(json)) return serializationError(attributeValueMessages.wrongJsonType("M", "an object"));
  const out: Record<string, AttributeValue> = {};
  // for-in over own keys: Object.entries would build an array per attribute.
  for (const name in json) {
    if (!Object.hasOwn(json, name)) continue;
    if (hasLoneSurrogate(name)) return serializationError(attributeValueMessages.loneSurrogate);
    const value = parseAttributeValue(json[name], depth + 1);
    if (!value.ok) return value;
    defineEntry(out, name, value.value);
  }
  return ok(out);
}

/**
 * Sets a property even when the name is "__proto__", which plain assignment would not (it would
 * set the prototype). Every other name is assigned: defineProperty costs several times more.
 */
export function defineEntry<T>(target: Record<string, T>, name: string, value: T): void {
  if (name === "__proto__") Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
  else target[name] = value;
}

function parseList(json: Json, depth: number): Result<AttributeValue> {
  if (!Array.isArray(json)) return serializationError(attributeValueMessages.wrongJsonType("L", "an array"));
  const out: AttributeValue[] = [];
  for (const member of json) {
    const value = parseAttributeValue(member, depth + 1);
    if (!value.ok) return value;
    out.push(value.value);
  }
  return ok({ L: out });
}

function parseStringSet(json: Json): Result<AttributeValue> {
  if (!Array.isArray(json) || !json.every((m) => typeof m === "string")) {
    return serializationError(attributeValueMessages.wrongJsonType("SS", "an array of strings"));
  }
  const members = json as string[];
  if (members.some(hasLoneSurrogate)) return serializationError(attributeValueMessages.loneSurrogate);
  if (members.length === 0) return validationError(attributeValueMessages.emptyStringSet);
  if (new Set(members).size !== members.length) return validationError(attributeValueMessages.duplicates(members));
  return ok({ SS: members });
}

function parseNumberSet(json: Json): Result<AttributeValue> {
  if (!Array.isArray(json) || !json.every((m) => typeof m === "string")) {
    return serializationError(attributeValueMessages.wrongJsonType("NS", "an array of strings"));
  }
  if (json.length === 0) return validationError(attributeValueMessages.emptyNumberSet);
  const members: string[] = [];
  for (const text of json as string[]) {
    const number = normalizeNumber(text);
    if (!number.ok) return number;
    members.push(number.value);
  }
  // Duplicates are judged after normalisation: "1" and "1.0" are one number.
  if (new Set(members).size !== members.length) return validationError(attributeValueMessages.duplicates(json as string[]));
  return ok({ NS: members });
}

function parseBinarySet(json: Json): Result<AttributeValue> {
  if (!Array.isArray(json)) return serializationError(attributeValueMessages.wrongJsonType("BS", "an array of base64 strings"));
  if (json.length === 0) return validationError(attributeValueMessages.emptyBinarySet);
  const members: Uint8Array[] = [];
  for (const text of json) {
    const bytes = parseBase64("BS", text);
    if (!bytes.ok) return bytes;
    members.push(bytes.value);
  }
  if (new Set(json as string[]).size !== members.length) return validationError(attributeValueMessages.duplicates(json as string[]));
  return ok({ BS: members });
}

/** A whole item (or key) from DynamoDB JSON: an object of attribute names to values. */
export function parseItem(json: Json): Result<Item> {
  if (!isPlainObject(json)) return serializationError("Unexpected value type in payload: an item is a JSON object");
  return parseMap(json, 0);
}

/** A map of attribute values with arbitrary keys, e.g. ExpressionAttributeValues. */
export const parseAttributeValueMap = parseItem;

/**
 * DynamoDB JSON of a value, for an answer about to be serialised. Values whose model is already
 * their JSON (S, N, BOOL, NULL, SS, NS) are returned as they are, not copied (the model is
 * read-only); only binaries (base64 on the wire) and the maps and lists holding them are built anew.
 */
export function attributeValueToJson(value: AttributeValue): Json {
  if ("S" in value || "N" in value) return value;
  if ("B" in value) return { B: toBase64(value.B) };
  if ("BS" in value) return { BS: value.BS.map(toBase64) };
  if ("M" in value) return { M: itemToJson(value.M) };
  if ("L" in value) return { L: value.L.map(attributeValueToJson) };
  return value;
}

export function itemToJson(item: Item): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const name in item) if (Object.hasOwn(item, name)) defineEntry(out, name, attributeValueToJson(item[name]!));
  return out;
}

function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

