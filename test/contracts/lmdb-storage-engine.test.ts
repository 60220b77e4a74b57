import { test } from "node:test";
import assert from "node:assert/strict";
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
