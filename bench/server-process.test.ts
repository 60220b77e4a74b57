import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { keepServerLog, serverLogDir, startListeningProcess } from "./server-process.js";

/** Waits until `check` holds, polling on the event loop, or fails after `deadlineMs`. */
async function until(check: () => boolean, what: string, deadlineMs = 10_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!check()) {
    if (Date.now() > end) assert.fail(`not within ${deadlineMs} ms: ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

const script = `
  console.log("before");
  console.error("on stderr");
  console.log(JSON.stringify({ msg: "listening", url: "http://127.0.0.1:1" }));
  console.log("after");
  setInterval(() => {}, 1000);
`;

test("SHOAL_BENCH_LOG_DIR: a server's stdout and stderr, before and after it listens, go to DIR/<pid>.log", async () => {
  const dir = mkdtempSync(join(tmpdir(), "shoal-serverlog-"));
  try {
    const server = await startListeningProcess({ command: process.execPath, args: ["-e", script], deadlineMs: 10_000, logDir: dir });
    try {
      const path = join(dir, `${server.pid}.log`);
      await until(() => ["before", "on stderr", "listening", "after"].every((text) => readOrEmpty(path).includes(text)), "every line in the log", 5000);
    } finally {
      await server.stop(2000);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a server's log stops at its bound and says so", async () => {
  const dir = mkdtempSync(join(tmpdir(), "shoal-serverlog-"));
  try {
    const child = spawn(process.execPath, ["-e", `process.stdout.write("x".repeat(5000)); process.stdout.write("tail-that-does-not-fit");`], { stdio: ["ignore", "pipe", "pipe"] });
    const path = keepServerLog(child, dir, 5000);
    await new Promise<void>((resolve) => child.once("close", () => resolve()));
    await until(() => readOrEmpty(path).includes("log cut"), "the cut note");
    const text = readOrEmpty(path);
    assert.ok(!text.includes("tail-that-does-not-fit"), "nothing past the bound is written");
    assert.match(text, /it reached 5000 bytes/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("serverLogDir reads SHOAL_BENCH_LOG_DIR; unset or empty keeps nothing", () => {
  assert.equal(serverLogDir({}), undefined);
  assert.equal(serverLogDir({ SHOAL_BENCH_LOG_DIR: "" }), undefined);
  assert.equal(serverLogDir({ SHOAL_BENCH_LOG_DIR: "/tmp/x" }), "/tmp/x");
});
