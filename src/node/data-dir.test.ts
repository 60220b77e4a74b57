import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DataDir, readProcessStat } from "./data-dir.js";
import { ShoalError } from "../errors.js";

function withTempDir(body: (dir: string) => void): void {
  const root = mkdtempSync(join(tmpdir(), "shoal-data-dir-"));
  try {
    body(join(root, "data"));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function writeLock(dir: string, pid: number, startTicks: number | null): void {
  writeFileSync(join(dir, "LOCK"), JSON.stringify({ pid, startTicks }));
}

function expectShoalError(code: string, pattern: RegExp): (error: unknown) => boolean {
  return (error) => error instanceof ShoalError && error.code === code && pattern.test(error.message);
}

test("open creates the directory and a 16-hex-character node id that survives a reopen", () => {
  withTempDir((dir) => {
    const first = DataDir.open({ path: dir });
    assert.match(first.nodeId, /^[0-9a-f]{16}$/);
    assert.equal(first.lmdbPath, join(dir, "lmdb"));
    first.release();
    const second = DataDir.open({ path: dir });
    assert.equal(second.nodeId, first.nodeId);
    second.release();
  });
});

test("a given node id is stored, and a different one is refused later without keeping the lock", () => {
  withTempDir((dir) => {
    DataDir.open({ path: dir, nodeId: "node-a" }).release();
    assert.equal(readFileSync(join(dir, "node-id"), "utf8").trim(), "node-a");
    assert.throws(() => DataDir.open({ path: dir, nodeId: "node-b" }), expectShoalError("NodeIdMismatch", /belongs to node node-a.*node-b/));
    assert.equal(existsSync(join(dir, "LOCK")), false);
    const again = DataDir.open({ path: dir });
    assert.equal(again.nodeId, "node-a");
    again.release();
  });
});

test("an invalid node id is refused before anything is created", () => {
  withTempDir((dir) => {
    assert.throws(() => DataDir.open({ path: dir, nodeId: "has space" }), expectShoalError("InvalidNodeId", /has space/));
    assert.equal(existsSync(dir), false);
  });
});

test("a second open of a held directory names the holder's pid and touches nothing", () => {
  withTempDir((dir) => {
    const held = DataDir.open({ path: dir });
    const before = readdirSync(dir).sort().map((name) => [name, readFileSync(join(dir, name), "utf8")]);
    const directoryModifiedMs = statSync(dir).mtimeMs;
    assert.throws(() => DataDir.open({ path: dir }), expectShoalError("DataDirInUse", new RegExp(`${dir} is in use by process ${process.pid}$`)));
    const after = readdirSync(dir).sort().map((name) => [name, readFileSync(join(dir, name), "utf8")]);
    assert.deepEqual(after, before);
    assert.equal(statSync(dir).mtimeMs, directoryModifiedMs, "the refused open created or removed a file");
    held.release();
  });
});

test("a lock held by another live process refuses the open", () => {
  withTempDir((dir) => {
    const parent = readProcessStat(process.ppid);
    assert.ok(parent, "this test needs /proc");
    DataDir.open({ path: dir }).release();
    writeLock(dir, process.ppid, parent.startTicks);
    assert.throws(() => DataDir.open({ path: dir }), expectShoalError("DataDirInUse", new RegExp(`in use by process ${process.ppid}$`)));
  });
});

test("a stale lock left by a killed process is taken over", () => {
  withTempDir((dir) => {
    const child = spawnSync(process.execPath, ["-e", "process.kill(process.pid, 'SIGKILL')"]);
    assert.equal(child.signal, "SIGKILL");
    DataDir.open({ path: dir }).release();
    writeLock(dir, child.pid!, 12345);
    const opened = DataDir.open({ path: dir });
    assert.equal(JSON.parse(readFileSync(join(dir, "LOCK"), "utf8")).pid, process.pid);
    opened.release();
  });
});

test("a lock whose pid was reused by a different process is stale", () => {
  withTempDir((dir) => {
    const self = readProcessStat(process.pid);
    assert.ok(self, "this test needs /proc");
    DataDir.open({ path: dir }).release();
    // Our own pid with another start time: an earlier process that had this pid (pid 1 in a container).
    writeLock(dir, process.pid, self.startTicks - 1);
    const opened = DataDir.open({ path: dir });
    opened.release();
  });
});

test("a garbled lock file is treated as stale", () => {
  withTempDir((dir) => {
    DataDir.open({ path: dir }).release();
    writeFileSync(join(dir, "LOCK"), "{not json");
    DataDir.open({ path: dir }).release();
    assert.equal(existsSync(join(dir, "LOCK")), false);
  });
});

test("release removes only our own lock and is idempotent", () => {
  withTempDir((dir) => {
    const opened = DataDir.open({ path: dir });
    opened.release();
    assert.equal(existsSync(join(dir, "LOCK")), false);
    writeLock(dir, process.ppid, readProcessStat(process.ppid)?.startTicks ?? null);
    opened.release();
    assert.equal(existsSync(join(dir, "LOCK")), true);
  });
});

test("a takeover already in progress refuses the open with the file to remove", () => {
  withTempDir((dir) => {
    DataDir.open({ path: dir }).release();
    writeLock(dir, 0x7ffffff0, 1);
    writeFileSync(join(dir, "LOCK.takeover"), JSON.stringify({ pid: process.ppid, startTicks: null }));
    assert.throws(() => DataDir.open({ path: dir }), expectShoalError("DataDirInUse", /being taken over by process .*LOCK\.takeover/));
  });
});
