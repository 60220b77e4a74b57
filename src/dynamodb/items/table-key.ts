import type { ItemKeyParts } from "../../coordinator/item-operations.js";
import type { AttributeValue, Item } from "../model/attribute-value.js";
import { attributeTypeOf } from "../model/attribute-value.js";
import { hasLoneSurrogate, parseItem } from "../model/attribute-value-json.js";
import { checkKeyAttribute, keyMessages } from "../model/key-attribute-check.js";
import { keyFromBytes } from "../model/key-bytes.js";
import { isDigestPartitionKey, storagePartitionKey } from "../model/storage-partition-key.js";
import { ITEM_KEY_ENCODED_BYTES_MAX, encodedItemKeyLength } from "../../storage/item-key.js";
import { DynamoException, validationException } from "../protocol/dynamo-exception.js";
import { keyElements, type DynamoTable, type KeyElement } from "../tables/dynamo-table.js";
import { orThrow } from "./or-throw.js";

/**
 * An item's primary key under a table's key schema: the key attributes (for answers and
 * LastEvaluatedKey) and their order-preserving bytes (the store's ItemKeyParts).
 */
export interface TableKey {
  readonly attributes: Item;
  readonly parts: ItemKeyParts;
}

export const keySchemaMismatch = "The provided key element does not match the schema";

/**
 * A `Key` member (GetItem, DeleteItem, UpdateItem, BatchGetItem, ExclusiveStartKey): exactly
 * the key attributes, of the schema's types. DynamoDB answers every mismatch (missing, extra,
 * wrong type) with one message; empty values and oversized keys have their own.
 */
export function readKey(table: DynamoTable, json: unknown): TableKey {
  const plain = plainStringKey(table, json);
  return plain !== undefined ? keyOf(table, plain, "key") : readKeyGeneric(table, json);
}

/** `readKey` through the general parser alone (what the common path must agree with; tests compare them). */
export function readKeyGeneric(table: DynamoTable, json: unknown): TableKey {
  const key = orThrow(parseItem(json));
  const elements = keyElements(table.metadata.keySchema);
  const names = Object.keys(key);
  if (names.length !== elements.length || !elements.every((e) => Object.hasOwn(key, e.name))) throw validationException(keySchemaMismatch);
  for (const element of elements) {
    if (attributeTypeOf(key[element.name]!) !== element.type) throw validationException(keySchemaMismatch);
  }
  return keyOf(table, key, "key");
}

/**
 * The common `Key`, taken without the general parser: string key attributes, each exactly
 * `{"S": "<non-empty, well-formed text>"}`, and no other member. The model of such a key is
 * its JSON as it is (attribute-value-json.ts builds the same objects), so `keyOf` runs its
 * checks (sizes, storable) on it unchanged. Anything else (other types, extra or missing
 * members, an empty or malformed string, a "__proto__" name) answers undefined and goes
 * through `parseItem` and the schema checks, which word every error.
 */
function plainStringKey(table: DynamoTable, json: unknown): Item | undefined {
  if (typeof json !== "object" || json === null || Array.isArray(json)) return undefined;
  const { partitionKey, sortKey } = table.metadata.keySchema;
  if (partitionKey.type !== "S" || (sortKey !== undefined && sortKey.type !== "S")) return undefined;
  const members = json as Record<string, unknown>;
  let count = 0;
  for (const name in members) {
    if (!Object.hasOwn(members, name)) return undefined;
    count++;
  }
  if (count !== (sortKey === undefined ? 1 : 2)) return undefined;
  if (!isPlainString(members[partitionKey.name]) || (sortKey !== undefined && !isPlainString(members[sortKey.name]))) return undefined;
  return members as Item;
}

function isPlainString(value: unknown): value is { S: string } {
  if (typeof value !== "object" || value === null || Array.isArray(value) || Object.getPrototypeOf(value) !== Object.prototype) return false;
  let count = 0;
  for (const type in value) {
    if (type !== "S" || !Object.hasOwn(value, type)) return false;
    count++;
  }
  const text = (value as { S?: unknown }).S;
  return count === 1 && typeof text === "string" && text.length > 0 && !hasLoneSurrogate(text);
}

/**
 * An ExclusiveStartKey (Query, Scan): a key as `readKey` reads it, its errors prefixed as
 * DynamoDB prefixes them ("The provided starting key is invalid: The provided key element does
 * not match the schema").
 */
