import { serializationException, validationException } from "./dynamo-exception.js";

/**
 * Reads the members of a DynamoDB request body the way DynamoDB's service framework does,
 * in two kinds of failure:
 *  - a member of the wrong JSON type is a SerializationException at once
 *    ("NUMBER_VALUE cannot be converted to String");
 *  - constraint violations (missing required member, length, range, enum) are collected and
 *    reported together as one ValidationException: "2 validation errors detected: Value null at
 *    'tableName' failed to satisfy constraint: Member must not be null; Value ...".
 * Operations read every member first, then call `finish()`, then run their semantic checks,
 * which is DynamoDB's order. Unknown members are ignored, as DynamoDB ignores them.
 */
export type JsonObject = Record<string, unknown>;

export class RequestReader {
  private readonly violations: string[] = [];

  constructor(readonly body: JsonObject) {}

  /** A violation found by the caller (e.g. a nested member), in DynamoDB's words. */
  violation(value: unknown, path: string, constraint: string): void {
    this.violations.push(`Value ${renderValue(value)} at '${path}' failed to satisfy constraint: ${constraint}`);
  }

  /** Throws the collected constraint violations as one ValidationException. */
  finish(): void {
    const count = this.violations.length;
    if (count === 0) return;
    throw validationException(`${count} validation error${count === 1 ? "" : "s"} detected: ${this.violations.join("; ")}`);
  }

  string(member: string, options: { required?: boolean; path?: string; lengthMin?: number; lengthMax?: number; pattern?: RegExp; oneOf?: readonly string[] } = {}): string | undefined {
    const value = this.body[member];
    if (value === undefined || value === null) {
      if (options.required === true) this.violation(null, options.path ?? lowerFirst(member), "Member must not be null");
      return undefined;
    }
    const text = expectString(value);
    if (options.lengthMin !== undefined && text.length < options.lengthMin) this.violation(text, options.path ?? lowerFirst(member), `Member must have length greater than or equal to ${options.lengthMin}`);
    if (options.lengthMax !== undefined && text.length > options.lengthMax) this.violation(text, options.path ?? lowerFirst(member), `Member must have length less than or equal to ${options.lengthMax}`);
    if (options.pattern !== undefined && !options.pattern.test(text)) this.violation(text, options.path ?? lowerFirst(member), `Member must satisfy regular expression pattern: ${options.pattern.source.replace(/^\^|\$$/g, "")}`);
    if (options.oneOf !== undefined && !options.oneOf.includes(text)) this.violation(text, options.path ?? lowerFirst(member), `Member must satisfy enum value set: [${options.oneOf.join(", ")}]`);
    return text;
  }

  integer(member: string, options: { required?: boolean; path?: string; min?: number; max?: number } = {}): number | undefined {
    const value = this.body[member];
    if (value === undefined || value === null) {
      if (options.required === true) this.violation(null, options.path ?? lowerFirst(member), "Member must not be null");
      return undefined;
    }
    const number = expectInteger(value);
    if (options.min !== undefined && number < options.min) this.violation(number, options.path ?? lowerFirst(member), `Member must have value greater than or equal to ${options.min}`);
    if (options.max !== undefined && number > options.max) this.violation(number, options.path ?? lowerFirst(member), `Member must have value less than or equal to ${options.max}`);
    return number;
  }

  boolean(member: string): boolean | undefined {
    const value = this.body[member];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "boolean") throw serializationException(`${jsonKind(value)} cannot be converted to Boolean`);
    return value;
  }

  object(member: string, options: { required?: boolean; path?: string } = {}): JsonObject | undefined {
    const value = this.body[member];
    if (value === undefined || value === null) {
      if (options.required === true) this.violation(null, options.path ?? lowerFirst(member), "Member must not be null");
      return undefined;
    }
    return expectObject(value);
  }

  array(member: string, options: { required?: boolean; path?: string; lengthMin?: number; lengthMax?: number } = {}): unknown[] | undefined {
    const value = this.body[member];
    if (value === undefined || value === null) {
      if (options.required === true) this.violation(null, options.path ?? lowerFirst(member), "Member must not be null");
      return undefined;
    }
    if (!Array.isArray(value)) throw serializationException(jsonKind(value) === "START_OBJECT" ? "Start of structure or map found where not expected" : `Unexpected value type in payload: ${jsonKind(value)}`);
    if (options.lengthMin !== undefined && value.length < options.lengthMin) this.violation(value, options.path ?? lowerFirst(member), `Member must have length greater than or equal to ${options.lengthMin}`);
    if (options.lengthMax !== undefined && value.length > options.lengthMax) this.violation(value, options.path ?? lowerFirst(member), `Member must have length less than or equal to ${options.lengthMax}`);
    return value;
  }

  /** A map member (e.g. ExpressionAttributeNames): a JSON object whose values the caller reads. */
  map(member: string): JsonObject | undefined {
    return this.object(member);
  }
}

export function expectString(value: unknown): string {
  if (typeof value !== "string") throw serializationException(`${jsonKind(value)} cannot be converted to String`);
  return value;
}

export function expectInteger(value: unknown): number {
  if (typeof value !== "number") throw serializationException(`${jsonKind(value)} cannot be converted to Integer`);
  if (!Number.isSafeInteger(value)) throw serializationException(`${value} is not an integer`);
  return value;
}

export function expectObject(value: unknown): JsonObject {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw serializationException(Array.isArray(value) ? "Start of list found where not expected" : `Unexpected value type in payload: ${jsonKind(value)}`);
  }
  return value as JsonObject;
}

/** The Jackson token names DynamoDB's messages use. */
export function jsonKind(value: unknown): string {
  if (value === null) return "VALUE_NULL";
  if (typeof value === "string") return "STRING_VALUE";
  if (typeof value === "number") return "NUMBER_VALUE";
  if (value === true) return "TRUE_VALUE";
  if (value === false) return "FALSE_VALUE";
  if (Array.isArray(value)) return "START_ARRAY";
  return "START_OBJECT";
}

function renderValue(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "string") return `'${value}'`;
  if (typeof value === "number") return String(value);
  return `'${JSON.stringify(value).slice(0, 200)}'`;
}

export function lowerFirst(name: string): string {
  return name.length === 0 ? name : name[0]!.toLowerCase() + name.slice(1);
}
