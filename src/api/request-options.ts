import type { IncomingHttpHeaders } from "node:http";
import type { Consistency } from "../catalog/table-definition.js";
import type { ReadOptions, WriteOptions } from "../coordinator/item-operations.js";
import type { QuorumOverrides } from "../coordinator/quorum-options.js";
import { badRequest, type ShoalError } from "../errors.js";
import { conditionFromHeaders } from "./item-request.js";

/**
 * The per-request options of an item read or write (issue 3 item 3, issue 4 item 1), from the
 * query string and headers:
 *
 *   GET    ?r=2&pr=1&consistency=strong|eventual
 *   PUT    ?w=2&dw=1&pw=1   X-Shoal-Context: <context of the read this write follows>
 *   DELETE ?w=2&dw=1&pw=1   X-Shoal-Context, If-Match / If-None-Match
 *
 * Here only the form is checked (whole numbers, a known consistency, a context of visible
 * ASCII): anything else is 400 InvalidArgument naming the parameter and its value. Whether the
 * numbers fit the table (r at most n, at least 1) is the coordinator's decision
 * (coordinator/quorum-options.ts), which answers BadRequest. Parameters a request does not use
 * are ignored, as before (e.g. `ttl` on a PUT).
 */
export const contextHeader = "x-shoal-context";

const readQuorumNames = ["r", "pr"] as const;
const writeQuorumNames = ["w", "dw", "pw"] as const;
/** A quorum value is at most the replica count; nine digits are far beyond any table's n. */
const wholeNumber = /^[0-9]{1,9}$/;
/** Contexts are opaque tokens; visible ASCII keeps them safe to echo back as a header. */
const contextText = /^[\x21-\x7e]+$/;

export function readOptionsFromRequest(query: string): ReadOptions {
  if (query === "") return { quorum: {} };
  const params = new URLSearchParams(query);
  const options: ReadOptions = { quorum: quorumOverrides(params, readQuorumNames) };
  const consistency = consistencyParam(params);
  if (consistency !== undefined) options.consistency = consistency;
  return options;
}

export function writeOptionsFromRequest(headers: IncomingHttpHeaders, query: string): WriteOptions {
  const quorum = query === "" ? {} : quorumOverrides(new URLSearchParams(query), writeQuorumNames);
  const options: WriteOptions = { quorum, condition: conditionFromHeaders(headers) };
  const context = contextFromHeaders(headers);
  if (context !== undefined) options.context = context;
  return options;
}

/** The X-Shoal-Context a write carries; absent or empty means a blind write (it saw nothing). */
export function contextFromHeaders(headers: IncomingHttpHeaders): string | undefined {
  const value = headers[contextHeader];
  if (value === undefined) return undefined;
  const text = (Array.isArray(value) ? value.join(",") : value).trim();
  if (text === "") return undefined;
  if (!contextText.test(text)) throw badRequest("InvalidContext", "X-Shoal-Context must be the context a read answered (visible ASCII, no spaces)");
  return text;
}

function quorumOverrides(params: URLSearchParams, names: readonly (keyof QuorumOverrides)[]): QuorumOverrides {
  const overrides: { -readonly [K in keyof QuorumOverrides]: number } = {};
  for (const name of names) {
    const text = singleParam(params, name);
    if (text === undefined) continue;
    if (!wholeNumber.test(text)) throw invalidArgument(name, text, "a whole number");
    overrides[name] = Number(text);
  }
  return overrides;
}

function consistencyParam(params: URLSearchParams): Consistency | undefined {
  const text = singleParam(params, "consistency");
  if (text === undefined) return undefined;
  if (text !== "strong" && text !== "eventual") throw invalidArgument("consistency", text, '"strong" or "eventual"');
  return text;
}

/** A parameter given once; twice is ambiguous, so refused. */
function singleParam(params: URLSearchParams, name: string): string | undefined {
  const values = params.getAll(name);
  if (values.length === 0) return undefined;
  if (values.length > 1) throw badRequest("InvalidArgument", `query parameter ${name} is given ${values.length} times; give it once`);
  return values[0];
}

function invalidArgument(name: string, value: string, expected: string): ShoalError {
  return badRequest("InvalidArgument", `query parameter ${name} must be ${expected}, got "${value.slice(0, 32)}"`);
}
