import { test } from "node:test";
import assert from "node:assert/strict";
import { machineInfo, shortCommand } from "./machine-info.js";

test("a busy process is named by its program and first non-flag argument, paths cut to their last part, nothing else", () => {
  assert.equal(shortCommand("node /work/main/node_modules/.bin/tsc -p . --noEmit"), "node tsc");
  assert.equal(shortCommand("/usr/bin/redis-server 127.0.0.1:6379 --port 1"), "redis-server 127.0.0.1:6379");
  assert.equal(shortCommand("/usr/bin/node --require /x/preflight.cjs --secret=abc"), "node preflight.cjs");
  assert.equal(shortCommand("[kworker/0:1H-kblockd]"), "[kworker/0:1H-kblockd]");
  const long = shortCommand(`/usr/bin/node /${"a".repeat(80)}.js`);
  assert.equal(long.length, 40);
  assert.ok(long.endsWith("..."));
});

test("machine info lists busy processes as '<cpu>% <command>' and never the ps it ran", () => {
  const info = machineInfo(new Date(0));
  for (const line of info.busyProcesses) {
    assert.match(line, /^[\d.]+% \S/);
    assert.doesNotMatch(line, /^[\d.]+% ps /);
  }
});
