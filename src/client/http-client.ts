import { Pool, errors as undiciErrors } from "undici";
import type { Dispatcher } from "undici";
import { ShoalError } from "../errors.js";

/**
 * A small client for one node's native REST API (/v1/tables, /v1/tables/{t}/items/{key}). The
 * `shoal` CLI and the multi-process tests use it; programs that want partition-aware routing use
 * the binary Shoal client instead. Server errors (`{"error": {"code", "message"}}`) become a
 * ShoalError with the server's code and status; an unreachable node is `Unreachable` (503).
 *
 * @example
 *   const client = new ShoalHttpClient({ url: "http://127.0.0.1:8000" });
 *   await client.createTable({ name: "cart" });
 *   await client.putItem("cart", "user/42", new TextEncoder().encode("hello"), { contentType: "text/plain" });
 *   const item = await client.getItem("cart", "user/42"); // item.value: the same bytes
 *   // Siblings (concurrent writes on an eventual table): read them all, merge, write back with
 *   // the read's context so the merge replaces exactly what was read.
 *   const read = await client.readItem("cart", "user/42");
 *   if (read.siblings.length > 1) await client.putItem("cart", "user/42", merge(read.siblings), { context: read.context });
 *   await client.close();
 */
export interface ShoalHttpClientOptions {
  /** Origin of the node, e.g. http://127.0.0.1:8000. */
  url: string;
  /** Per request: headers and body must arrive within this time. */
  timeoutMs?: number;
  /** Keep-alive connections to the node. */
  connections?: number;
}

export interface TableSpec {
  name: string;
  replication?: { n?: number; r?: number; w?: number };
  consistency?: "eventual" | "strong";
  conflicts?: "siblings" | "lww";
}

/** What the node says about a table; its exact fields belong to the REST API. */
export type TableDescription = { name: string } & Record<string, unknown>;

/** Per-request quorums of a write (`?w=`, `?dw=`, `?pw=`); absent means the table's. */
export interface WriteQuorum {
  w?: number;
  dw?: number;
  pw?: number;
}

export interface PutItemOptions extends WriteQuorum {
  contentType?: string;
  ttlSeconds?: number;
  /** Sent as `x-shoal-meta-<name>` headers. */
  metadata?: Record<string, string>;
  ifMatch?: string;
  ifNoneMatch?: "*";
  /** The context of the read this write follows (X-Shoal-Context): it replaces what that read saw. */
  context?: string;
}

export interface DeleteItemOptions extends WriteQuorum {
  ifMatch?: string;
  context?: string;
}

export interface PutItemResult {
  etag: string | undefined;
  lastModified: string | undefined;
  /** The causal context after the write. */
  context: string | undefined;
}

export interface GetItemOptions {
  r?: number;
  pr?: number;
  consistency?: "strong" | "eventual";
}

export interface Item {
  value: Uint8Array;
  contentType: string | undefined;
  etag: string | undefined;
  lastModified: string | undefined;
  metadata: Record<string, string>;
  /** The read's causal context (X-Shoal-Context), to send with the next write of this key. */
  context?: string | undefined;
}

/** A read that may have found nothing, one version, or several siblings. */
export interface ItemRead {
  /** Empty when the item does not exist; more than one when concurrent writes left siblings. */
  siblings: Item[];
  /** The causal context of the read ("" when the replicas held nothing for the key). */
  context: string;
  /** Eventual reads of strong tables: how old the answer may be, in ms, when the node knows. */
  staleMaxMs?: number;
}

export interface IncrementResult {
  value: number;
  etag: string | undefined;
}

export interface ListItemsOptions {
  prefix?: string;
  cursor?: string;
  limit?: number;
}

export type ListedItem = { key: string } & Record<string, unknown>;

export interface ItemPage {
  items: ListedItem[];
  cursor: string | null;
}

const metaHeaderPrefix = "x-shoal-meta-";
const contextHeader = "x-shoal-context";
const defaultTimeoutMs = 30_000;
const defaultConnections = 4;
/** Error bodies are read only this far; a message is short. */
const errorBodyBytesMax = 64 * 1024;

type Method = "GET" | "PUT" | "POST" | "DELETE" | "HEAD";

interface Call {
  method: Method;
  path: string;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Uint8Array;
}

export class ShoalHttpClient {
  readonly url: string;
  private readonly pool: Pool;
  private readonly timeoutMs: number;

  constructor(options: ShoalHttpClientOptions) {
    this.url = new URL(options.url).origin;
    this.timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
    this.pool = new Pool(this.url, { connections: options.connections ?? defaultConnections });
  }

  async health(): Promise<boolean> {
    const answer = await this.send({ method: "GET", path: "/health" });
    return answer.status === 200;
  }

  async listTables(): Promise<TableDescription[]> {
    const json = (await this.json({ method: "GET", path: "/v1/tables" })) as { tables?: TableDescription[] };
    return json.tables ?? [];
  }

