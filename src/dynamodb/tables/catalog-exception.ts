import type { CatalogFailure } from "../../catalog/table-catalog.js";
import { DynamoException } from "../protocol/dynamo-exception.js";

/**
 * The catalog's failures other than exists/not-found, in DynamoDB's words: too many tables is
 * the account quota (LimitExceededException); options the catalog refuses are a
 * ValidationException; a change no member could take is ServiceUnavailable (503, retried by
 * the SDK).
 */
export function catalogException(code: CatalogFailure["code"], message: string): DynamoException {
  switch (code) {
    case "TooManyTables":
      return new DynamoException("LimitExceededException", message);
    case "InvalidTableOptions":
    case "TableExists":
    case "TableNotFound":
      return new DynamoException("ValidationException", message);
    case "CatalogUnavailable":
      return new DynamoException("ServiceUnavailable", message, 503);
  }
}
