import { randomFillSync } from "node:crypto";
import type { Logger } from "pino";
import type { ItemOperations } from "../coordinator/item-operations.js";
import type { Clock, Timers } from "../runtime/runtime.js";
import { BodyTooLarge, readBody } from "../api/read-body.js";
import type { HttpReply, ShoalRequest } from "../api/shoal-response.js";
import { ShoalError } from "../errors.js";
import { requestHeader } from "../http/lean-request.js";
import { verifySignature, type Credentials } from "./auth/sigv4-verifier.js";
import type { DynamoContext } from "./dynamo-context.js";
import { checkDynamoLimits, defaultDynamoLimits, type DynamoLimits } from "./dynamo-limits.js";
import { dynamoOperations, operationNames } from "./dynamo-operations.js";
import { DynamoException, serializationException } from "./protocol/dynamo-exception.js";
import { sendDynamoError, sendDynamoJson, type DynamoResponseHeaders, type JsonText } from "./protocol/dynamo-response.js";
import type { JsonObject } from "./protocol/request-reader.js";
import { isEscapeFreeText } from "./protocol/escape-free.js";
import { parseContentType, parseTarget } from "./protocol/request-target.js";
import { TableDirectory, type DynamoCatalog } from "./tables/table-directory.js";
import { TtlSweeper } from "./items/ttl-sweeper.js";
import { TableStats } from "./tables/table-stats.js";

/**
 * Shoal's DynamoDB front door (DynamoDB API reference, low-level API): `POST /` with
 * `X-Amz-Target: DynamoDB_20120810.<Operation>` and a JSON body in
 * application/x-amz-json-1.0 (or 1.1), answered in DynamoDB's shapes, errors as
 * `{"__type": "com.amazonaws.dynamodb.v20120810#<Exception>", "message"}` with DynamoDB's
 * HTTP status, every answer carrying x-amzn-RequestId and x-amz-crc32.
 *
 * The steps, in DynamoDB's order: read the body (bounded), authenticate (SigV4 against the
 * configured credentials, or any credentials in local mode), name the operation, parse the
 * JSON, run the operation. Tables map onto strong Shoal tables; items go through
 * ItemOperations, so the same code serves one node and a cluster.
 *
 * @example
 *   const api = new DynamoDbApi({ catalog, items, clock: runtime.clock, timers: runtime.timers });
 *   api.start(); // the TTL sweeper
 *   server.on("request", (req, res) => { if (req.url === "/" && req.method === "POST") void api.handle(req, res); });
 *   // new DynamoDBClient({ endpoint: "http://127.0.0.1:8000", region: "local", credentials: { accessKeyId: "x", secretAccessKey: "y" } })
 */
export type DynamoAuth = { mode: "local" } | { mode: "sigv4"; credentials: readonly Credentials[] };

export interface DynamoDbApiDeps {
  catalog: DynamoCatalog;
  items: ItemOperations;
  clock: Clock;
  timers: Timers;
  /** Local mode (any credentials, as DynamoDB Local) unless given. */
  auth?: DynamoAuth;
  limits?: Partial<DynamoLimits>;
  region?: string;
  accountId?: string;
  logger?: Logger;
  /**
   * The consistency of the Shoal tables CreateTable makes: "strong" (default; conditional
   * writes and UpdateItem atomic through CASPaxos) or "eventual" (for nodes that do not serve
   * strong tables; read-modify-writes are then best effort, see items/conditional-change.ts).
   */
  tableConsistency?: "strong" | "eventual";
}

export class DynamoDbApi {
  readonly context: DynamoContext;
  private readonly auth: DynamoAuth;
  private readonly sweeper: TtlSweeper;
  /** DescribeTable's ItemCount and TableSizeBytes (recounted in the background when described). */
  readonly stats: TableStats;
  private inFlight = 0;

  constructor(private readonly deps: DynamoDbApiDeps) {
    const limits = checkDynamoLimits({ ...defaultDynamoLimits, ...deps.limits });
    const base: DynamoContext = {
      tables: new TableDirectory(deps.catalog, { consistency: deps.tableConsistency ?? "strong" }),
      items: deps.items,
      clock: deps.clock,
      limits,
      region: deps.region ?? "ddblocal",
      accountId: deps.accountId ?? "000000000000",
    };
    this.stats = new TableStats(base, deps.timers, deps.logger);
    this.context = { ...base, stats: this.stats };
    this.auth = deps.auth ?? { mode: "local" };
    this.sweeper = new TtlSweeper(this.context, deps.timers, deps.logger);
  }

  /** Starts the background removal of expired items. */
  start(): void {
    this.sweeper.start();
  }

  /** Stops the sweeper and the table statistics, waiting for a step in progress. */
  async stop(): Promise<void> {
    await Promise.all([this.sweeper.stop(), this.stats.stop()]);
  }

  /** The sweeper, for tests and for a node that wants to run one step now. */
  get ttlSweeper(): TtlSweeper {
    return this.sweeper;
  }

