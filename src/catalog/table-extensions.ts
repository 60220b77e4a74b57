import type { TableExtensions } from "./table-definition.js";

/**
 * Checks a table's `extensions` before the catalog stores and replicates it: plain JSON data
 * (null, booleans, finite numbers, strings, arrays, plain objects), nested at most
 * `extensionsDepthMax` deep, and at most `bytesMax` bytes as canonical JSON. Plain data survives
 * MessagePack, JSON and structured clone unchanged, so every node stores and hashes the same
 * thing; the size bound keeps catalog messages and sync replies bounded.
 *
 * Returns the size in bytes, or a message naming what is wrong.
 */
export const extensionsDepthMax = 16;

const utf8 = new TextEncoder();

export type ExtensionsCheck = { ok: true; bytes: number } | { ok: false; message: string };

export function checkTableExtensions(value: unknown, bytesMax: number): ExtensionsCheck {
  if (!isPlainObject(value)) return { ok: false, message: "extensions must be a JSON object" };
  const problem = findProblem(value, "extensions", 0);
  if (problem !== undefined) return { ok: false, message: problem };
  const bytes = utf8.encode(JSON.stringify(value)).length;
  if (bytes > bytesMax) return { ok: false, message: `extensions are ${bytes} bytes as JSON; the limit is ${bytesMax}` };
  return { ok: true, bytes };
}

/** A deep copy, so a caller mutating its object later cannot change the stored definition. */
export function copyTableExtensions(value: TableExtensions): TableExtensions {
  return JSON.parse(JSON.stringify(value)) as TableExtensions;
}

function findProblem(value: unknown, path: string, depth: number): string | undefined {
  if (depth > extensionsDepthMax) return `${path} nests deeper than ${extensionsDepthMax} levels`;
  if (value === null || typeof value === "boolean" || typeof value === "string") return undefined;
  if (typeof value === "number") return Number.isFinite(value) ? undefined : `${path} is not a finite number`;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const problem = findProblem(value[i], `${path}[${i}]`, depth + 1);
      if (problem !== undefined) return problem;
    }
    return undefined;
  }
  if (!isPlainObject(value)) return `${path} is not plain JSON data`;
  for (const [key, inner] of Object.entries(value)) {
    const problem = findProblem(inner, `${path}.${key}`, depth + 1);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}
