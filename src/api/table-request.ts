import { badRequest } from "../errors.js";
import type { Limits } from "../limits.js";
import {
  effectiveReplication,
  type ConflictMode,
  type Consistency,
  type Replication,
  type TableDefinition,
  type TableSpec,
} from "../catalog/table-definition.js";
import { refuseUnknownFields, requireObject } from "./json-body.js";

/**
 * `POST /v1/tables` bodies and table descriptions.
 *
 * Example: `{"name": "cart", "replication": {"n": 3, "r": 2, "w": 2}, "consistency":
 * "eventual", "conflicts": "siblings", "extensions": {...}}`; every field but the name is
 * optional, and R and W default to a majority of N. `extensions` is plain data a front door
 * keeps with the table (the DynamoDB API's key schema, for one), shown back when present.
 */
export const replicationFactorMax = 16;
const tableNamePattern = /^[A-Za-z0-9_.-]+$/;
const consistencies: readonly Consistency[] = ["eventual", "strong"];
const conflictModes: readonly ConflictMode[] = ["siblings", "lww"];

export function parseTableSpec(body: unknown, limits: Limits): TableSpec {
  const object = requireObject(body, "InvalidTableOptions", "a table definition");
  refuseUnknownFields(object, ["name", "replication", "consistency", "conflicts", "extensions"], "InvalidTableOptions", "a table definition");
  const name = parseTableName(object.name, limits);
  const replication = parseReplication(object.replication);
  const consistency = parseChoice(object.consistency ?? "eventual", consistencies, "consistency");
  const conflicts = parseChoice(object.conflicts ?? "siblings", conflictModes, "conflicts");
  // The catalog checks the content (plain data, size); here only the shape.
  const extensions = object.extensions === undefined ? undefined : requireObject(object.extensions, "InvalidTableOptions", "extensions");
  return { name, replication, consistency, conflicts, ...(extensions !== undefined ? { extensions } : {}) };
}

export function parseTableName(name: unknown, limits: Limits): string {
  const { tableNameLengthMin: min, tableNameLengthMax: max } = limits;
  if (typeof name !== "string") throw badRequest("InvalidTableName", "a table needs a \"name\" string");
  if (name.length < min || name.length > max || !tableNamePattern.test(name)) {
    throw badRequest("InvalidTableName", `table name "${name.slice(0, 300)}" must be ${min} to ${max} characters of A-Z a-z 0-9 _ . -; it has ${name.length}`);
  }
  return name;
}

function parseReplication(value: unknown): Replication {
  if (value === undefined) return { n: 3, r: 2, w: 2 };
  const object = requireObject(value, "InvalidTableOptions", "replication");
  refuseUnknownFields(object, ["n", "r", "w"], "InvalidTableOptions", "replication");
  const n = parseCount(object.n ?? 3, "replication.n", 1, replicationFactorMax);
  const majority = Math.floor(n / 2) + 1;
  const r = parseCount(object.r ?? majority, "replication.r", 1, n);
  const w = parseCount(object.w ?? majority, "replication.w", 1, n);
  return { n, r, w };
}

function parseCount(value: unknown, what: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw badRequest("InvalidTableOptions", `${what} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

function parseChoice<T extends string>(value: unknown, choices: readonly T[], what: string): T {
  if (typeof value !== "string" || !choices.includes(value as T)) {
    throw badRequest("InvalidTableOptions", `${what} must be one of ${choices.map((c) => `"${c}"`).join(", ")}, got ${JSON.stringify(value)}`);
  }
  return value as T;
}

/** What the API shows for a table: configured replication and what the cluster can give now. */
export function describeTable(table: TableDefinition, clusterSize: number): Record<string, unknown> {
  return {
    name: table.name,
    replication: table.replication,
    effectiveReplication: effectiveReplication(table.replication, clusterSize),
    consistency: table.consistency,
    conflicts: table.conflicts,
    createdAt: new Date(table.createdAtMs).toISOString(),
    ...(table.extensions !== undefined ? { extensions: table.extensions } : {}),
  };
}
