import { test } from "node:test";
import assert from "node:assert/strict";
import { MemoryStorageEngine } from "../storage/memory-storage-engine.js";
import { NodeMetrics } from "./node-metrics.js";

test("/metrics shows tombstones waiting for a member down and the keys and partitions the partition release dropped", async () => {
  const metrics = new NodeMetrics({ nodeId: "n1", storage: new MemoryStorageEngine() });
  const stats = { tombstonesWaiting: 3, tombstonesHeldBack: 12, releasedKeys: 40, releasedPartitions: 5 };
  metrics.setCollectionSource(() => stats);
  const text = await metrics.text();
  assert.match(text, /^shoal_tombstones_waiting_member_down\{node="n1"\} 3$/m);
  assert.match(text, /^shoal_tombstone_gc_held_back\{node="n1"\} 12$/m);
  assert.match(text, /^shoal_partition_release_keys\{node="n1"\} 40$/m);
  assert.match(text, /^shoal_partition_release_partitions\{node="n1"\} 5$/m);
  stats.tombstonesWaiting = 0;
  assert.match(await metrics.text(), /^shoal_tombstones_waiting_member_down\{node="n1"\} 0$/m, "read at scrape time");
});

test("/metrics shows ring conflicts, departure records, pending departures and the oldest pending age, read at scrape time", async () => {
  const metrics = new NodeMetrics({ nodeId: "n1", storage: new MemoryStorageEngine() });
  const stats = { ringConflicts: 2, departureRecords: 3, departuresPending: 1, oldestPendingDepartureAgeMs: 4_500 };
  metrics.setRingSource(() => stats);
  const text = await metrics.text();
  assert.match(text, /^shoal_ring_conflicts\{node="n1"\} 2$/m);
  assert.match(text, /^shoal_departure_records\{node="n1"\} 3$/m);
  assert.match(text, /^shoal_departures_pending\{node="n1"\} 1$/m);
  assert.match(text, /^shoal_departure_oldest_pending_age_seconds\{node="n1"\} 4.5$/m);
  stats.departuresPending = 0;
  assert.match(await metrics.text(), /^shoal_departures_pending\{node="n1"\} 0$/m);
});
