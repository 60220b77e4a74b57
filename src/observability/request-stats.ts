/**
 * Request counts and latency histograms by route pattern, method and status, kept in plain
 * arrays and maps and turned into Prometheus series only when scraped. prom-client's own
 * Counter and Histogram hash their label objects on every observation, which on the item
 * path costs as much as reading the item; here an observation is two Map lookups, a short
 * scan of the bucket bounds and a few additions.
 *
 * `counterMetric()` and `histogramMetric()` return objects prom-client's Registry accepts
 * (`registerMetric`): a name, help, type and `get()`.
 */
export const latencyBucketsSeconds: readonly number[] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

interface Series {
  route: string;
  method: string;
  statusCounts: Map<number, number>;
  /** Non-cumulative counts per bucket; the last slot is +Inf. */
  buckets: Float64Array;
  sumSeconds: number;
  count: number;
}

type MetricValue = { metricName?: string; labels: Record<string, string | number>; value: number };

export interface RegistryMetric {
  name: string;
  help: string;
  type: "counter" | "histogram";
  aggregator: "sum";
  get(): Promise<{ name: string; help: string; type: string; aggregator: "sum"; values: MetricValue[] }>;
  reset(): void;
}

export class RequestStats {
  /** route -> method -> series; both are bounded sets (route patterns, HTTP methods). */
  private readonly byRoute = new Map<string, Map<string, Series>>();

  record(route: string, method: string, status: number, seconds: number): void {
    let byMethod = this.byRoute.get(route);
    if (byMethod === undefined) {
      byMethod = new Map();
      this.byRoute.set(route, byMethod);
    }
    let series = byMethod.get(method);
    if (series === undefined) {
      series = { route, method, statusCounts: new Map(), buckets: new Float64Array(latencyBucketsSeconds.length + 1), sumSeconds: 0, count: 0 };
      byMethod.set(method, series);
    }
    series.statusCounts.set(status, (series.statusCounts.get(status) ?? 0) + 1);
    let bucket = 0;
    while (bucket < latencyBucketsSeconds.length && seconds > latencyBucketsSeconds[bucket]!) bucket++;
    series.buckets[bucket]!++;
    series.sumSeconds += seconds;
    series.count++;
  }

  counterMetric(name: string, help: string): RegistryMetric {
    return this.metric(name, help, "counter", () => {
      const values: MetricValue[] = [];
      for (const s of this.allSeries()) {
        for (const [status, count] of s.statusCounts) values.push({ labels: { route: s.route, method: s.method, status }, value: count });
      }
      return values;
    });
  }

  histogramMetric(name: string, help: string): RegistryMetric {
    return this.metric(name, help, "histogram", () => {
      const values: MetricValue[] = [];
      for (const s of this.allSeries()) {
        let cumulative = 0;
        for (let i = 0; i <= latencyBucketsSeconds.length; i++) {
          cumulative += s.buckets[i]!;
          const le = i < latencyBucketsSeconds.length ? latencyBucketsSeconds[i]! : "+Inf";
          values.push({ metricName: `${name}_bucket`, labels: { le, route: s.route, method: s.method }, value: cumulative });
        }
        values.push({ metricName: `${name}_sum`, labels: { route: s.route, method: s.method }, value: s.sumSeconds });
        values.push({ metricName: `${name}_count`, labels: { route: s.route, method: s.method }, value: s.count });
      }
      return values;
    });
  }

  private *allSeries(): Iterable<Series> {
    for (const byMethod of this.byRoute.values()) yield* byMethod.values();
  }

  private metric(name: string, help: string, type: "counter" | "histogram", values: () => MetricValue[]): RegistryMetric {
    return {
      name,
      help,
      type,
      aggregator: "sum",
      get: () => Promise.resolve({ name, help, type, aggregator: "sum", values: values() }),
      reset: () => this.byRoute.clear(),
    };
  }
}
