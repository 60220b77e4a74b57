import { Counter, Gauge, Registry, type Metric } from "prom-client";
import { RequestStats } from "./request-stats.js";
import type { StorageEngine } from "../storage/storage-engine.js";

/**
 * One node's Prometheus metrics, on a registry of its own (never prom-client's global default:
 * several nodes in one process, as in tests, must not share counters).
 *
 * Request series are labelled by route pattern (`/v1/tables/{table}/items/{key}`), never the
 * raw path, so their number stays bounded. They live in RequestStats, which is cheap to update
 * on the hot path and becomes Prometheus series at scrape time.
 */
export class NodeMetrics {
  readonly registry = new Registry();
  private readonly requests = new RequestStats();
  private readonly itemsExpired: Counter;
  private inFlightSource: () => number = () => 0;

  constructor(options: { nodeId: string; storage: StorageEngine }) {
    this.registry.setDefaultLabels({ node: options.nodeId });
    this.registry.registerMetric(
      this.requests.counterMetric("shoal_http_requests_total", "HTTP requests answered, by route pattern, method and status") as unknown as Metric,
    );
    this.registry.registerMetric(
      this.requests.histogramMetric("shoal_http_request_duration_seconds", "Time from request to the end of the response, by route pattern and method") as unknown as Metric,
    );
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

  /** Routes and methods are fixed sets and statuses a small one, so the series are bounded. */
  recordRequest(route: string, method: string, status: number, seconds: number): void {
    this.requests.record(route, method, status, seconds);
  }

  /** Read at scrape time, so the hot path pays nothing for the gauge. */
  setInFlightSource(source: () => number): void {
    this.inFlightSource = source;
  }

  /**
   * Anti-entropy's counters (anti-entropy/anti-entropy.ts stats), read at scrape time: exchanges,
   * keys repaired, and the age of the last complete exchange per tree ("partition/n"), bounded by
   * the number of trees the node keeps.
   */
  setAntiEntropySource(source: () => { exchanges: number; exchangesFailed: number; keysRepaired: number; bytes: number; lastCompleteMs: ReadonlyMap<string, number> }, nowMs: () => number): void {
    new Gauge({
      name: "shoal_anti_entropy_exchanges",
      help: "Anti-entropy exchanges this node started, by outcome",
      labelNames: ["outcome"],
      registers: [this.registry],
      collect() {
        const stats = source();
        this.set({ outcome: "completed" }, stats.exchanges - stats.exchangesFailed);
        this.set({ outcome: "failed" }, stats.exchangesFailed);
      },
    });
    new Gauge({
      name: "shoal_anti_entropy_keys_repaired",
      help: "Keys anti-entropy repaired (merged from a replica that differed)",
      registers: [this.registry],
      collect() {
        this.set(source().keysRepaired);
      },
    });
    new Gauge({
      name: "shoal_anti_entropy_bytes",
      help: "Bytes of the exchanges this node started, both directions (held to the configured bytes per second)",
      registers: [this.registry],
      collect() {
        this.set(source().bytes);
      },
    });
    new Gauge({
      name: "shoal_anti_entropy_last_exchange_age_seconds",
      help: "Seconds since the last complete exchange of each tree (partition/n)",
      labelNames: ["tree"],
      registers: [this.registry],
      collect() {
        this.reset();
        const now = nowMs();
        for (const [tree, atMs] of source().lastCompleteMs) this.set({ tree }, Math.max(0, (now - atMs) / 1000));
      },
    });
  }

  /**
   * Hinted handoff's figures, read at scrape time: hints handed back to their node since start,
   * and hints held here for nodes that were unreachable (bounded by limits.hintsPerTargetMax per
   * target). Beside anti-entropy's keys repaired they tell which of the two healed a partition.
   */
  setHintSource(source: () => { delivered: number; pending: number; abandoned?: number }): void {
    new Gauge({
      name: "shoal_hints_delivered",
      help: "Hints this node handed back to their target node since start",
      registers: [this.registry],
      collect() {
        this.set(source().delivered);
      },
    });
    new Gauge({
      name: "shoal_hints_pending",
      help: "Hints this node holds for nodes it could not write to",
      registers: [this.registry],
      collect() {
        this.set(source().pending);
      },
    });
    new Gauge({
      name: "shoal_hints_abandoned",
      help: "Hints this node still held when the drain before its leave timed out (lost unless another replica holds them)",
      registers: [this.registry],
      collect() {
        this.set(source().abandoned ?? 0);
      },
    });
  }

  /**
   * Tombstone GC and partition release, read at scrape time (coordinator/tombstone-reaper.ts,
   * handoff/partition-release.ts): due tombstones the last GC pass left because a ring member
   * was down, how often due keys were left so since start, and the keys and partitions this
   * node dropped because it no longer serves them.
   */
  setCollectionSource(source: () => { tombstonesWaiting: number; tombstonesHeldBack: number; releasedKeys: number; releasedPartitions: number }): void {
    const gauge = (name: string, help: string, pick: (stats: ReturnType<typeof source>) => number): void => this.scrapedGauge(name, help, () => pick(source()));
    gauge("shoal_tombstones_waiting_member_down", "Due tombstones the last GC pass left because a member of the ring was down", (s) => s.tombstonesWaiting);
    gauge("shoal_tombstone_gc_held_back", "Due tombstones left by a GC pass because a member of the ring was down, summed over passes since start", (s) => s.tombstonesHeldBack);
    gauge("shoal_partition_release_keys", "Keys this node dropped since start because the settled ring no longer places it for them", (s) => s.releasedKeys);
    gauge("shoal_partition_release_partitions", "Partitions this node dropped keys of since start (once per ring change)", (s) => s.releasedPartitions);
  }

  /**
   * Ring agreement and departures, read at scrape time: rings (or peers' ring stamps) membership
   * refused because they name another ring of a version it holds (membership.ts ringConflicts;
   * more than a few means two leaders keep racing), and tombstone GC's departure records
   * (coordinator/tombstone-reaper-departures.ts): how many are kept, how many are pending (a node
   * that left and has not reported that it handed everything on: GC waits for it), and the age
   * of the oldest pending one (since this node saw it pending) to tell a dead leaver an operator
   * should forget (POST /v1/cluster/forget) from one still draining.
   */
  setRingSource(source: () => { ringConflicts: number; departureRecords: number; departuresPending: number; oldestPendingDepartureAgeMs: number }): void {
    const gauge = (name: string, help: string, pick: (stats: ReturnType<typeof source>) => number): void => this.scrapedGauge(name, help, () => pick(source()));
    gauge("shoal_ring_conflicts", "Rings or ring stamps refused since start because they name another ring of a version this node holds", (s) => s.ringConflicts);
    gauge("shoal_departure_records", "Departure records tombstone GC keeps (nodes that left the ring, clean or not)", (s) => s.departureRecords);
    gauge("shoal_departures_pending", "Nodes that left the ring and have not reported a clean departure: tombstone GC waits for each", (s) => s.departuresPending);
    gauge("shoal_departure_oldest_pending_age_seconds", "Seconds since this node saw the oldest pending departure pending (0 when none)", (s) => s.oldestPendingDepartureAgeMs / 1000);
  }

  /** A gauge whose value `read` gives at every scrape. */
  private scrapedGauge(name: string, help: string, read: () => number): void {
    new Gauge({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.set(read());
      },
    });
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
