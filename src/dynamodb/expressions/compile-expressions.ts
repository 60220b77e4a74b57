import type { AttributeValue } from "../model/attribute-value.js";
import type { Result } from "../model/validation-error.js";
import type { ResolvedCondition, ResolvedProjection, ResolvedUpdate } from "./expression-ast.js";
import type { KeyCondition, KeySchema } from "./key-condition.js";

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

/**
 * Parses every expression of a request, substitutes its placeholders and checks them together
 * as DynamoDB does (an undefined placeholder, or one defined but used by no expression, is a
 * ValidationException), in DynamoDB's order.
 */
export function compileExpressions(input: ExpressionInput): Result<CompiledExpressions> {
  void input;
  throw new Error("compileExpressions: not implemented yet");
}
