import peggy from "peggy";
import { ok, validationError, type Result } from "../model/validation-error.js";
import { expressionGrammar } from "./expression-grammar.js";
import type { RawCondition, RawProjection, RawUpdate } from "./raw-syntax.js";

/**
 * Parses expression text with the grammar, generated once at module load. A syntax error
 * becomes DynamoDB's message: `Invalid <Parameter>: Syntax error; token: "<token>", near:
 * "<previous token, token, next token>"`, with "<EOF>" when the text ends too early.
 */
export type ExpressionKind =
  | "ConditionExpression"
  | "FilterExpression"
  | "KeyConditionExpression"
  | "UpdateExpression"
  | "ProjectionExpression";

/** DynamoDB's limit on any expression string (developer guide, "Expression parameters"). */
export const expressionBytesMax = 4096;
/**
 * Parentheses nested deeper than this are refused before parsing: the parser, the builders
 * and the evaluator recurse once per level, and 4 KB of "(" would otherwise exhaust the stack.
 */
export const expressionParenthesesDepthMax = 256;

const parser = peggy.generate(expressionGrammar, { allowedStartRules: ["condition", "update", "projection"] });

const startRules: Record<ExpressionKind, "condition" | "update" | "projection"> = {
  ConditionExpression: "condition",
  FilterExpression: "condition",
  KeyConditionExpression: "condition",
  UpdateExpression: "update",
  ProjectionExpression: "projection",
};

export function invalid<T = never>(kind: ExpressionKind, message: string): Result<T> {
  return validationError(`Invalid ${kind}: ${message}`);
}

/**
 * Clients send the same few expression strings over and over, and parsing is most of the cost
 * of compiling one, so parse results (syntax trees, which nothing mutates, and syntax errors)
 * are memoised per kind and text. Bounded; the least recently used entry goes first.
 */
export const parsedExpressionsCachedMax = 1024;
const parsedExpressions = new Map<string, Result<unknown>>();

function parseRaw(kind: ExpressionKind, text: string): Result<unknown> {
  const key = `${kind}\u0000${text}`;
  const cached = parsedExpressions.get(key);
  if (cached !== undefined) {
    parsedExpressions.delete(key);
    parsedExpressions.set(key, cached);
    return cached;
  }
  const parsed = parseUncached(kind, text);
  parsedExpressions.set(key, parsed);
  if (parsedExpressions.size > parsedExpressionsCachedMax) parsedExpressions.delete(parsedExpressions.keys().next().value!);
  return parsed;
}

function parseUncached(kind: ExpressionKind, text: string): Result<unknown> {
  if (text.trim().length === 0) return invalid(kind, "The expression can not be empty;");
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > expressionBytesMax) {
    return invalid(kind, `Expression size has exceeded the maximum allowed size; expression size: ${bytes}`);
  }
  const depth = parenthesesDepth(text);
  if (depth > expressionParenthesesDepthMax) {
    return invalid(kind, `The expression has parentheses nested too deeply; depth: ${depth}, limit: ${expressionParenthesesDepthMax}`);
  }
  try {
    return ok(parser.parse(text, { startRule: startRules[kind] }));
  } catch (error) {
    if (!(error instanceof parser.SyntaxError)) throw error;
    return invalid(kind, syntaxErrorMessage(text, error.location.start.offset));
  }
}

export function parseRawCondition(kind: "ConditionExpression" | "FilterExpression" | "KeyConditionExpression", text: string): Result<RawCondition> {
  return parseRaw(kind, text) as Result<RawCondition>;
}

export function parseRawUpdate(text: string): Result<RawUpdate> {
  return parseRaw("UpdateExpression", text) as Result<RawUpdate>;
}

export function parseRawProjection(text: string): Result<RawProjection> {
  return parseRaw("ProjectionExpression", text) as Result<RawProjection>;
}

function parenthesesDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  for (const char of text) {
    if (char === "(") deepest = Math.max(deepest, ++depth);
    else if (char === ")") depth--;
  }
  return deepest;
}

/** Tokens as DynamoDB's lexer sees them, only to name the offending token and its neighbours. */
const tokenPattern = /[#:]?[a-zA-Z0-9_]+|<>|<=|>=|\S/g;

interface Token {
  readonly text: string;
  readonly start: number;
  readonly end: number;
}

function tokenize(text: string): Token[] {
  return [...text.matchAll(tokenPattern)].map((m) => ({ text: m[0], start: m.index, end: m.index + m[0].length }));
}

function syntaxErrorMessage(text: string, offset: number): string {
  const tokens = tokenize(text);
  let at = tokens.findIndex((token) => token.end > offset);
  if (at === -1) at = tokens.length;
  // A lone ":" or "#" is where DynamoDB's lexer stops, though the grammar fails just after it.
  const previous = tokens[at - 1];
  if (previous !== undefined && previous.end === offset && (previous.text === ":" || previous.text === "#")) at -= 1;
  const token = tokens[at]?.text ?? "<EOF>";
  const first = tokens[Math.max(0, at - 1)];
  const last = tokens[Math.min(tokens.length - 1, at + 1)];
  const near = first === undefined || last === undefined ? "" : text.slice(first.start, last.end);
  return `Syntax error; token: "${token}", near: "${near}"`;
}
