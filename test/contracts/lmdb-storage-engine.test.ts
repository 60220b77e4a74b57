import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LmdbStorageEngine } from "../../src/storage/lmdb-storage-engine.js";
import { storageEngineContract } from "./storage-engine.contract.js";

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), "shoal-lmdb-"));
}

storageEngineContract("lmdb", async () => {
  const path = await tempDir();
  const engine = await LmdbStorageEngine.open({ path });
  return {
    engine,
    cleanup: async () => {
      await engine.close();
      await rm(path, { recursive: true, force: true });
    },
  };
});

const text = (value: string) => new TextEncoder().encode(value);

test("lmdb engine: data survives close and reopen", async () => {
  const path = await tempDir();
  try {
    const first = await LmdbStorageEngine.open({ path });
    await first.write([
      { type: "put", key: text("a"), value: text("1") },
      { type: "put", key: text("b"), value: text("2") },
    ]);
    await first.write([{ type: "delete", key: text("a") }], { durable: true });
    await first.write([{ type: "put", key: text("c"), value: text("3") }]);
    await first.close();
    const second = await LmdbStorageEngine.open({ path });
    try {
      assert.deepEqual([...second.range({})], [
        { key: text("b"), value: text("2") },
        { key: text("c"), value: text("3") },
      ]);
    } finally {
      await second.close();
    }
  } finally {
    await rm(path, { recursive: true, force: true });
  }
});

test("lmdb engine: opens a directory whose name looks like a file", async () => {
  const parent = await tempDir();
  try {
    const engine = await LmdbStorageEngine.open({ path: join(parent, "node-1.data") });
    await engine.write([{ type: "put", key: text("k"), value: text("v") }]);
    assert.deepEqual(engine.get(text("k")), text("v"));
    await engine.close();
  } finally {
    await rm(parent, { recursive: true, force: true });
  }
});

test("lmdb engine: acknowledged writes survive the writing process being killed", async () => {
  const path = await tempDir();
  const engineUrl = new URL("../../src/storage/lmdb-storage-engine.js", import.meta.url).href;
  // The child acknowledges a durable and a plain write, then waits to be killed mid-stream.
  const script = `
    const { LmdbStorageEngine } = await import(${JSON.stringify(engineUrl)});
    const engine = await LmdbStorageEngine.open({ path: ${JSON.stringify(path)} });
    const text = (s) => new TextEncoder().encode(s);
    await engine.write([{ type: "put", key: text("durable"), value: text("1") }], { durable: true });
    await engine.write([{ type: "put", key: text("committed"), value: text("2") }]);
    process.stdout.write("acknowledged\\n");
    for (let i = 0; ; i++) await engine.write([{ type: "put", key: text("spin-" + i), value: text("x") }]);
  `;
  const child = spawn(process.execPath, [...process.execArgv, "--input-type=module", "--eval", script], { stdio: ["ignore", "pipe", "inherit"] });
  try {
    await waitForLine(child, "acknowledged", 30_000);
    child.kill("SIGKILL");
    await once(child, "exit");
    const engine = await LmdbStorageEngine.open({ path });
    try {
      assert.deepEqual(engine.get(text("durable")), text("1"));
      assert.deepEqual(engine.get(text("committed")), text("2"));
    } finally {
      await engine.close();
    }
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await rm(path, { recursive: true, force: true });
  }
});

/** Resolves when the child prints `line`; rejects if it exits first or the deadline passes. */
function waitForLine(child: ChildProcess, line: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => reject(new Error(`child did not print "${line}" within ${timeoutMs} ms`)), timeoutMs);
    child.stdout!.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(line)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`child exited (${code ?? signal}) before printing "${line}"`));
    });
  });
}
