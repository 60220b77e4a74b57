/**
 * The edge's error hierarchy (STYLE.md, "Errors"): a stable `code` for programs, an HTTP
 * status for the front door, and a message that names the action and the numbers, e.g.
 * `key is 2000 bytes; the limit is 1024`. Inside the core, expected failures are values;
 * they become a ShoalError only at the edge.
 */
export class ShoalError extends Error {
  override readonly name: string = "ShoalError";
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }

  toJSON(): { error: { code: string; message: string } & Record<string, unknown> } {
    return { error: { code: this.code, message: this.message, ...(this.details ?? {}) } };
  }
}

export const badRequest = (code: string, message: string) => new ShoalError(code, 400, message);
export const notFound = (code: string, message: string) => new ShoalError(code, 404, message);
export const conflict = (code: string, message: string) => new ShoalError(code, 409, message);
export const preconditionFailed = (message: string) => new ShoalError("PreconditionFailed", 412, message);
export const payloadTooLarge = (code: string, message: string) => new ShoalError(code, 413, message);
export const unavailable = (code: string, message: string) => new ShoalError(code, 503, message);