  async createTable(spec: TableSpec): Promise<TableDescription> {
    const body = JSON.stringify(spec);
    return (await this.json({ method: "POST", path: "/v1/tables", headers: { "content-type": "application/json" }, body })) as TableDescription;
  }

  async describeTable(name: string): Promise<TableDescription> {
    return (await this.json({ method: "GET", path: tablePath(name) })) as TableDescription;
  }

  async deleteTable(name: string): Promise<void> {
    await this.expectOk({ method: "DELETE", path: tablePath(name) });
  }

  async putItem(table: string, key: string, value: Uint8Array, options: PutItemOptions = {}): Promise<PutItemResult> {
    const headers: Record<string, string> = { "content-type": options.contentType ?? "application/octet-stream" };
    for (const [name, metaValue] of Object.entries(options.metadata ?? {})) headers[metaHeaderPrefix + name.toLowerCase()] = metaValue;
    if (options.ttlSeconds !== undefined) headers["x-shoal-expires-in"] = String(options.ttlSeconds);
    if (options.ifMatch !== undefined) headers["if-match"] = options.ifMatch;
    if (options.ifNoneMatch !== undefined) headers["if-none-match"] = options.ifNoneMatch;
    if (options.context !== undefined) headers[contextHeader] = options.context;
    const path = itemPath(table, key) + queryOf(writeQuery(options));
    const answer = await this.expectOk({ method: "PUT", path, headers, body: value });
    return { etag: header(answer, "etag"), lastModified: header(answer, "last-modified"), context: header(answer, contextHeader) };
  }

  /**
   * The item's bytes and headers; a missing item is a ShoalError with status 404, and an item
   * with siblings a ShoalError "Siblings" with status 300 (read those with readItem).
   */
  async getItem(table: string, key: string, options: GetItemOptions = {}): Promise<Item> {
    const read = await this.readItem(table, key, options);
    const path = itemPath(table, key);
    if (read.siblings.length === 0) throw new ShoalError("ItemNotFound", 404, `GET ${path}: the item does not exist`);
    if (read.siblings.length > 1) throw new ShoalError("Siblings", 300, `GET ${path}: the item has ${read.siblings.length} siblings; read them with readItem`);
    return read.siblings[0]!;
  }

  /** Every live version of the item (none, one, or siblings) and the read's causal context. */
  async readItem(table: string, key: string, options: GetItemOptions = {}): Promise<ItemRead> {
    const query: Record<string, string | number | undefined> = { r: options.r, pr: options.pr, consistency: options.consistency };
    const call: Call = { method: "GET", path: itemPath(table, key) + queryOf(query) };
    const answer = await this.send(call);
    const context = header(answer, contextHeader) ?? "";
    const stale = header(answer, "x-shoal-stale-max-ms");
    const read: ItemRead = { siblings: [], context, ...(stale !== undefined ? { staleMaxMs: Number(stale) } : {}) };
    if (answer.status === 200) read.siblings.push({ ...itemFromAnswer(answer), context });
    else if (answer.status === 300) read.siblings.push(...siblingsFromAnswer(answer, call).map((item) => ({ ...item, context })));
    else if (!(answer.status === 404 && errorFromAnswer(answer, call).code === "ItemNotFound")) throw errorFromAnswer(answer, call);
    return read;
  }

  async deleteItem(table: string, key: string, options: DeleteItemOptions = {}): Promise<void> {
    const headers: Record<string, string> = {};
    if (options.ifMatch !== undefined) headers["if-match"] = options.ifMatch;
    if (options.context !== undefined) headers[contextHeader] = options.context;
    await this.expectOk({ method: "DELETE", path: itemPath(table, key) + queryOf(writeQuery(options)), headers });
  }

  /** Atomically adds `by` (a safe integer, default 1) to a strong table's integer item. */
  async incrementItem(table: string, key: string, by = 1): Promise<IncrementResult> {
    const answer = await this.expectOk({ method: "POST", path: `${itemPath(table, key)}/increment${queryOf({ by })}` });
    const json = JSON.parse(Buffer.from(answer.body).toString("utf8")) as { value: number };
    return { value: json.value, etag: header(answer, "etag") };
  }

  async listItems(table: string, options: ListItemsOptions = {}): Promise<ItemPage> {
    const query = new URLSearchParams();
    if (options.prefix !== undefined) query.set("prefix", options.prefix);
    if (options.cursor !== undefined) query.set("cursor", options.cursor);
    if (options.limit !== undefined) query.set("limit", String(options.limit));
    const suffix = query.size > 0 ? `?${query.toString()}` : "";
    const json = (await this.json({ method: "GET", path: `${tablePath(table)}/items${suffix}` })) as Partial<ItemPage>;
    return { items: json.items ?? [], cursor: json.cursor ?? null };
  }

