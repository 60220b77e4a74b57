import { test } from "node:test";
import assert from "node:assert/strict";
import { RequestStats, latencyBucketsSeconds } from "./request-stats.js";

test("counts by route, method and status, and puts each latency in the first bucket at or above it", async () => {
  const stats = new RequestStats();
  stats.record("/r", "GET", 200, 0.0001);
  stats.record("/r", "GET", 200, 0.0002);
  stats.record("/r", "GET", 404, 10);
  stats.record("/r", "PUT", 201, 0.003);
  const counter = await stats.counterMetric("c", "help").get();
  assert.deepEqual(
    counter.values.map((v) => [v.labels.method, v.labels.status, v.value]),
    [["GET", 200, 2], ["GET", 404, 1], ["PUT", 201, 1]],
  );
  const histogram = await stats.histogramMetric("h", "help").get();
  const getBuckets = histogram.values.filter((v) => v.metricName === "h_bucket" && v.labels.method === "GET").map((v) => v.value);
  assert.equal(getBuckets.length, latencyBucketsSeconds.length + 1);
  assert.equal(getBuckets[0], 1); // 0.0001 <= le 0.0001
  assert.equal(getBuckets[1], 2); // cumulative
  assert.equal(getBuckets.at(-2), 2); // 10 s is past 5 s
  assert.equal(getBuckets.at(-1), 3); // +Inf holds everything
  const count = histogram.values.find((v) => v.metricName === "h_count" && v.labels.method === "GET");
  assert.equal(count?.value, 3);
  const sum = histogram.values.find((v) => v.metricName === "h_sum" && v.labels.method === "PUT");
  assert.equal(sum?.value, 0.003);
});
