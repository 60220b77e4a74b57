import { ShoalError } from "../../errors.js";

/**
 * An error the DynamoDB front door answers with (API reference, "Common Errors" and each
 * operation's "Errors"): `type` is the exception name the SDKs map to an error class (it goes
 * into `__type` after the namespace), `status` DynamoDB's HTTP status for it (400 for client
 * errors, 500 for InternalServerError, 503 for ServiceUnavailable), `message` DynamoDB's text.
 * A ShoalError, so the node's generic error handling still recognises it.
 */
export type DynamoExceptionType =
  | "ValidationException"
  | "SerializationException"
  | "UnknownOperationException"
  | "ResourceNotFoundException"
  | "ResourceInUseException"
  | "ConditionalCheckFailedException"
  | "LimitExceededException"
  | "ProvisionedThroughputExceededException"
  | "ItemCollectionSizeLimitExceededException"
  | "MissingAuthenticationTokenException"
  | "UnrecognizedClientException"
  | "InvalidSignatureException"
  | "IncompleteSignatureException"
  | "AccessDeniedException"
  | "RequestEntityTooLargeException"
  | "InternalServerError"
  | "ServiceUnavailable"
  | "ThrottlingException";

/** The namespace DynamoDB's JSON protocol puts in front of the exception name. */
export const exceptionNamespace = "com.amazonaws.dynamodb.v20120810";

export class DynamoException extends ShoalError {
  override readonly name: string = "DynamoException";
  constructor(
    readonly type: DynamoExceptionType,
    message: string,
    status = 400,
  ) {
    super(type, status, message);
  }

  /** The body DynamoDB sends: the SDK takes the part of `__type` after `#` as the error name. */
  toBody(): { __type: string; message: string } {
    return { __type: `${exceptionNamespace}#${this.type}`, message: this.message };
  }
}

export const validationException = (message: string): DynamoException => new DynamoException("ValidationException", message);

export const serializationException = (message: string): DynamoException => new DynamoException("SerializationException", message);

/** DynamoDB's wording for item operations on a table that does not exist. */
export const tableNotFound = (tableName?: string): DynamoException =>
  new DynamoException("ResourceNotFoundException", tableName === undefined ? "Requested resource not found" : `Requested resource not found: Table: ${tableName} not found`);

export const conditionalCheckFailed = (): DynamoException => new DynamoException("ConditionalCheckFailedException", "The conditional request failed");
