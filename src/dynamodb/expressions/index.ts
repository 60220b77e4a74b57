/**
 * DynamoDB's expression languages: condition, filter, update, projection and key condition
 * expressions, parsed from peggy grammars, resolved against ExpressionAttributeNames and
 * ExpressionAttributeValues, and evaluated over the typed model (../model).
 *
 * @example
 * const compiled = compileExpressions({
 *   conditionExpression: "attribute_not_exists(#v) OR #v < :max",
 *   updateExpression: "SET #v = #v + :one",
 *   expressionAttributeNames: { "#v": "version" },
 *   expressionAttributeValues: { ":max": { N: "10" }, ":one": { N: "1" } },
 * });
 * if (compiled.ok && evaluateCondition(compiled.value.condition!, item)) {
 *   const outcome = applyUpdate(compiled.value.update!, item);
 * }
 */
export * from "./expression-ast.js";
export * from "./key-condition.js";
export * from "./compile-expressions.js";
export * from "./evaluate-condition.js";
export * from "./apply-update.js";
export * from "./project-item.js";
export * from "./expression-attribute-values.js";
export { valueAtPath } from "./document-path-access.js";
export { expressionBytesMax, type ExpressionKind } from "./expression-parser.js";
export { inOperandsMax } from "./condition-builder.js";
export { isReservedWord, reservedWords } from "./reserved-words.js";
