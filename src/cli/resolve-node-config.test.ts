import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { antiEntropyEnvLayer, readConfigFile, resolveNodeConfig } from "./resolve-node-config.js";
import { UsageError } from "./usage-error.js";
import { defaultLimits } from "../limits.js";

const usageError = (pattern: RegExp) => (error: unknown) => error instanceof UsageError && pattern.test(error.message);

test("defaults apply when neither file nor flags say anything", () => {
  const config = resolveNodeConfig({ flags: {} });
  assert.equal(config.host, "127.0.0.1");
  assert.equal(config.port, 8000);
  assert.equal(config.dataDir, "./data");
  assert.equal(config.storage, "lmdb");
  assert.equal(config.nodeId, undefined);
  assert.deepEqual(config.limits, defaultLimits);
});

test("the config file overrides defaults and flags override the file, limits merged key by key", () => {
  const config = resolveNodeConfig({
    file: { port: 8100, host: "0.0.0.0", logLevel: "warn", limits: { valueBytesMax: 1024 * 1024 } },
    flags: { port: 8200, host: undefined },
  });
  assert.equal(config.port, 8200);
  assert.equal(config.host, "0.0.0.0");
  assert.equal(config.logLevel, "warn");
  assert.equal(config.limits.valueBytesMax, 1024 * 1024);
  assert.equal(config.limits.keyBytesMax, defaultLimits.keyBytesMax);
});

test("a bad port, level, storage or clash of ports is a usage error naming the setting", () => {
  assert.throws(() => resolveNodeConfig({ flags: { port: 70000 } }), usageError(/port must be an integer from 0 to 65535; got 70000/));
  assert.throws(() => resolveNodeConfig({ flags: { logLevel: "loud" as never } }), usageError(/logLevel must be one of/));
  assert.throws(() => resolveNodeConfig({ flags: { storage: "disk" as never } }), usageError(/storage must be one of lmdb, memory/));
  assert.throws(() => resolveNodeConfig({ flags: { port: 9000, peerPort: 9000 } }), usageError(/port and peerPort must differ; both are 9000/));
  assert.throws(() => resolveNodeConfig({ file: { port: "8000" as never }, flags: {} }), usageError(/port must be an integer/));
});

test("unknown settings and limits in the file are refused, so a typo does not pass silently", () => {
  assert.throws(() => resolveNodeConfig({ file: { prot: 1 } as never, flags: {} }), usageError(/unknown config setting "prot"/));
  assert.throws(() => resolveNodeConfig({ file: { limits: { keyBytes: 5 } } as never, flags: {} }), usageError(/unknown limit "keyBytes"/));
});

test("limits that contradict each other are a usage error, not an assertion crash", () => {
  assert.throws(
    () => resolveNodeConfig({ file: { limits: { valueBytesMax: 64 * 1024 * 1024 } }, flags: {} }),
    usageError(/invalid limits: requestBodyBytesMax must admit the largest value/),
  );
});

test("readConfigFile names the file when it is missing or not a JSON object", () => {
  const dir = mkdtempSync(join(tmpdir(), "shoal-config-"));
  try {
    assert.throws(() => readConfigFile(join(dir, "missing.json")), usageError(/cannot read config file .*missing\.json: ENOENT/));
    writeFileSync(join(dir, "bad.json"), "{port: 1}");
    assert.throws(() => readConfigFile(join(dir, "bad.json")), usageError(/bad\.json is not valid JSON/));
    writeFileSync(join(dir, "array.json"), "[1]");
    assert.throws(() => readConfigFile(join(dir, "array.json")), usageError(/must hold a JSON object/));
    writeFileSync(join(dir, "good.json"), '{"port": 8123}');
    assert.deepEqual(readConfigFile(join(dir, "good.json")), { port: 8123 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("seeds to join come from the file or the flags, and each must be host:peerPort", () => {
  assert.deepEqual(resolveNodeConfig({ flags: {} }).join, []);
  assert.deepEqual(resolveNodeConfig({ file: { join: ["127.0.0.1:9000,[::1]:9001"] }, flags: {} }).join, ["127.0.0.1:9000,[::1]:9001"]);
  assert.deepEqual(resolveNodeConfig({ file: { join: ["a:1"] }, flags: { join: ["b:2"] } }).join, ["b:2"]);
  assert.throws(() => resolveNodeConfig({ flags: { join: ["127.0.0.1"] } }), usageError(/join: "127.0.0.1" is not host:peerPort/));
  assert.throws(() => resolveNodeConfig({ file: { join: "a:1" as never }, flags: {} }), usageError(/join must be a list/));
  assert.throws(() => resolveNodeConfig({ flags: { joinTimeoutMs: 0 } }), usageError(/joinTimeoutMs must be an integer/));
});

test("anti-entropy settings come from the file, the environment and the flags, flags winning, and default to on", () => {
  const defaults = resolveNodeConfig({ flags: {} });
  assert.equal(defaults.antiEntropy, "on");
  assert.equal(defaults.antiEntropyIntervalMs, 10_000);
  assert.equal(defaults.antiEntropyConcurrency, 2);
  assert.equal(defaults.antiEntropyBytesPerSecond, 4 * 1024 * 1024);
  const env = antiEntropyEnvLayer({ SHOAL_ANTI_ENTROPY: "off", SHOAL_ANTI_ENTROPY_INTERVAL_MS: "2500", SHOAL_ANTI_ENTROPY_CONCURRENCY: "", PATH: "/bin" });
  assert.deepEqual(env, { antiEntropy: "off", antiEntropyIntervalMs: 2500 });
  const config = resolveNodeConfig({ file: { antiEntropyConcurrency: 4, antiEntropyIntervalMs: 1000 }, env, flags: { antiEntropy: "on" } });
  assert.equal(config.antiEntropy, "on", "the flag beats the environment");
  assert.equal(config.antiEntropyIntervalMs, 2500, "the environment beats the file");
  assert.equal(config.antiEntropyConcurrency, 4);
});

test("bad anti-entropy settings are refused naming the setting and its limits", () => {
  assert.throws(() => resolveNodeConfig({ flags: { antiEntropy: "maybe" as never } }), usageError(/antiEntropy must be one of on, off; got "maybe"/));
  assert.throws(() => resolveNodeConfig({ file: { antiEntropyIntervalMs: 10 }, flags: {} }), usageError(/antiEntropyIntervalMs must be an integer from 100 to 86400000; got 10/));
  assert.throws(() => resolveNodeConfig({ file: { antiEntropyConcurrency: 0 }, flags: {} }), usageError(/antiEntropyConcurrency must be an integer from 1 to 64; got 0/));
  assert.throws(() => resolveNodeConfig({ file: { antiEntropyBytesPerSecond: 1.5 }, flags: {} }), usageError(/antiEntropyBytesPerSecond must be an integer from 1024 to 1073741824/));
  assert.throws(() => antiEntropyEnvLayer({ SHOAL_ANTI_ENTROPY: "yes" }), usageError(/SHOAL_ANTI_ENTROPY must be on or off; got "yes"/));
  assert.throws(() => antiEntropyEnvLayer({ SHOAL_ANTI_ENTROPY_CONCURRENCY: "65" }), usageError(/SHOAL_ANTI_ENTROPY_CONCURRENCY must be an integer from 1 to 64; got "65"/));
  assert.throws(() => antiEntropyEnvLayer({ SHOAL_ANTI_ENTROPY_BYTES_PER_SECOND: "4MB" }), usageError(/SHOAL_ANTI_ENTROPY_BYTES_PER_SECOND must be an integer from 1024/));
});
