import type { AttributeValue, KeyAttributeType } from "./attribute-value.js";
import { attributeTypeOf } from "./attribute-value.js";
import { keyBytes } from "./key-bytes.js";
import { ok, validationError, type Result } from "./validation-error.js";

/**
 * DynamoDB's checks on a key attribute value (developer guide, "Service, account, and table
 * quotas": partition key 2048 bytes, sort key 1024 bytes; key attributes may not be empty).
 * The caller names the attribute and its declared type from the table's key schema.
 */
export const partitionKeyBytesMax = 2048;
export const sortKeyBytesMax = 1024;

export const keyMessages = {
  typeMismatch: (name: string, expected: string, actual: string) =>
    `One or more parameter values were invalid: Type mismatch for key ${name} expected: ${expected} actual: ${actual}`,
  emptyString: (name: string) =>
    `One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: ${name}`,
  emptyBinary: (name: string) =>
    `One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty binary value. Key: ${name}`,
  partitionKeyTooLarge: `One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of${partitionKeyBytesMax} bytes`,
  sortKeyTooLarge: `One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of ${sortKeyBytesMax} bytes`,
};

export interface KeyAttributeSpec {
  readonly name: string;
  readonly type: KeyAttributeType;
  readonly role: "partition" | "sort";
}

/** Checks one key attribute's value and returns its order-preserving bytes (key-bytes.ts). */
export function checkKeyAttribute(spec: KeyAttributeSpec, value: AttributeValue): Result<Uint8Array> {
  const actual = attributeTypeOf(value);
  if (actual !== spec.type) return validationError(keyMessages.typeMismatch(spec.name, spec.type, actual));
  if ("S" in value && value.S.length === 0) return validationError(keyMessages.emptyString(spec.name));
  if ("B" in value && value.B.length === 0) return validationError(keyMessages.emptyBinary(spec.name));
  const size = "S" in value ? Buffer.byteLength(value.S, "utf8") : "B" in value ? value.B.length : 0;
  if (spec.role === "partition" && size > partitionKeyBytesMax) return validationError(keyMessages.partitionKeyTooLarge);
  if (spec.role === "sort" && size > sortKeyBytesMax) return validationError(keyMessages.sortKeyTooLarge);
  return ok(keyBytes(value));
}
