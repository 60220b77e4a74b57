import type { ItemChange, ItemChangeDecision, ItemKeyParts, ItemVersion } from "../coordinator/item-operations.js";
import { assert } from "../assert.js";
import { badRequest, conflict } from "../errors.js";
import type { WriteCondition } from "../replica/item-write.js";
import { describeKey, requireTable, storeError, type ApiContext } from "./api-context.js";
import { conditionFromHeaders, parseKeySegment } from "./item-request.js";
import { lastModified } from "./item-handlers.js";
import type { RouteMatch } from "./route-match.js";
import { sendJson } from "./respond.js";
import { parseCondition } from "../paxos/strong-write.js";
import type { ShoalRequest, ShoalResponse } from "./shoal-response.js";

/**
 * `POST /v1/tables/{t}/items/{key}/increment?by=N`: an atomic read-modify-write (issue 4 item
 * 1), run by the coordinator inside one CASPaxos round (ItemOperations.modify), so two clients
 * incrementing through different nodes never lose an update.
 *
 *   curl -XPOST 'localhost:8000/v1/tables/counters/items/visits/increment?by=5'
 *     -> 200 {"value": 5}, ETag: "<version>", Last-Modified
 *
 * `by` is a safe integer (negative decrements; default 1). An absent item becomes N (text/plain);
 * a present one must hold a decimal integer as text (optional "-", digits only, a safe integer),
 * and keeps its content type, metadata and expiry. Refusals:
 *   - 409 NotAnInteger: the stored value is not such a number (the item is left as it is);
 *   - 409 IncrementOverflow: the sum is not a safe integer;
 *   - 400 InvalidArgument: `by` is not a safe integer;
 *   - 412 PreconditionFailed: If-Match / If-None-Match (checked inside the same round) fail;
 *   - 400 BadRequest: the table is eventual (increments need `"consistency": "strong"`).
 * 409 rather than 400 because the request is well formed; the item's current state is what
 * conflicts with it, and a client can fix that by writing a number.
 */
const integerText = /^-?[0-9]{1,16}$/;
const counterContentType = "text/plain; charset=utf-8";

export async function incrementItem(context: ApiContext, req: ShoalRequest, res: ShoalResponse, match: RouteMatch): Promise<void> {
  const table = requireTable(context, match.table);
  const key: ItemKeyParts = { partitionKey: parseKeySegment(match.key, context.limits) };
  const by = parseBy(match.query);
  const condition = conditionFromHeaders(req.headers);
  const change = incrementChange(by, condition);
  // Named, so the key's first live primary proposes it (paxos/README.md, "Forwarding read-modify-writes").
  const result = await context.items.modify(table, key, change.run, { kind: incrementChangeKind, args: { by, condition } });
  const action = `cannot increment ${describeKey(table, key)}`;
  if (!result.ok) {
    const refusal = result.error.code === "BadRequest" ? change.refusal : undefined;
    throw refusal !== undefined ? conflict(refusal, `${action}: ${result.error.message}`) : storeError(result.error, action);
  }
  const item = result.value.item;
  assert(item !== undefined, `increment of ${describeKey(table, key)}: modify answered no item after a put`);
  sendJson(res, 200, { value: integerValue(item.value) ?? null }, { etag: `"${item.version}"`, "last-modified": lastModified(item) });
}

/** `?by=`: a safe integer, default 1. */
export function parseBy(query: string): number {
  const values = new URLSearchParams(query).getAll("by");
  if (values.length === 0) return 1;
  const text = values[0]!;
  const by = values.length === 1 && integerText.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(by)) throw badRequest("InvalidArgument", `query parameter by must be one safe integer, got "${values.join(",").slice(0, 32)}"`);
  return by;
}

type Refusal = "NotAnInteger" | "IncrementOverflow";

/** The named item change of an increment (NamedItemChange): args {by, condition}. */
export const incrementChangeKind = "increment";

/** The increment another node named (args {by: a safe integer, condition}), or why its args are refused. */
export function incrementOfArgs(args: unknown): ItemChange | string {
  const a = args as { by?: unknown; condition?: unknown } | null;
  if (a === null || typeof a !== "object" || typeof a.by !== "number" || !Number.isSafeInteger(a.by)) return "by is not a safe integer";
  const condition = parseCondition(a.condition);
  if (condition === null) return "the condition is malformed";
  return incrementChange(a.by, condition ?? {}).run;
}

/**
 * The change CASPaxos applies. It may run more than once (after a lost race), so it is a pure
 * function of the current version; `refusal` remembers why the last run aborted, if it was one
 * of ours, so the handler can answer 409 instead of the coordinator's generic BadRequest.
 */
export function incrementChange(by: number, condition: WriteCondition): { run: ItemChange; refusal: Refusal | undefined } {
  const change = {
    refusal: undefined as Refusal | undefined,
    run: (current: ItemVersion | undefined): ItemChangeDecision => {
      change.refusal = undefined;
      const unmet = unmetCondition(condition, current);
      if (unmet !== undefined) return { type: "abort", code: "PreconditionFailed", message: unmet };
      const before = current === undefined ? 0 : integerValue(current.value);
      if (before === undefined) {
        change.refusal = "NotAnInteger";
        return { type: "abort", code: "BadRequest", message: "the stored value is not a decimal integer" };
      }
      const after = before + by;
      if (!Number.isSafeInteger(after)) {
        change.refusal = "IncrementOverflow";
        return { type: "abort", code: "BadRequest", message: `${before} + ${by} is beyond the safe integers (${Number.MAX_SAFE_INTEGER})` };
      }
      const write = {
        value: Buffer.from(String(after), "ascii"),
        contentType: current?.contentType ?? counterContentType,
        metadata: { ...current?.metadata },
        expiresAtMs: current?.expiresAtMs ?? null,
      };
      return { type: "put", write };
    },
  };
  return change;
}

function integerValue(bytes: Uint8Array): number | undefined {
  if (bytes.byteLength > 17) return undefined;
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
  if (!integerText.test(text)) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : undefined;
}

/** HTTP's conditional semantics over the version the round found; undefined when met. */
function unmetCondition(condition: WriteCondition, current: ItemVersion | undefined): string | undefined {
  const { ifMatch, ifNoneMatch } = condition;
  if (ifMatch !== undefined) {
    if (current === undefined) return "If-Match: the item does not exist";
    if (ifMatch !== "*" && !ifMatch.includes(current.version)) return `If-Match: the current version is "${current.version}"`;
  }
  if (ifNoneMatch !== undefined && current !== undefined) {
    if (ifNoneMatch === "*" || ifNoneMatch.includes(current.version)) return "If-None-Match: the item exists in a matching version";
  }
  return undefined;
}