  /** Follows cursors page by page; stops after `pagesMax` pages so a bad cursor cannot loop forever. */
  async *listAllItems(table: string, options: { prefix?: string; pageItems?: number; pagesMax: number }): AsyncGenerator<ListedItem> {
    let cursor: string | undefined;
    for (let page = 0; page < options.pagesMax; page++) {
      const result = await this.listItems(table, {
        ...(options.prefix !== undefined ? { prefix: options.prefix } : {}),
        ...(options.pageItems !== undefined ? { limit: options.pageItems } : {}),
        ...(cursor !== undefined ? { cursor } : {}),
      });
      yield* result.items;
      if (result.cursor === null) return;
      cursor = result.cursor;
    }
    throw new ShoalError("TooManyPages", 400, `listing ${table} did not finish within ${options.pagesMax} pages`);
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  private async json(call: Call): Promise<unknown> {
    const answer = await this.expectOk(call);
    if (answer.body.byteLength === 0) return {};
    return JSON.parse(Buffer.from(answer.body).toString("utf8"));
  }

  private async expectOk(call: Call): Promise<Answer> {
    const answer = await this.send(call);
    if (answer.status >= 200 && answer.status < 300) return answer;
    throw errorFromAnswer(answer, call);
  }

  private async send(call: Call): Promise<Answer> {
    const options: Dispatcher.RequestOptions = {
      method: call.method,
      path: call.path,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
      ...(call.headers !== undefined ? { headers: call.headers } : {}),
      ...(call.body !== undefined ? { body: call.body } : {}),
    };
    try {
      const response = await this.pool.request(options);
      const body = new Uint8Array(await response.body.arrayBuffer());
      return { status: response.statusCode, headers: response.headers, body };
    } catch (error) {
      throw unreachable(this.url, call, error);
    }
  }
}

function tablePath(name: string): string {
  return `/v1/tables/${encodeURIComponent(name)}`;
}

/** Keys are one URL-encoded path segment, so a `/` in a key travels as %2F. */
function itemPath(table: string, key: string): string {
  return `${tablePath(table)}/items/${encodeURIComponent(key)}`;
}

function writeQuery(options: WriteQuorum): Record<string, number | undefined> {
  return { w: options.w, dw: options.dw, pw: options.pw };
}

/** "?a=1&b=2" of the defined values, or "". */
function queryOf(values: Record<string, string | number | undefined>): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) if (value !== undefined) query.set(name, String(value));
  return query.size > 0 ? `?${query.toString()}` : "";
}

function itemFromAnswer(answer: Answer): Item {
  const metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(answer.headers)) {
    if (name.startsWith(metaHeaderPrefix) && typeof value === "string") metadata[name.slice(metaHeaderPrefix.length)] = value;
  }
  return {
    value: answer.body,
    contentType: header(answer, "content-type"),
    etag: header(answer, "etag"),
    lastModified: header(answer, "last-modified"),
    metadata,
  };
}

/** The siblings of a 300 answer: `{"siblings": [{"value", "encoding", "contentType", "metadata", "lastModified", "etag"}]}`. */
function siblingsFromAnswer(answer: Answer, call: Call): Item[] {
  type SiblingJson = { value: string; encoding: "utf8" | "base64"; contentType: string; metadata: Record<string, string>; lastModified: string; etag: string };
  let body: { siblings?: SiblingJson[] };
  try {
    body = JSON.parse(Buffer.from(answer.body).toString("utf8")) as { siblings?: SiblingJson[] };
  } catch {
    body = {};
  }
  if (!Array.isArray(body.siblings)) throw new ShoalError("InvalidResponse", 502, `${call.method} ${call.path} answered 300 without a siblings list`);
  return body.siblings.map((sibling) => ({
    value: new Uint8Array(Buffer.from(sibling.value, sibling.encoding === "base64" ? "base64" : "utf8")),
    contentType: sibling.contentType,
    etag: sibling.etag,
    lastModified: sibling.lastModified,
    metadata: sibling.metadata ?? {},
  }));
}

function header(answer: Answer, name: string): string | undefined {
  const value = answer.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function errorFromAnswer(answer: Answer, call: Call): ShoalError {
  const text = Buffer.from(answer.body.subarray(0, errorBodyBytesMax)).toString("utf8");
  try {
    const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    const code = parsed.error?.code;
    const message = parsed.error?.message;
    if (typeof code === "string" && typeof message === "string") return new ShoalError(code, answer.status, message);
  } catch {
    // Not our error shape (a proxy, or a HEAD without body): fall through to the status line.
  }
  const detail = text.trim() === "" ? "no error body" : text.trim().slice(0, 200);
  return new ShoalError(`Http${answer.status}`, answer.status, `${call.method} ${call.path} answered ${answer.status}: ${detail}`);
}

function unreachable(url: string, call: Call, error: unknown): ShoalError {
  if (error instanceof ShoalError) return error;
  const cause = error as NodeJS.ErrnoException;
  const reason = cause.code ?? (error instanceof undiciErrors.UndiciError ? error.name : String(error));
  return new ShoalError("Unreachable", 503, `cannot ${call.method} ${url}${call.path}: ${reason}`);
}
