import type { AttributeValue } from "../model/attribute-value.js";
import { parseAttributeValue } from "../model/attribute-value-json.js";
import { ok, serializationError, validationError, type Result } from "../model/validation-error.js";

/**
 * The request's ExpressionAttributeValues and ExpressionAttributeNames from JSON, with
 * DynamoDB's checks on the maps themselves (API reference, "ExpressionAttributeValues"):
 * every key a placeholder (":x", "#x"), every value a valid attribute value, the value's
 * refusal reported with the key it belongs to.
 */
const valueKey = /^:[a-zA-Z0-9_]+$/;
const nameKey = /^#[a-zA-Z0-9_]+$/;

function isPlainObject(json: unknown): json is Record<string, unknown> {
  return typeof json === "object" && json !== null && !Array.isArray(json);
}

export function parseExpressionAttributeValues(json: unknown): Result<Record<string, AttributeValue>> {
  if (!isPlainObject(json)) return serializationError("Unexpected value type in payload: ExpressionAttributeValues is a JSON object");
  const out: Record<string, AttributeValue> = {};
  for (const [key, member] of Object.entries(json)) {
    if (!valueKey.test(key)) return validationError(`ExpressionAttributeValues contains invalid key: Syntax error; key: "${key}"`);
    const value = parseAttributeValue(member);
    if (!value.ok) {
      if (value.error.type !== "ValidationException") return value;
      return validationError(`ExpressionAttributeValues contains invalid value: ${value.error.message} for key ${key}`);
    }
    out[key] = value.value;
  }
  return ok(out);
}

export function parseExpressionAttributeNames(json: unknown): Result<Record<string, string>> {
  if (!isPlainObject(json)) return serializationError("Unexpected value type in payload: ExpressionAttributeNames is a JSON object");
  const out: Record<string, string> = {};
  for (const [key, name] of Object.entries(json)) {
    if (typeof name !== "string") return serializationError(`Unexpected value type in payload: ExpressionAttributeNames ${key} is not a string`);
    if (!nameKey.test(key)) return validationError(`ExpressionAttributeNames contains invalid key: Syntax error; key: "${key}"`);
    if (name.length === 0) return validationError(`ExpressionAttributeNames contains invalid value: Empty attribute name for key ${key}`);
    out[key] = name;
  }
  return ok(out);
}
