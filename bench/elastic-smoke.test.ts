import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { closeHttp } from "./elastic-http.js";
import { healUnavailable } from "./elastic-heal.js";
import { runElastic, type ElasticSizes } from "./elastic-main.js";
import { formatElastic } from "./elastic-report.js";
import { shoalCliPath } from "./paths.js";

// A smoke run of the elastic benchmark at toy sizes: every part produces numbers and the report
// shows them. It checks that the benchmark works, never how fast anything is. The partition
// part runs only as root with ip and iptables (network namespaces); elsewhere it reports why not.

const tiny: ElasticSizes = { healKeys: 300, partitionMs: 1500, healDeadlineMs: 60_000, onOffKeys: 300, durationS: 0.5, warmupS: 0.1, joinItems: 600, baselineMs: 300, joinDeadlineMs: 60_000 };

test("the elastic benchmark at toy sizes reports heal time, on/off throughput and a join with numbers", { skip: existsSync(shoalCliPath) ? false : "no build (dist/src/cli/main.js)", timeout: 180_000 }, async () => {
  const results = await runElastic({ sizes: tiny, skipHeal: false, runs: 1, log: () => undefined });
  try {
    if (healUnavailable() === undefined) {
      assert.ok(!("skipped" in results.heal), "the partition part ran");
      const heal = results.heal as Exclude<typeof results.heal, { skipped: string }>;
      assert.equal(heal.keysLoaded, tiny.healKeys);
      assert.ok(heal.writesOk > 0, "writes went on during the partition");
      assert.ok(heal.rootsEqualMs !== null && heal.rootsEqualMs >= 0, `roots became equal after the heal: ${JSON.stringify(heal)}`);
    } else {
      assert.ok("skipped" in results.heal);
    }
    assert.deepEqual(results.onOff.map((row) => `${row.mode} ${row.op}`).sort(), ["off get", "off put", "on get", "on put"]);
    for (const row of results.onOff) assert.ok(row.result.ops > 0 && row.result.latency.p50Us > 0, `${row.mode} ${row.op} measured something`);
    assert.ok(!("skipped" in results.join));
    const join = results.join as Exclude<typeof results.join, { skipped: string }>;
    assert.ok(join.settleMs !== null, "the 4th node settled");
    assert.ok(join.itemsMoved > 0 && join.itemsMoved <= tiny.joinItems, `the 4th node received items: ${join.itemsMoved}`);
    assert.ok(join.reads.every((phase) => phase.ops > 0), "reads ran before and during the handoff");
    const report = formatElastic(results);
    assert.match(report, /on\/off throughput \d+\.\d\d/);
    assert.match(report, /4th node start until .*\*\*\d+\.\d s\*\*/);
    assert.doesNotMatch(report, /NaN|undefined/);
  } finally {
    await closeHttp();
  }
});
