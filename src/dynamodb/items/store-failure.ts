import type { StoreFailure } from "../../replica/store-result.js";
import { DynamoException, conditionalCheckFailed, validationException } from "../protocol/dynamo-exception.js";

/**
 * The store's expected failures in DynamoDB's words. A failed condition inside the atomic
 * change is ConditionalCheckFailedException; quorum trouble is what DynamoDB answers when it
 * cannot serve (ServiceUnavailable 503, or InternalServerError 500 when the outcome is unknown,
 * so the SDK retries only what is safe to retry); overload is a ThrottlingException the SDK
 * backs off from.
 */
export function storeException(failure: StoreFailure): DynamoException {
  switch (failure.code) {
    case "PreconditionFailed":
      return conditionalCheckFailed();
    case "BadRequest":
      return validationException(failure.message);
    case "TableNotFound":
      return new DynamoException("ResourceNotFoundException", "Requested resource not found");
    case "ItemNotFound":
      return new DynamoException("ResourceNotFoundException", failure.message);
    case "Overloaded":
      return new DynamoException("ThrottlingException", failure.message);
    case "Unavailable":
      return new DynamoException("ServiceUnavailable", failure.message, 503);
    case "Indeterminate":
      return new DynamoException("InternalServerError", `the outcome of the write is unknown: ${failure.message}`, 500);
    case "TooManySiblings":
      return new DynamoException("InternalServerError", failure.message, 500);
  }
}

/** Failures a batch reports back as unprocessed instead of failing the whole request. */
export function isRetryable(failure: StoreFailure): boolean {
  return failure.code === "Unavailable" || failure.code === "Overloaded" || failure.code === "Indeterminate";
}
