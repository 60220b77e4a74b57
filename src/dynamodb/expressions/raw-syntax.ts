import type { ParsedPathElement } from "./expression-ast.js";

/**
 * What the grammar (expression-grammar.ts) produces: a syntax tree that is as permissive as
 * the syntax, so that the builders can refuse misuse with DynamoDB's own messages (a function
 * call is a function call here, whatever its name and arity; parentheses are kept, since
 * DynamoDB refuses redundant ones).
 */
export interface RawPath {
  readonly type: "path";
  readonly elements: readonly ParsedPathElement[];
}

export interface RawValue {
  readonly type: "value";
  readonly ref: string;
}

export interface RawCall {
  readonly type: "call";
  readonly name: string;
  readonly args: readonly RawOperand[];
}

export type RawOperand = RawPath | RawValue | RawCall;

export type RawCondition =
  | { readonly type: "compare"; readonly op: "=" | "<>" | "<" | "<=" | ">" | ">="; readonly left: RawOperand; readonly right: RawOperand }
  | { readonly type: "between"; readonly operand: RawOperand; readonly low: RawOperand; readonly high: RawOperand }
  | { readonly type: "in"; readonly operand: RawOperand; readonly list: readonly RawOperand[] }
  | { readonly type: "and" | "or"; readonly left: RawCondition; readonly right: RawCondition }
  | { readonly type: "not"; readonly condition: RawCondition }
  | { readonly type: "parens"; readonly condition: RawCondition }
  | { readonly type: "function"; readonly call: RawCall };

export type RawSetValue =
  | { readonly type: "plus" | "minus"; readonly left: RawOperand; readonly right: RawOperand }
  | { readonly type: "operand"; readonly operand: RawOperand };

export type RawUpdateClause =
  | { readonly type: "SET"; readonly actions: readonly { readonly path: RawPath; readonly value: RawSetValue }[] }
  | { readonly type: "REMOVE"; readonly paths: readonly RawPath[] }
  | { readonly type: "ADD" | "DELETE"; readonly actions: readonly { readonly path: RawPath; readonly value: RawOperand }[] };

export interface RawUpdate {
  readonly clauses: readonly RawUpdateClause[];
}

export type RawProjection = readonly RawPath[];
