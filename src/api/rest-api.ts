import { performance } from "node:perf_hooks";
import type { Logger } from "pino";
import { ShoalError, notFound, unavailable } from "../errors.js";
import type { NodeMetrics } from "../observability/node-metrics.js";
import type { ApiContext } from "./api-context.js";
import { deleteItem, getItem, putItem } from "./item-handlers.js";
import { incrementItem } from "./increment-handler.js";
import { listItems } from "./list-handler.js";
import { runBatch } from "./batch-handler.js";
import { commitClusterPlan, deleteClusterPlan, forgetClusterNode, getCluster, getClusterPlan, postClusterPlan } from "./cluster-handler.js";
import { getAntiEntropy } from "./anti-entropy-handler.js";
import { BodyTooLarge } from "./read-body.js";
import { sendError, sendJson } from "./respond.js";
import { Route, matchRoute, routeMethods, routePatterns, type RouteMatch } from "./route-match.js";
import type { ShoalRequest, ShoalResponse } from "./shoal-response.js";
import { createTable, dropTable, getTable, listTables } from "./table-handlers.js";

/**
 * The native REST front door (DESIGN.md, api/): matches the route, refuses what it cannot take
 * (unknown route 404, wrong method 405, too many in flight or shutting down 503), hands the
 * request to its handler and turns what it throws into the JSON error shape. Metrics are
 * recorded when the response closes, by route pattern. One log line per unexpected error.
 */
export type NodeState = "starting" | "ready" | "stopping";

/** A second front door on the same port (the DynamoDB API on `POST /` with X-Amz-Target). */
export interface MountedApi {
  /** Whether this request is for the mounted API (checked before route matching). */
  accepts(req: ShoalRequest): boolean;
  /** Answers the request completely, errors included. */
  handle(req: ShoalRequest, res: ShoalResponse): Promise<void>;
  /** The route label its requests carry in metrics. */
  readonly route: string;
}

export interface RestApiOptions {
  context: ApiContext;
  metrics: NodeMetrics;
  logger: Logger;
  nodeId: string;
  httpInFlightMax: number;
}

export class RestApi {
  state: NodeState = "starting";
  /** Set once the node has composed it (the DynamoDB API); until then such requests get 503 Starting. */
  mounted: MountedApi | undefined;
  private inFlight = 0;
  private idleWaiters: Array<() => void> = [];
  private readonly context: ApiContext;
  private readonly logRequests: boolean;

  constructor(private readonly options: RestApiOptions) {
    this.context = options.context;
    this.logRequests = options.logger.isLevelEnabled("debug");
  }

  get inFlightCount(): number {
    return this.inFlight;
  }

  /** The request listener of the client port's server, Shoal's own or node:http (bound, so it can be passed as is). */
  readonly handle = (req: ShoalRequest, res: ShoalResponse): void => {
    res.startMs = performance.now();
    res.observer = this;
    if (this.mounted?.accepts(req) === true) {
      this.handleMounted(this.mounted, req, res);
      return;
    }
    const match = matchRoute(req.url ?? "/");
    if (match === undefined) {
      sendError(res, notFound("RouteNotFound", `no route for ${req.method} ${(req.url ?? "").slice(0, 200)}`));
      return;
    }
    res.route = routePatterns[match.route];
    const allowed = routeMethods[match.route];
    if (!allowed.includes(req.method ?? "")) {
      const error = new ShoalError("MethodNotAllowed", 405, `${req.method} is not allowed on ${res.route}; allowed: ${allowed.join(", ")}`);
      sendError(res, error, { allow: allowed.join(", ") });
      return;
    }
    if (match.route === Route.health) {
      this.health(res);
      return;
    }
    if (!this.admit(res)) return;
    void this.run(req, res, match);
  };

  /** The mounted API shares the node's state, in-flight bound, drain and metrics. */
  private handleMounted(mounted: MountedApi, req: ShoalRequest, res: ShoalResponse): void {
    res.route = mounted.route;
    if (!this.admit(res)) return;
    mounted.handle(req, res).catch((error: unknown) => {
      this.options.logger.error({ err: error, route: mounted.route }, "mounted API failed");
      if (!res.headersSent) sendError(res, new ShoalError("InternalError", 500, "the request failed inside the node"));
      else res.destroy();
    });
  }

