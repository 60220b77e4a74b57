import { readFileSync } from "node:fs";
import { checkLimits, defaultLimits, type Limits } from "../limits.js";
import { nodeConfigDefaults, type NodeConfig } from "../node/node-config.js";
import { AssertionError } from "../assert.js";
import { UsageError } from "./usage-error.js";
import { parseInteger } from "./parse-command-args.js";
import { parseSeedAddress, splitSeedList } from "../node/seed-address.js";
import { membershipBoundsDefault } from "../membership/membership-options.js";

/** A NodeConfig before the data directory has supplied (or confirmed) the node id. */
export type StartConfig = Omit<NodeConfig, "nodeId"> & { nodeId: string | undefined };

/** Settings a config file or flags may give; `limits` may name any subset of the limits. */
export type ConfigLayer = Partial<Omit<NodeConfig, "limits">> & { limits?: Partial<Limits> };

const logLevels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
const storageKinds = ["lmdb", "memory"] as const;
const portMax = 65_535;
/** Clock offsets beyond a day are typos, not fault injection. */
const clockOffsetAbsMaxMs = 24 * 3600 * 1000;
const configFileBytesMax = 1024 * 1024;
/** Membership keeps at most membershipBoundsDefault.seedsMax seeds. */
const seedsMax = membershipBoundsDefault.seedsMax;

/** Anti-entropy's schedule settings and their limits (a round at most daily, traffic at most 1 GiB/s). */
export const antiEntropyBounds = {
  antiEntropyIntervalMs: { min: 100, max: 24 * 3600 * 1000 },
  antiEntropyConcurrency: { min: 1, max: 64 },
  antiEntropyBytesPerSecond: { min: 1024, max: 1024 * 1024 * 1024 },
} as const;

/** The environment variables anti-entropy reads (between the config file and the flags). */
export const antiEntropyEnv = {
  antiEntropy: "SHOAL_ANTI_ENTROPY",
  antiEntropyIntervalMs: "SHOAL_ANTI_ENTROPY_INTERVAL_MS",
  antiEntropyConcurrency: "SHOAL_ANTI_ENTROPY_CONCURRENCY",
  antiEntropyBytesPerSecond: "SHOAL_ANTI_ENTROPY_BYTES_PER_SECOND",
} as const;

const layerKeys: ReadonlySet<string> = new Set([
  "host", "port", "peerPort", "dataDir", "nodeId", "storage", "durableWrites", "logLevel", "limits",
  "expirySweepIntervalMs", "shutdownGraceMs", "clockOffsetMs", "join", "advertisedHost", "joinTimeoutMs", "planMode",
  ...Object.keys(antiEntropyBounds), "antiEntropy",
]);

/**
 * Merges the defaults (nodeConfigDefaults, defaultLimits), the config file and the flags, later
 * layers winning, then validates the result so a bad port or limit fails before anything opens.
 * Relative paths stay relative to the working directory.
 *
 * @example
 *   resolveNodeConfig({ file: { port: 8100, limits: { valueBytesMax: 1048576 } }, flags: { port: 8200 } }).port // 8200
 */
export function resolveNodeConfig(layers: { file?: ConfigLayer; env?: ConfigLayer; flags: ConfigLayer }): StartConfig {
  const file = layers.file ?? {};
  checkLayerKeys(file);
  const limits = { ...defaultLimits, ...file.limits, ...layers.flags.limits };
  const merged = { ...nodeConfigDefaults, nodeId: undefined, ...withoutUndefined(file), ...withoutUndefined(layers.env ?? {}), ...withoutUndefined(layers.flags), limits };
  return validate(merged as StartConfig);
}

/**
 * The anti-entropy settings the environment gives (SHOAL_ANTI_ENTROPY=on|off and
 * SHOAL_ANTI_ENTROPY_INTERVAL_MS / _CONCURRENCY / _BYTES_PER_SECOND); a bad value is a
 * UsageError naming the variable and its limits.
 */
export function antiEntropyEnvLayer(env: Readonly<Record<string, string | undefined>>): ConfigLayer {
  const layer: ConfigLayer = {};
  const mode = env[antiEntropyEnv.antiEntropy];
  if (mode !== undefined && mode !== "") {
    if (mode !== "on" && mode !== "off") throw new UsageError(`${antiEntropyEnv.antiEntropy} must be on or off; got ${JSON.stringify(mode)}`, "start");
    layer.antiEntropy = mode;
  }
  for (const key of Object.keys(antiEntropyBounds) as (keyof typeof antiEntropyBounds)[]) {
    const text = env[antiEntropyEnv[key]];
    if (text !== undefined && text !== "") layer[key] = parseInteger("start", antiEntropyEnv[key], text, antiEntropyBounds[key]);
  }
  return layer;
}

