import { assert } from "../../assert.js";
import type { AttributeValue } from "../model/attribute-value.js";
import { validationError, type Result } from "../model/validation-error.js";
import { buildCondition } from "./condition-builder.js";
import { resolveCondition } from "./condition-resolver.js";
import { pathClashMessage, reservedWordMessage, pathDepthMessage } from "./document-path-rules.js";
import type { ParsedCondition, ParsedProjection, ParsedUpdate, ResolvedCondition, ResolvedProjection, ResolvedUpdate } from "./expression-ast.js";
import { catchFailure, fail, failPlain, unwrap } from "./expression-failure.js";
import { parseRawCondition, parseRawProjection, parseRawUpdate } from "./expression-parser.js";
import { buildKeyCondition } from "./key-condition-builder.js";
import { ParseCache } from "./parse-cache.js";
import type { KeyCondition, KeySchema } from "./key-condition.js";
import { PlaceholderResolver } from "./placeholder-resolver.js";
import { buildUpdate } from "./update-builder.js";
import { resolveUpdate } from "./update-resolver.js";

/** The expression parameters of one DynamoDB request, as the request carries them. */
export interface ExpressionInput {
  readonly conditionExpression?: string;
  readonly filterExpression?: string;
  readonly updateExpression?: string;
  readonly projectionExpression?: string;
  readonly keyConditionExpression?: string;
  /** The table's key schema; required with keyConditionExpression. */
  readonly keySchema?: KeySchema;
  readonly expressionAttributeNames?: Readonly<Record<string, string>>;
  readonly expressionAttributeValues?: Readonly<Record<string, AttributeValue>>;
}

/** Each expression of the request parsed and resolved; absent when the request had none. */
export interface CompiledExpressions {
  readonly condition?: ResolvedCondition;
  readonly filter?: ResolvedCondition;
  readonly update?: ResolvedUpdate;
  readonly projection?: ResolvedProjection;
  readonly keyCondition?: KeyCondition;
}

interface ParsedExpressions {
  keyCondition?: ParsedCondition;
  condition?: ParsedCondition;
  filter?: ParsedCondition;
  update?: ParsedUpdate;
  projection?: ParsedProjection;
}

/**
 * Parses every expression of a request, substitutes its placeholders and checks them together
 * as DynamoDB does, in this order: the maps themselves (not empty, only with expressions);
 * each expression's syntax and structure; placeholders (undefined ones) and values; finally
 * placeholders that no expression used.
 */
export function compileExpressions(input: ExpressionInput): Result<CompiledExpressions> {
  const mapsCheck = checkMaps(input);
  if (mapsCheck !== undefined) return validationError(mapsCheck);
  return catchFailure(() => {
    const parsed = parseAll(input);
    const resolver = new PlaceholderResolver(input.expressionAttributeNames ?? {}, input.expressionAttributeValues ?? {});
    const compiled = resolveAll(input, parsed, resolver);
    const unusedNames = resolver.unusedNames();
    if (unusedNames.length > 0) failPlain(`Value provided in ExpressionAttributeNames unused in expressions: keys: {${unusedNames.join(", ")}}`);
    const unusedValues = resolver.unusedValues();
    if (unusedValues.length > 0) failPlain(`Value provided in ExpressionAttributeValues unused in expressions: keys: {${unusedValues.join(", ")}}`);
    return compiled;
  });
}

function hasExpression(input: ExpressionInput): boolean {
  return [input.conditionExpression, input.filterExpression, input.updateExpression, input.projectionExpression, input.keyConditionExpression].some(
    (text) => text !== undefined,
  );
}

function checkMaps(input: ExpressionInput): string | undefined {
  const names = input.expressionAttributeNames;
  const values = input.expressionAttributeValues;
  if (names !== undefined && !hasExpression(input)) return "ExpressionAttributeNames can only be specified when using expressions";
  if (values !== undefined && !hasExpression(input)) return "ExpressionAttributeValues can only be specified when using expressions";
  if (names !== undefined && Object.keys(names).length === 0) return "ExpressionAttributeNames must not be empty";
  if (values !== undefined && Object.keys(values).length === 0) return "ExpressionAttributeValues must not be empty";
  return undefined;
}

