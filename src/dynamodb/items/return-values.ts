import { validationException } from "../protocol/dynamo-exception.js";
import type { RequestReader } from "../protocol/request-reader.js";

/** ReturnValues (API reference, PutItem/UpdateItem/DeleteItem). */
export type ReturnValues = "NONE" | "ALL_OLD" | "UPDATED_OLD" | "ALL_NEW" | "UPDATED_NEW";

export const returnValuesAll: readonly ReturnValues[] = ["NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"];

const returnValuesRule = { oneOf: returnValuesAll };

export function readReturnValues(reader: RequestReader): ReturnValues {
  return (reader.string("ReturnValues", returnValuesRule) ?? "NONE") as ReturnValues;
}

/** PutItem and DeleteItem can only return the old item. */
export function checkOldOnly(returnValues: ReturnValues): void {
  if (returnValues !== "NONE" && returnValues !== "ALL_OLD") throw validationException("ReturnValues can only be ALL_OLD or NONE");
}
