import { ShoalError, badRequest, payloadTooLarge } from "../errors.js";
import type { Limits } from "../limits.js";
import { readBody } from "./read-body.js";
import type { HttpReply, ShoalRequest } from "./shoal-response.js";

/**
 * The body of a JSON endpoint (tables, batch): Content-Type must be application/json (415
 * otherwise), at most limits.jsonBodyBytesMax bytes (413), and well-formed (400 InvalidJson).
 */
export async function readJsonBody(req: ShoalRequest, res: HttpReply, limits: Limits): Promise<unknown> {
  const type = req.headers["content-type"];
  if (type === undefined || !isJson(type)) {
    throw new ShoalError("UnsupportedMediaType", 415, `this endpoint takes application/json, got ${type === undefined ? "no Content-Type" : `"${type.slice(0, 100)}"`}`);
  }
  const max = limits.jsonBodyBytesMax;
  const body = await readBody(req, res, max, (bytes, exact) => payloadTooLarge("RequestTooLarge", `request body is ${exact ? bytes : `more than ${max}`} bytes; the limit is ${max}`));
  try {
    return JSON.parse(body.toString("utf8"));
  } catch (error) {
    throw badRequest("InvalidJson", `request body is not valid JSON: ${(error as Error).message}`);
  }
}

function isJson(contentType: string): boolean {
  const semicolon = contentType.indexOf(";");
  const mediaType = (semicolon < 0 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
  return mediaType === "application/json";
}

/** A plain JSON object (not null, not an array), or a 400 with `code`. */
export function requireObject(value: unknown, code: string, what: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw badRequest(code, `${what} must be a JSON object`);
  return value as Record<string, unknown>;
}

/** Refuses fields a request does not define, so a typo is an error instead of being ignored. */
export function refuseUnknownFields(value: Record<string, unknown>, known: readonly string[], code: string, what: string): void {
  for (const field of Object.keys(value)) {
    if (!known.includes(field)) throw badRequest(code, `${what} has an unknown field "${field.slice(0, 64)}"; known fields: ${known.join(", ")}`);
  }
}
