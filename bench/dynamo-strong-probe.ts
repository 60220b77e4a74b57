import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { AcceptorService } from "../src/paxos/acceptor-service.js";
import { StrongCoordinator, type StrongDecision } from "../src/paxos/strong-coordinator.js";
import { createNodeRuntime } from "../src/runtime/node-runtime.js";
import { encodeItemKey } from "../src/storage/item-key.js";
import { LmdbStorageEngine } from "../src/storage/lmdb-storage-engine.js";
import { bounded, median } from "./probe-runs.js";

/**
 * The strong path's own CPU per change and per linearizable read on one node, in one process
 * (no HTTP, no DynamoDB JSON): a StrongCoordinator over this node's AcceptorService on LMDB (a
 * temporary directory; every accept durable, group commit), a placement of one node (as a
 * one-node cluster caps every n to 1), `--concurrency` changes of `--value-bytes` in flight over
 * `--keys` keys. Runs alternate the local one-write round (paxos/local-change.ts) with the
 * ordinary rounds (`localChanges: false`) run by run in the same process, so both share the
 * machine's weather; CPU is process.cpuUsage (every thread, LMDB's writer included) per
 * operation. A profiling aid for issue 5's PutItem cost, not a benchmark of record.
 *
 *   node dist/bench/dynamo-strong-probe.js --runs 5 --ops 20000
 *   node --cpu-prof dist/bench/dynamo-strong-probe.js --variants local
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: "string", default: "5" },
      ops: { type: "string", default: "20000" },
      concurrency: { type: "string", default: "64" },
      keys: { type: "string", default: "2000" },
      "value-bytes": { type: "string", default: "1024" },
      variants: { type: "string", default: "local,rounds" },
    },
  });
  const wanted = values.variants.split(",").filter((name) => name !== "");
  for (const name of wanted) if (name !== "local" && name !== "rounds") throw new Error(`--variants takes local, rounds or both; got ${JSON.stringify(values.variants)}`);
  if (wanted.length === 0) throw new Error("--variants takes local, rounds or both; got nothing");
  const runs = bounded(values.runs, "--runs", 1, 50);
  const ops = bounded(values.ops, "--ops", 100, 10_000_000);
  const concurrency = bounded(values.concurrency, "--concurrency", 1, 4096);
  const keyCount = bounded(values.keys, "--keys", 1, 1_000_000);
  const valueBytes = bounded(values["value-bytes"], "--value-bytes", 1, 400_000);
  const dir = mkdtempSync(join(tmpdir(), "shoal-strong-probe-"));
  const storage = await LmdbStorageEngine.open({ path: dir });
  try {
    const runtime = createNodeRuntime({ nodeId: "n1", storage, clockSkewMaxMs: 60_000, seed: 1 });
    const acceptors = new AcceptorService({ runtime });
    const placement = { acceptorsFor: () => ({ acceptors: ["n1"], ringVersion: 1 }), ringVersion: () => 1 };
    const all = [
      { name: "local", strong: new StrongCoordinator({ runtime, acceptors, placement, requestTimeoutMs: 1_000 }) },
      { name: "rounds", strong: new StrongCoordinator({ runtime, acceptors, placement, requestTimeoutMs: 1_000, localChanges: false }) },
    ];
    const variants = all.filter((variant) => wanted.includes(variant.name));
    const keys = Array.from({ length: keyCount }, (_, i) => encodeItemKey(1, new TextEncoder().encode(`k${i}`)));
    const value = new Uint8Array(valueBytes).fill(120);
    const decide = (): StrongDecision => ({ type: "set", value: { value, contentType: "application/octet-stream", metadata: [], expiresAtMs: null } });
    const rows: { name: string; op: string; us: number }[] = [];
    for (const variant of variants) await drive(ops / 10, concurrency, (i) => variant.strong.change(keys[i % keyCount]!, 3, decide)); // warm-up
    for (let run = 1; run <= runs; run++) {
      for (const variant of run % 2 === 1 ? variants : [...variants].reverse()) {
        for (const op of ["put", "read"] as const) {
          const before = process.cpuUsage();
          const failed = await drive(ops, concurrency, (i) => (op === "put" ? variant.strong.change(keys[i % keyCount]!, 3, decide) : variant.strong.readFast(keys[i % keyCount]!, 3)));
          const used = process.cpuUsage(before);
          const us = (used.user + used.system) / ops;
          rows.push({ name: variant.name, op, us });
          process.stdout.write(`run ${run} ${variant.name.padEnd(6)} ${op.padEnd(4)} ${us.toFixed(1)} us CPU/op${failed > 0 ? `  ${failed} failed` : ""}  loadavg ${loadavg()[0]!.toFixed(1)}\n`);
        }
      }
    }
    process.stdout.write("medians:\n");
    for (const variant of variants) {
      for (const op of ["put", "read"]) {
        const group = rows.filter((row) => row.name === variant.name && row.op === op).map((row) => row.us);
        process.stdout.write(`  ${variant.name.padEnd(6)} ${op.padEnd(4)} ${median(group).toFixed(1)} us CPU/op (${group.length} runs, min ${Math.min(...group).toFixed(1)})\n`);
      }
    }
  } finally {
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `total` operations, `concurrency` in flight; the number that did not answer ok. */
async function drive(total: number, concurrency: number, op: (i: number) => Promise<{ ok: boolean }>): Promise<number> {
  let next = 0;
  let failed = 0;
  const worker = async (): Promise<void> => {
    while (next < total) {
      const result = await op(next++);
      if (!result.ok) failed++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return failed;
}

await main();
