import { DynamoException } from "./dynamo-exception.js";

/**
 * The operation a request names (DynamoDB low-level API: `X-Amz-Target:
 * DynamoDB_20120810.<Operation>`) and the JSON protocol version of its content type. Both are
 * checked before the body is parsed, as DynamoDB does: an unknown or missing target is
 * UnknownOperationException, a content type other than x-amz-json-1.0/1.1 (or a missing one)
 * is a SerializationException-free refusal DynamoDB words as UnknownOperationException too.
 */
export const targetPrefix = "DynamoDB_20120810.";

export const jsonContentTypes = ["application/x-amz-json-1.0", "application/x-amz-json-1.1"] as const;

export function parseContentType(header: string | undefined): string | DynamoException {
  // What the SDKs send, exactly: no split, trim or lower-casing.
  if (header === jsonContentTypes[0] || header === jsonContentTypes[1]) return header;
  const base = (header ?? "").split(";")[0]!.trim().toLowerCase();
  const known = jsonContentTypes.find((type) => type === base);
  if (known !== undefined) return known;
  return new DynamoException("UnknownOperationException", `unsupported content type ${JSON.stringify((header ?? "").slice(0, 100))}; send application/x-amz-json-1.0`);
}

export function parseTarget(header: string | undefined, operations: ReadonlySet<string>): string | DynamoException {
  const target = header ?? "";
  const operation = target.startsWith(targetPrefix) ? target.slice(targetPrefix.length) : undefined;
  if (operation === undefined || !operations.has(operation)) {
    return new DynamoException("UnknownOperationException", `unknown operation ${JSON.stringify(target.slice(0, 100))}`);
  }
  return operation;
}
