import { test } from "node:test";
import assert from "node:assert/strict";
import { Packr } from "msgpackr";
import { MemoryStorageEngine } from "../storage/memory-storage-engine.js";
import { KnownPeers, knownPeersMetaKey } from "./known-peers.js";

test("known peers survive a reload, with moves and deletions applied", async () => {
  const storage = new MemoryStorageEngine();
  const peers = KnownPeers.load(storage, 8);
  await peers.set({ id: "n2", host: "127.0.0.1", peerPort: 9001 });
  await peers.set({ id: "n3", host: "127.0.0.1", peerPort: 9002 });
  await peers.set({ id: "n2", host: "10.0.0.2", peerPort: 9001 });
  await peers.delete("n3");
  assert.deepEqual(KnownPeers.load(storage, 8).list(), [{ id: "n2", host: "10.0.0.2", peerPort: 9001 }]);
});

test("beyond peersMax new peers are not kept, and malformed stored entries are dropped", async () => {
  const storage = new MemoryStorageEngine();
  const peers = KnownPeers.load(storage, 1);
  await peers.set({ id: "n2", host: "h", peerPort: 1 });
  await peers.set({ id: "n3", host: "h", peerPort: 2 });
  assert.deepEqual(peers.list().map((p) => p.id), ["n2"]);
  const packr = new Packr({ useRecords: false });
  await storage.write([{ type: "put", key: knownPeersMetaKey, value: packr.pack([{ id: "ok", host: "h", peerPort: 3 }, { id: "", host: "h", peerPort: 1 }, { id: "x", host: "h", peerPort: 70000 }, 7]) }]);
  assert.deepEqual(KnownPeers.load(storage, 8).list(), [{ id: "ok", host: "h", peerPort: 3 }]);
  await storage.write([{ type: "put", key: knownPeersMetaKey, value: new Uint8Array([0xc1]) }]);
  assert.deepEqual(KnownPeers.load(storage, 8).list(), []);
});