/**
 * Parsed expressions by text, one cache per kind (the kind names the expression in error
 * messages, so a text's parse is kind-specific). 1024 texts of each kind, none over 4 KB
 * (DynamoDB's own expression limit), bound the memory.
 */
export const parseCacheEntriesMax = 1024;
export const parseCacheTextLengthMax = 4096;
const parseCaches = {
  keyCondition: new ParseCache<ParsedCondition>(parseCacheEntriesMax, parseCacheTextLengthMax),
  filter: new ParseCache<ParsedCondition>(parseCacheEntriesMax, parseCacheTextLengthMax),
  condition: new ParseCache<ParsedCondition>(parseCacheEntriesMax, parseCacheTextLengthMax),
  update: new ParseCache<ParsedUpdate>(parseCacheEntriesMax, parseCacheTextLengthMax),
  projection: new ParseCache<ParsedProjection>(parseCacheEntriesMax, parseCacheTextLengthMax),
};

/** How many parsed texts each cache holds (tests). */
export function parseCacheSizes(): Record<keyof typeof parseCaches, number> {
  return {
    keyCondition: parseCaches.keyCondition.size,
    filter: parseCaches.filter.size,
    condition: parseCaches.condition.size,
    update: parseCaches.update.size,
    projection: parseCaches.projection.size,
  };
}

const parseKeyCondition = (text: string): ParsedCondition => buildCondition("KeyConditionExpression", unwrap(parseRawCondition("KeyConditionExpression", text)));
const parseFilter = (text: string): ParsedCondition => buildCondition("FilterExpression", unwrap(parseRawCondition("FilterExpression", text)));
const parseCondition = (text: string): ParsedCondition => buildCondition("ConditionExpression", unwrap(parseRawCondition("ConditionExpression", text)));
const parseUpdate = (text: string): ParsedUpdate => buildUpdate(unwrap(parseRawUpdate(text)));
const parseProjection = (text: string): ParsedProjection =>
  unwrap(parseRawProjection(text)).map((path) => {
    const message = reservedWordMessage(path.elements) ?? pathDepthMessage(path.elements);
    if (message !== undefined) fail("ProjectionExpression", message);
    return path.elements;
  });

function parseAll(input: ExpressionInput): ParsedExpressions {
  const parsed: ParsedExpressions = {};
  if (input.keyConditionExpression !== undefined) parsed.keyCondition = parseCaches.keyCondition.get(input.keyConditionExpression, parseKeyCondition);
  if (input.filterExpression !== undefined) parsed.filter = parseCaches.filter.get(input.filterExpression, parseFilter);
  if (input.conditionExpression !== undefined) parsed.condition = parseCaches.condition.get(input.conditionExpression, parseCondition);
  if (input.updateExpression !== undefined) parsed.update = parseCaches.update.get(input.updateExpression, parseUpdate);
  if (input.projectionExpression !== undefined) parsed.projection = parseCaches.projection.get(input.projectionExpression, parseProjection);
  return parsed;
}

function resolveAll(input: ExpressionInput, parsed: ParsedExpressions, resolver: PlaceholderResolver): CompiledExpressions {
  const compiled: { -readonly [K in keyof CompiledExpressions]: CompiledExpressions[K] } = {};
  if (parsed.keyCondition !== undefined) {
    const schema = input.keySchema;
    assert(schema !== undefined, "compileExpressions: keyConditionExpression needs keySchema");
    compiled.keyCondition = buildKeyCondition(resolveCondition("KeyConditionExpression", parsed.keyCondition, resolver), schema);
  }
  if (parsed.filter !== undefined) compiled.filter = resolveCondition("FilterExpression", parsed.filter, resolver);
  if (parsed.condition !== undefined) compiled.condition = resolveCondition("ConditionExpression", parsed.condition, resolver);
  if (parsed.update !== undefined) compiled.update = resolveUpdate(parsed.update, resolver);
  if (parsed.projection !== undefined) {
    const projection = parsed.projection.map((path) => unwrap(resolver.path("ProjectionExpression", path)));
    const clash = pathClashMessage(projection);
    if (clash !== undefined) fail("ProjectionExpression", clash);
    compiled.projection = projection;
  }
  return compiled;
}