  async handle(req: ShoalRequest, res: HttpReply): Promise<void> {
    const contentType = parseContentType(requestHeader(req, "content-type"));
    const headers: DynamoResponseHeaders = { requestId: newRequestId(), contentType: typeof contentType === "string" ? contentType : "application/x-amz-json-1.0" };
    if (this.inFlight >= this.context.limits.requestsInFlightMax) {
      res.shouldKeepAlive = false;
      const message = `${this.inFlight} DynamoDB requests are in flight; the limit is ${this.context.limits.requestsInFlightMax}`;
      sendDynamoError(res, new DynamoException("ServiceUnavailable", message, 503), headers);
      return;
    }
    this.inFlight++;
    try {
      const output = await this.run(req, res, contentType);
      sendDynamoJson(res, 200, output, headers);
    } catch (error) {
      if (error instanceof BodyTooLarge) res.shouldKeepAlive = false;
      sendDynamoError(res, this.toDynamoException(error), headers);
    } finally {
      this.inFlight--;
    }
  }

  private async run(req: ShoalRequest, res: HttpReply, contentType: string | DynamoException): Promise<JsonObject | JsonText> {
    const body = await readBody(req, res, this.context.limits.requestBodyBytesMax, (bytes) => requestTooLarge(bytes, this.context.limits.requestBodyBytesMax));
    if (this.auth.mode === "sigv4") {
      const refused = verifySignature({ method: req.method ?? "", url: req.url ?? "/", headers: req.headers, body }, this.auth.credentials, {
        nowMs: this.context.clock.nowMs(),
        skewMaxMs: this.context.limits.signatureSkewMaxMs,
      });
      if (refused !== undefined) throw refused;
    }
    if (req.method !== "POST") throw new DynamoException("UnknownOperationException", `${req.method} is not a DynamoDB operation; send POST /`);
    if (typeof contentType !== "string") throw contentType;
    const operation = parseTarget(requestHeader(req, "x-amz-target"), operationNames);
    if (typeof operation !== "string") throw operation;
    return dynamoOperations[operation]!(this.context, parseJsonBody(body), escapeFreeReaders.has(operation) && isEscapeFreeText(body));
  }

  private toDynamoException(error: unknown): DynamoException {
    if (error instanceof DynamoException) return error;
    if (error instanceof BodyTooLarge) return new DynamoException("RequestEntityTooLargeException", error.error.message, 413);
    if (error instanceof ShoalError && error.status < 500) return new DynamoException("ValidationException", error.message);
    this.deps.logger?.error({ err: error }, "DynamoDB request failed");
    return new DynamoException("InternalServerError", "The server encountered an internal error trying to fulfill the request", 500);
  }
}

/**
 * Whether a request is for this front door: DynamoDB clients always POST to "/" and name the
 * operation in X-Amz-Target, which the native API never sends.
 */
export function isDynamoDbRequest(req: ShoalRequest): boolean {
  return req.method === "POST" && (req.url === "/" || req.url?.startsWith("/?") === true) && requestHeader(req, "x-amz-target") !== undefined;
}

function requestTooLarge(bytes: number, limit: number): ShoalError {
  return new ShoalError("RequestEntityTooLarge", 413, `Request size ${bytes} bytes exceeds the limit of ${limit} bytes`);
}

/**
 * The operations that ask whether their body was escape-free (protocol/escape-free.ts); the
 * others skip the scan for a backslash (reads: a few hundred ns per request).
 */
const escapeFreeReaders: ReadonlySet<string> = new Set(["PutItem"]);

/** The body of every operation is one JSON object; anything else is a SerializationException. */
export function parseJsonBody(body: Buffer): JsonObject {
  if (body.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch (error) {
    throw serializationException(`the request body is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw serializationException("Start of structure or map found where not expected: the request body must be a JSON object");
  }
  return parsed as JsonObject;
}

/** DynamoDB's request ids: 52 characters of A-Z and 0-9. */
const requestIdAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
export const requestIdLength = 52;
/**
 * Random bytes for this many ids are drawn at once and mapped onto the alphabet in place: one
 * randomFillSync per 64 requests instead of a randomBytes call (and a 52-step string build)
 * per request, which was about a tenth of a GetItem's front-door CPU.
 */
const requestIdsPerFill = 64;
const requestIdPool = Buffer.alloc(requestIdLength * requestIdsPerFill);
let requestIdOffset = requestIdPool.length;

export function newRequestId(): string {
  if (requestIdOffset === requestIdPool.length) {
    randomFillSync(requestIdPool);
    for (let i = 0; i < requestIdPool.length; i++) requestIdPool[i] = requestIdAlphabet.charCodeAt(requestIdPool[i]! % requestIdAlphabet.length);
    requestIdOffset = 0;
  }
  const id = requestIdPool.toString("latin1", requestIdOffset, requestIdOffset + requestIdLength);
  requestIdOffset += requestIdLength;
  return id;
}