export function readStartKey(table: DynamoTable, json: unknown): TableKey {
  try {
    return readKey(table, json);
  } catch (error) {
    if (error instanceof DynamoException && error.type === "ValidationException") throw validationException(`The provided starting key is invalid: ${error.message}`);
    throw error;
  }
}

/**
 * The key of a whole item (PutItem, BatchWriteItem's PutRequest): every key attribute present
 * with its schema type; other attributes are the item's own.
 */
export function itemKey(table: DynamoTable, item: Item): TableKey {
  for (const element of keyElements(table.metadata.keySchema)) {
    const value = item[element.name];
    if (value === undefined) throw validationException(`One or more parameter values were invalid: Missing the key ${element.name} in the item`);
    const actual = attributeTypeOf(value);
    if (actual !== element.type) throw validationException(keyMessages.typeMismatch(element.name, element.type, actual));
  }
  return keyOf(table, item, "item");
}

function keyOf(table: DynamoTable, source: Item, _from: "key" | "item"): TableKey {
  const { partitionKey, sortKey } = table.metadata.keySchema;
  const partitionValue = source[partitionKey.name]!;
  const partitionBytes = storagePartitionKey(checkedBytes(partitionKey, partitionValue, "partition"));
  const attributes: Record<string, AttributeValue> = { [partitionKey.name]: partitionValue };
  if (sortKey === undefined) {
    checkStorable(partitionBytes);
    return { attributes, parts: { partitionKey: partitionBytes } };
  }
  const sortValue = source[sortKey.name]!;
  attributes[sortKey.name] = sortValue;
  const sortBytes = checkedBytes(sortKey, sortValue, "sort");
  checkStorable(partitionBytes, sortBytes);
  return { attributes, parts: { partitionKey: partitionBytes, sortKey: sortBytes } };
}

/**
 * Shoal's storage bound on a whole key (storage/item-key.ts): the stored partition key
 * (storage-partition-key.ts: at most 896 escaped bytes, or a 33-byte digest) and the sort key,
 * escaped, must fit one storage key (1969 bytes). Escaping doubles NUL bytes, so only a sort key
 * with many NULs (more than 42 beside a long partition key, more than 873 beside a digest) can
 * still exceed it; the message says so with the numbers.
 */
export function checkStorable(partitionKey: Uint8Array, sortKey?: Uint8Array): void {
  const encoded = encodedItemKeyLength(partitionKey, sortKey);
  if (encoded <= ITEM_KEY_ENCODED_BYTES_MAX) return;
  const partition = isDigestPartitionKey(partitionKey) ? `partition key (stored as its ${partitionKey.length}-byte digest)` : `${partitionKey.length}-byte partition key`;
  const sizes = sortKey === undefined ? partition : `${partition} and ${sortKey.length}-byte sort key`;
  throw validationException(
    `One or more parameter values were invalid: the ${sizes} encode to ${encoded} bytes (each NUL byte counts twice); Shoal stores keys of at most ${ITEM_KEY_ENCODED_BYTES_MAX} encoded bytes`,
  );
}

function checkedBytes(element: KeyElement, value: AttributeValue, role: "partition" | "sort"): Uint8Array {
  return orThrow(checkKeyAttribute({ name: element.name, type: element.type, role }, value));
}

/** The key attributes back from the store's key bytes; not for a digested partition key (storage-partition-key.ts), whose original is only in the item. */
export function keyFromParts(table: DynamoTable, parts: ItemKeyParts): Item {
  const { partitionKey, sortKey } = table.metadata.keySchema;
  if (isDigestPartitionKey(parts.partitionKey)) throw new Error("keyFromParts: a digested partition key has no bytes to decode; take the key from the item");
  const key: Record<string, AttributeValue> = { [partitionKey.name]: keyFromBytes(partitionKey.type, parts.partitionKey) };
  if (sortKey !== undefined && parts.sortKey !== undefined) key[sortKey.name] = keyFromBytes(sortKey.type, parts.sortKey);
  return key;
}

/** The key attributes of a stored item. */
export function keyAttributesOf(table: DynamoTable, item: Item): Item {
  const out: Record<string, AttributeValue> = {};
  for (const element of keyElements(table.metadata.keySchema)) {
    const value = item[element.name];
    if (value !== undefined) out[element.name] = value;
  }
  return out;
}
