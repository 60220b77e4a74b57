import type { IncomingHttpHeaders } from "node:http";

/**
 * SigV4's canonical request (AWS General Reference, "Create a canonical request"): method,
 * URI-encoded path, sorted canonical query string, the signed headers as `name:value\n` (names
 * lower-cased, values trimmed with inner runs of spaces collapsed, repeated headers joined with
 * commas), the signed header names, and the hex SHA-256 of the payload.
 */
export interface CanonicalRequestInput {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  signedHeaders: readonly string[];
  payloadHash: string;
}

export function canonicalRequest(input: CanonicalRequestInput): string {
  const queryStart = input.url.indexOf("?");
  const path = queryStart < 0 ? input.url : input.url.slice(0, queryStart);
  const query = queryStart < 0 ? "" : input.url.slice(queryStart + 1);
  const headerLines = input.signedHeaders.map((name) => `${name}:${canonicalHeaderValue(input.headers[name])}\n`).join("");
  return [input.method, canonicalPath(path), canonicalQuery(query), headerLines, input.signedHeaders.join(";"), input.payloadHash].join("\n");
}

function canonicalHeaderValue(value: string | string[] | undefined): string {
  const values = value === undefined ? [] : Array.isArray(value) ? value : [value];
  return values.map((v) => v.trim().replace(/\s+/g, " ")).join(",");
}

function canonicalPath(path: string): string {
  if (path === "" || path === "/") return "/";
  return path
    .split("/")
    .map((segment) => uriEncode(decodeURIComponent(segment)))
    .join("/");
}

function canonicalQuery(query: string): string {
  if (query === "") return "";
  return query
    .split("&")
    .map((pair) => {
      const eq = pair.indexOf("=");
      const name = decodeURIComponent(eq < 0 ? pair : pair.slice(0, eq));
      const value = eq < 0 ? "" : decodeURIComponent(pair.slice(eq + 1));
      return [uriEncode(name), uriEncode(value)] as const;
    })
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join("&");
}

/** RFC 3986 unreserved characters stay; everything else is %XX (upper-case hex). */
function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
