import { test, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { Pool, type Dispatcher } from "undici";
import { ShoalHttpClient } from "../../src/client/http-client.js";
import { ProcessGroup, cliPath, startNode, waitForExit } from "./shoal-process.js";

/**
 * Issue 2, item 7: every acknowledged write survives kill -9, and a second process on the same
 * data directory is refused while the first keeps serving. Real processes, real LMDB.
 */
const group = new ProcessGroup();
after(() => group.cleanUp());

const writes = 500;
const inFlight = 64;
const valueBytesMax = 4096;

/** Deterministic value bytes for key i (sizes 1..4096), so the check needs no stored copy. */
function valueFor(index: number): Buffer {
  let x = (index * 2654435761) >>> 0 || 1;
  const size = 1 + (x % valueBytesMax);
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = x & 0xff;
  }
  return bytes;
}

test("every acknowledged PUT survives SIGKILL right after its acknowledgement", async () => {
  const dataDir = join(group.tempDir("shoal-kill9-"), "data");
  const first = await startNode(group, dataDir);
  const setup = new ShoalHttpClient({ url: first.url });
  await setup.createTable({ name: "durable" });
  await setup.close();

  const pool = new Pool(first.url, { connections: inFlight });
  const acknowledged: number[] = [];
  let next = 0;
  let settled = 0;
  const worker = async () => {
    while (next < writes) {
      const index = next++;
      let response: Dispatcher.ResponseData | undefined;
      try {
        response = await pool.request({
          method: "PUT",
          path: `/v1/tables/durable/items/key-${index}`,
          body: valueFor(index),
          headers: { "content-type": "application/octet-stream" },
        });
        if (response.statusCode >= 200 && response.statusCode < 300) acknowledged.push(index);
      } finally {
        // The moment the last answer is in, kill: no graceful anything, no waiting for bodies.
        if (++settled === writes) first.child.kill("SIGKILL");
      }
      await response.body.dump().catch(() => undefined);
    }
  };
  await Promise.allSettled(Array.from({ length: inFlight }, () => worker()));
  await pool.destroy();
  const exit = await first.exited;
  assert.equal(exit.signal, "SIGKILL");
  assert.equal(acknowledged.length, writes, "a healthy node acknowledges every PUT");

  const second = await startNode(group, dataDir);
  assert.equal(second.nodeId, first.nodeId, "the node id is kept in the data directory");
  const reader = new ShoalHttpClient({ url: second.url, connections: 8 });
  try {
    const missing: number[] = [];
    for (const index of acknowledged) {
      const item = await reader.getItem("durable", `key-${index}`).catch(() => undefined);
      if (item === undefined || !Buffer.from(item.value).equals(valueFor(index))) missing.push(index);
    }
    assert.deepEqual(missing, [], `acknowledged writes lost or changed after kill -9: ${missing.length}`);
  } finally {
    await reader.close();
    second.child.kill("SIGTERM");
    await second.exited;
  }
});

test("a second process on the same data directory exits with a clear error and the first keeps serving", async () => {
  const dataDir = join(group.tempDir("shoal-lock-"), "data");
  const first = await startNode(group, dataDir);
  const client = new ShoalHttpClient({ url: first.url });
  try {
    await client.createTable({ name: "still-here" });
    const snapshot = () => readdirSync(dataDir).filter((name) => name !== "lmdb").sort().map((name) => [name, readFileSync(join(dataDir, name), "utf8")]);
    const before = snapshot();

    const intruder = spawn(process.execPath, [cliPath, "start", "--port", "0", "--peer-port", "0", "--data-dir", dataDir], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    intruder.stderr!.setEncoding("utf8").on("data", (text: string) => (stderr += text));
    intruder.stdout!.resume();
    const exit = await waitForExit(group, intruder);
    assert.notEqual(exit.code, 0);
    assert.match(stderr, new RegExp(`data directory ${dataDir} is in use by process ${first.pid}`));
    assert.deepEqual(snapshot(), before, "the refused process changed the lock or the node id");

    assert.equal(await client.health(), true);
    await client.putItem("still-here", "k", Buffer.from("v"));
    assert.equal(Buffer.from((await client.getItem("still-here", "k")).value).toString(), "v");
  } finally {
    await client.close();
    first.child.kill("SIGTERM");
    await first.exited;
  }
});
