import { test } from "node:test";
import assert from "node:assert/strict";
import { formatBreakdown, parsePerfScript, perfBreakdown } from "./perf-breakdown.js";

// Four samples as `perf script -F tid,ip,sym,dso` prints them: two of the main thread (pid 100),
// one of a libuv pool thread in the kernel (an fsync), one of a V8 platform thread (a scavenge).
const script = [
  " 100 ",
  "\t    7f00000001 JS:*sendDynamoJson file:///x/dist/src/dynamodb/protocol/dynamo-response.js:71:31 (/tmp/perf-100.map)",
  "\t    7f00000002 JS:*run file:///x/dist/src/dynamodb/dynamodb-api.js:74:14 (/tmp/perf-100.map)",
  "\t          c4993d uv_run (/usr/bin/node)",
  "",
  " 100 ",
  "\t    7f00000003 JS:*load file:///x/dist/src/paxos/acceptor-service.js:325:9 (/tmp/perf-100.map)",
  "\t    7f00000004 JS:*underLocks file:///x/dist/src/paxos/acceptor-service.js:398:21 (/tmp/perf-100.map)",
  "",
  " 101 ",
  "\t    ffffffff81000001 ext4_sync_file ([kernel.kallsyms])",
  "\t          a00001 mdb_txn_commit (/x/node_modules/lmdb/build/Release/lmdb.node)",
  "\t          a00002 node::ThreadPoolWork::ScheduleWork()::{lambda(uv_work_s*)#1}::_FUN (/usr/bin/node)",
  "\t          a00003 worker (/usr/bin/node)",
  "",
  " 102 ",
  "\t          b00001 v8::internal::Scavenger::Process (/usr/bin/node)",
  "\t          b00002 node::(anonymous namespace)::PlatformWorkerThread (/usr/bin/node)",
  "",
].join("\n");

test("perf script text: one sample per tid line with its frames, innermost first", () => {
  const samples = parsePerfScript(script);
  assert.deepEqual(
    samples.map((s) => [s.tid, s.frames.length]),
    [
      [100, 3],
      [100, 2],
      [101, 4],
      [102, 2],
    ],
  );
  assert.equal(samples[2]!.frames[0], "ext4_sync_file ([kernel.kallsyms])");
});

test("the breakdown: thread roles, their kernel share, and the main thread's categories", () => {
  const breakdown = perfBreakdown(script, 100);
  assert.equal(breakdown.samples, 4);
  assert.deepEqual(breakdown.roles, { main: { samples: 2, kernel: 0 }, pool: { samples: 1, kernel: 1 }, v8: { samples: 1, kernel: 0 }, other: { samples: 0, kernel: 0 } });
  const main = Object.fromEntries(breakdown.main.filter((c) => c.samples > 0).map((c) => [c.category, c.samples]));
  // The answer's frame wins over the front door's below it (the categories' priority order).
  assert.deepEqual(main, { "HTTP answer (build and socket write)": 1, "acceptor record read (lmdb get, decode)": 1 });
  const text = formatBreakdown(breakdown, 100);
  assert.match(text, /50\.0% main {2}thread\(s\), 0% of it in the kernel {2}~50\.0 us\/op/);
  assert.match(text, /25\.0% pool {2}thread\(s\), 100% of it in the kernel/);
});

test("no samples: said so, no division by zero", () => {
  assert.equal(formatBreakdown(perfBreakdown("", 1)), "  perf: no samples\n");
});
