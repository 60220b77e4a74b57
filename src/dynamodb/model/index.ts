/**
 * DynamoDB's data model: typed attribute values, DynamoDB JSON, numbers, sizes, key bytes and
 * the storage codec. Pure functions; expected failures are `Result` values carrying DynamoDB's
 * own messages.
 *
 * @example
 * const item = parseItem({ pk: { S: "cart" }, n: { N: "01.50" } });
 * if (item.ok) itemToJson(item.value); // { pk: { S: "cart" }, n: { N: "1.5" } }
 */
export * from "./attribute-value.js";
export * from "./validation-error.js";
export * from "./dynamo-number.js";
export * from "./attribute-value-json.js";
export * from "./attribute-value-order.js";
export * from "./item-size.js";
export * from "./key-bytes.js";
export * from "./key-attribute-check.js";
export * from "./item-codec.js";
