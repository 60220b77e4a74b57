import { ShoalError } from "../errors.js";
import type { ClientFailure } from "./client-messages.js";

/**
 * A node's failure answer as the ShoalError the client throws: the node's code kept as it is,
 * the HTTP status the REST edge would use for it (replica/store-result.ts), and a message that
 * names the action and then the node's own words (which carry the numbers, e.g. "1 of 2
 * required acknowledgements").
 */
const statusByCode: Readonly<Record<string, number>> = {
  BadRequest: 400,
  PreconditionFailed: 412,
  ItemNotFound: 404,
  TableNotFound: 404,
  TooManySiblings: 409,
  Overloaded: 503,
  Unavailable: 503,
  Indeterminate: 504,
};

export function clientFailureError(failure: ClientFailure, action: string): ShoalError {
  return new ShoalError(failure.code, statusByCode[failure.code] ?? 500, `cannot ${action}: ${failure.message}`);
}