/** Reads a JSON config file; any problem is a UsageError naming the file. */
export function readConfigFile(path: string): ConfigLayer {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new UsageError(`cannot read config file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, "start");
  }
  if (text.length > configFileBytesMax) throw new UsageError(`config file ${path} is ${text.length} bytes; the limit is ${configFileBytesMax}`, "start");
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`config file ${path} is not valid JSON: ${(error as Error).message}`, "start");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new UsageError(`config file ${path} must hold a JSON object`, "start");
  return parsed as ConfigLayer;
}

function checkLayerKeys(layer: ConfigLayer): void {
  for (const key of Object.keys(layer)) {
    if (!layerKeys.has(key)) throw new UsageError(`unknown config setting ${JSON.stringify(key)}; known: ${[...layerKeys].join(", ")}`, "start");
  }
  for (const key of Object.keys(layer.limits ?? {})) {
    if (!(key in defaultLimits)) throw new UsageError(`unknown limit ${JSON.stringify(key)} in config`, "start");
  }
}

function withoutUndefined<T extends object>(layer: T): Partial<T> {
  return Object.fromEntries(Object.entries(layer).filter(([key, value]) => value !== undefined && key !== "limits")) as Partial<T>;
}

function validate(config: StartConfig): StartConfig {
  checkString("host", config.host);
  checkString("dataDir", config.dataDir);
  checkInteger("port", config.port, 0, portMax);
  checkInteger("peerPort", config.peerPort, 0, portMax);
  if (config.port !== 0 && config.port === config.peerPort) fail(`port and peerPort must differ; both are ${config.port}`);
  checkChoice("logLevel", config.logLevel, logLevels);
  checkChoice("storage", config.storage, storageKinds);
  if (typeof config.durableWrites !== "boolean") fail(`durableWrites must be true or false; got ${JSON.stringify(config.durableWrites)}`);
  checkInteger("expirySweepIntervalMs", config.expirySweepIntervalMs, 1, 24 * 3600 * 1000);
  checkInteger("shutdownGraceMs", config.shutdownGraceMs, 0, 3600 * 1000);
  checkInteger("clockOffsetMs", config.clockOffsetMs, -clockOffsetAbsMaxMs, clockOffsetAbsMaxMs);
  if (config.nodeId !== undefined) checkString("nodeId", config.nodeId);
  checkSeeds(config.join);
  if (config.advertisedHost !== undefined) checkString("advertisedHost", config.advertisedHost);
  checkInteger("joinTimeoutMs", config.joinTimeoutMs, 1, 3600 * 1000);
  if (config.planMode !== undefined) checkChoice("planMode (--plan)", config.planMode, ["auto", "manual"]);
  checkChoice("antiEntropy", config.antiEntropy, ["on", "off"]);
  for (const [key, bounds] of Object.entries(antiEntropyBounds)) checkInteger(key, config[key as keyof typeof antiEntropyBounds], bounds.min, bounds.max);
  try {
    checkLimits(config.limits);
  } catch (error) {
    if (error instanceof AssertionError) fail(`invalid limits: ${error.message}`);
    throw error;
  }
  return config;
}

/** Seeds are "host:peerPort"; a config file may also give one comma-separated string per entry. */
function checkSeeds(value: unknown): void {
  if (!Array.isArray(value) || !value.every((entry) => typeof entry === "string")) fail(`join must be a list of "host:peerPort" strings; got ${JSON.stringify(value)}`);
  const seeds = splitSeedList(value as string[]);
  if (seeds.length > seedsMax) fail(`join names ${seeds.length} seeds; the limit is ${seedsMax}`);
  const bad = seeds.find((seed) => parseSeedAddress(seed) === undefined);
  if (bad !== undefined) fail(`join: ${JSON.stringify(bad)} is not host:peerPort (port 1 to ${portMax}; IPv6 hosts in brackets)`);
}

function checkString(name: string, value: unknown): void {
  if (typeof value !== "string" || value === "") fail(`${name} must be a non-empty string; got ${JSON.stringify(value)}`);
}

function checkInteger(name: string, value: unknown, min: number, max: number): void {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min || value > max) {
    fail(`${name} must be an integer from ${min} to ${max}; got ${JSON.stringify(value)}`);
  }
}

function checkChoice(name: string, value: unknown, choices: readonly string[]): void {
  if (typeof value !== "string" || !choices.includes(value)) fail(`${name} must be one of ${choices.join(", ")}; got ${JSON.stringify(value)}`);
}

function fail(message: string): never {
  throw new UsageError(message, "start");
}