  /** Counts the request in, or answers 503 (starting, stopping, too many in flight) and returns false. */
  private admit(res: ShoalResponse): boolean {
    if (this.state !== "ready") {
      res.shouldKeepAlive = false;
      sendError(res, unavailable(this.state === "stopping" ? "ShuttingDown" : "Starting", `the node is ${this.state}`), { connection: "close" });
      return false;
    }
    if (this.inFlight >= this.options.httpInFlightMax) {
      const message = `${this.inFlight} requests are in flight; the limit is ${this.options.httpInFlightMax}`;
      sendError(res, unavailable("Overloaded", message), { "retry-after": "1" });
      return false;
    }
    this.inFlight++;
    res.counted = true;
    return true;
  }

  responseClosed(res: ShoalResponse): void {
    if (res.counted) {
      res.counted = false;
      this.inFlight--;
      if (this.inFlight === 0 && this.idleWaiters.length > 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const resolve of waiters) resolve();
      }
    }
    const seconds = (performance.now() - res.startMs) / 1000;
    this.options.metrics.recordRequest(res.route, res.req.method ?? "", res.statusCode, seconds);
    if (this.logRequests) this.options.logger.debug({ method: res.req.method, route: res.route, status: res.statusCode, seconds }, "request");
  }

  /** Resolves once no counted request is in flight. */
  whenIdle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private health(res: ShoalResponse): void {
    const status = this.state === "ready" ? "ok" : this.state;
    sendJson(res, this.state === "ready" ? 200 : 503, { status, nodeId: this.options.nodeId });
  }

  private async run(req: ShoalRequest, res: ShoalResponse, match: RouteMatch): Promise<void> {
    const context = this.context;
    const method = req.method;
    try {
      switch (match.route) {
        case Route.item:
          if (method === "GET" || method === "HEAD") await getItem(context, req, res, match);
          else if (method === "PUT") await putItem(context, req, res, match);
          else await deleteItem(context, req, res, match);
          return;
        case Route.increment:
          return await incrementItem(context, req, res, match);
        case Route.items:
          return await listItems(context, req, res, match);
        case Route.batch:
          return await runBatch(context, req, res, match);
        case Route.tables:
          return await (method === "POST" ? createTable(context, req, res) : listTables(context, req, res));
        case Route.table:
          return await (method === "DELETE" ? dropTable(context, req, res, match) : getTable(context, req, res, match));
        case Route.metrics:
          return await this.metricsText(res);
        case Route.cluster:
          return getCluster(context, req, res);
        case Route.clusterPlan:
          if (method === "POST") return await postClusterPlan(context, req, res);
          return await (method === "DELETE" ? deleteClusterPlan(context, req, res) : getClusterPlan(context, req, res));
        case Route.clusterCommit:
          return await commitClusterPlan(context, req, res);
        case Route.clusterForget:
          return await forgetClusterNode(context, req, res);
        case Route.antiEntropy:
          return getAntiEntropy(context, req, res);
      }
    } catch (error) {
      this.fail(res, error);
    }
  }

  private async metricsText(res: ShoalResponse): Promise<void> {
    const text = await this.options.metrics.text();
    res.writeHead(200, { "content-type": this.options.metrics.contentType, "content-length": String(Buffer.byteLength(text)) });
    res.end(text);
  }

  private fail(res: ShoalResponse, error: unknown): void {
    if (error instanceof BodyTooLarge) {
      // The rest of the body is never read: answer and close the connection.
      res.shouldKeepAlive = false;
      sendError(res, error.error, { connection: "close" });
      return;
    }
    if (error instanceof ShoalError) {
      sendError(res, error);
      return;
    }
    this.options.logger.error({ err: error, route: res.route, method: res.req.method }, "request failed");
    sendError(res, new ShoalError("InternalError", 500, "the node failed to answer this request; see its log"));
  }
}
