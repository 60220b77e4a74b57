import type { RequestReader } from "../protocol/request-reader.js";

/** DynamoDB table names: 3 to 255 characters of a-z, A-Z, 0-9, '_', '-' and '.'. */
export const tableNamePattern = /^[a-zA-Z0-9_.-]+$/;
export const tableNameLengthMin = 3;
export const tableNameLengthMax = 255;

const tableNameRules = { lengthMin: tableNameLengthMin, lengthMax: tableNameLengthMax, pattern: tableNamePattern };
const requiredTableName = { ...tableNameRules, required: true };
const optionalTableName = { ...tableNameRules, required: false };

export function readTableName(reader: RequestReader, member = "TableName", required = true): string | undefined {
  return reader.string(member, required ? requiredTableName : optionalTableName);
}
