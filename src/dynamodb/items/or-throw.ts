import type { Result } from "../model/validation-error.js";
import { DynamoException } from "../protocol/dynamo-exception.js";

/** Turns the model's and the expressions' failure values into the exception the edge answers with. */
export function orThrow<T>(result: Result<T>): T {
  if (result.ok) return result.value;
  throw new DynamoException(result.error.type, result.error.message);
}
