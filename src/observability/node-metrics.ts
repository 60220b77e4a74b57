import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { StorageEngine } from "../storage/storage-engine.js";

/**
 * One node's Prometheus metrics, on a registry of its own (never prom-client's global default:
 * several nodes in one process, as in tests, must not share counters).
 *
 * Request series are labelled by route pattern (`/v1/tables/{table}/items/{key}`), never the
 * raw path, so their number stays bounded. The labelled children are cached so the hot path
 * pays one Map lookup instead of prom-client's label hashing.
 */
export class NodeMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<"route" | "method" | "status">;
  private readonly latency: Histogram<"route" | "method">;
  private readonly itemsExpired: Counter;
  private readonly requestChildren = new Map<string, { inc(): void }>();
  private readonly latencyChildren = new Map<string, { observe(value: number): void }>();
  private inFlightSource: () => number = () => 0;

  constructor(options: { nodeId: string; storage: StorageEngine }) {
    this.registry.setDefaultLabels({ node: options.nodeId });
    this.requests = new Counter({
      name: "shoal_http_requests_total",
      help: "HTTP requests answered, by route pattern, method and status",
      labelNames: ["route", "method", "status"],
      registers: [this.registry],
    });
    this.latency = new Histogram({
      name: "shoal_http_request_duration_seconds",
      help: "Time from request to the end of the response, by route pattern and method",
      labelNames: ["route", "method"],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [this.registry],
    });
    this.itemsExpired = new Counter({
      name: "shoal_items_expired_total",
      help: "Expired items removed by the background sweeper",
      registers: [this.registry],
    });
    const inFlight = (): number => this.inFlightSource();
    new Gauge({
      name: "shoal_http_requests_in_flight",
      help: "HTTP requests being served right now",
      registers: [this.registry],
      collect() {
        this.set(inFlight());
      },
    });
    const storage = options.storage;
    new Gauge({
      name: "shoal_storage_size_bytes",
      help: "Bytes the storage engine occupies",
      registers: [this.registry],
      collect() {
        this.set(storage.stats().sizeBytes);
      },
    });
  }

  /** Child series are bounded: routes and methods are fixed sets, statuses a small one. */
  recordRequest(route: string, method: string, status: number, seconds: number): void {
    const requestKey = `${route} ${method} ${status}`;
    let counter = this.requestChildren.get(requestKey);
    if (counter === undefined) {
      counter = this.requests.labels(route, method, String(status));
      this.requestChildren.set(requestKey, counter);
    }
    counter.inc();
    const latencyKey = `${route} ${method}`;
    let histogram = this.latencyChildren.get(latencyKey);
    if (histogram === undefined) {
      histogram = this.latency.labels(route, method);
      this.latencyChildren.set(latencyKey, histogram);
    }
    histogram.observe(seconds);
  }

  /** Read at scrape time, so the hot path pays nothing for the gauge. */
  setInFlightSource(source: () => number): void {
    this.inFlightSource = source;
  }

  recordExpired(count: number): void {
    this.itemsExpired.inc(count);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
