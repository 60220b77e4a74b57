import { pino, type Logger } from "pino";
import type { Command, CliIo } from "./command.js";
import { choiceFlag, parseCommandArgs, parseInteger, stringFlag, stringsFlag, type FlagValues } from "./parse-command-args.js";
import { splitSeedList } from "../node/seed-address.js";
import { antiEntropyBounds, antiEntropyEnvLayer, readConfigFile, resolveNodeConfig, type ConfigLayer, type StartConfig } from "./resolve-node-config.js";
import { DataDir } from "../node/data-dir.js";
import type { NodeConfig } from "../node/node-config.js";
import { ShoalNode } from "../node/shoal-node.js";
import { LmdbStorageEngine } from "../storage/lmdb-storage-engine.js";
import { MemoryStorageEngine } from "../storage/memory-storage-engine.js";
import type { StorageEngine } from "../storage/storage-engine.js";

const usage = `Usage: shoal start [options]

Starts a Shoal node in the foreground. Settings come from the defaults, then the JSON config file,
then the flags (flags win). Logs are JSON lines on stdout; the "listening" line carries the url
and the node id. SIGINT or SIGTERM drains in-flight requests and closes storage; a second signal
exits at once.

Options:
  --host H             address to listen on (default 127.0.0.1)
  --port P             client port for the REST API; 0 picks a free port (default 8000)
  --peer-port Q        peer port for node-to-node traffic (membership); 0 picks a free port (default 9000)
  --join HOST:PORT     join the cluster of the node whose peer port this is; repeat the flag or
                       separate seeds by commas; without it the node forms a cluster of one
  --advertise-host H   host other nodes and clients use to reach this one (default: --host, or
                       127.0.0.1 when --host is 0.0.0.0 or ::)
  --data-dir D         data directory; LMDB lives in D/lmdb (default ./data)
  --node-id ID         node id; generated once and kept in the data directory when not given
  --config FILE        JSON file with any NodeConfig setting, e.g. {"port": 8100, "limits": {"valueBytesMax": 1048576}}
  --log-level L        fatal, error, warn, info, debug, trace or silent (default info)
  --storage S          lmdb or memory (default lmdb; memory keeps nothing across restarts)
  --clock-offset-ms N  fault injection: add N ms to this node's wall clock
  --plan MODE          auto or manual: the cluster's plan mode. auto (the default) claims a node
                       started with --join at once; manual keeps it "joining", owning nothing,
                       until "shoal cluster commit". A node forming a cluster starts it in MODE;
                       a new node joining with --plan sets MODE cluster-wide first; a restart
                       keeps the cluster's mode. When a committed leave (or replace) of this
                       node has settled, the process logs "left the cluster" and exits 0.
  --anti-entropy M     on or off: Merkle-tree repair between replicas in the background (default on;
                       off keeps no trees and runs no exchanges). Env SHOAL_ANTI_ENTROPY
  --anti-entropy-interval-ms N        time between exchange rounds, 100 to 86400000 (default 10000)
  --anti-entropy-concurrency N        exchanges at once, 1 to 64 (default 2)
  --anti-entropy-bytes-per-second N   exchange traffic, 1024 to 1073741824 (default 4194304)
                       (env SHOAL_ANTI_ENTROPY_INTERVAL_MS, _CONCURRENCY, _BYTES_PER_SECOND;
                       flags win over the environment, which wins over the config file)
  -h, --help           show this help

Examples:
  shoal start --port 8000 --data-dir ./data
  shoal start --port 8001 --peer-port 9001 --data-dir ./data2 --join 127.0.0.1:9000
`;

const flagSpec = {
  host: { type: "string" },
  port: { type: "string" },
  "peer-port": { type: "string" },
  join: { type: "string", multiple: true },
  "advertise-host": { type: "string" },
  "data-dir": { type: "string" },
  "node-id": { type: "string" },
  config: { type: "string" },
  "log-level": { type: "string" },
  storage: { type: "string" },
  "clock-offset-ms": { type: "string" },
  plan: { type: "string" },
  "anti-entropy": { type: "string" },
  "anti-entropy-interval-ms": { type: "string" },
  "anti-entropy-concurrency": { type: "string" },
  "anti-entropy-bytes-per-second": { type: "string" },
} as const;

export const startCommand: Command = {
  name: "start",
  summary: "start a node in the foreground",
  usage,
  async run(argv: string[], io: CliIo): Promise<number> {
    const args = parseCommandArgs("start", argv, flagSpec, { min: 0, max: 0 });
    if (args.help) {
      io.stdout.write(usage);
      return 0;
    }
    const configPath = stringFlag(args.flags, "config");
    const config = resolveNodeConfig({
      ...(configPath !== undefined ? { file: readConfigFile(configPath) } : {}),
      env: antiEntropyEnvLayer(process.env),
      flags: flagLayer(args.flags),
    });
    return runNode(config, io);
  },
};

/** Flags as a config layer; numbers are checked here, the rest in resolveNodeConfig. */
function flagLayer(flags: FlagValues): ConfigLayer {
  const port = (name: string) => {
    const text = stringFlag(flags, name);
    return text === undefined ? undefined : parseInteger("start", `--${name}`, text, { min: 0, max: 65_535 });
  };
  const offset = stringFlag(flags, "clock-offset-ms");
  return {
    host: stringFlag(flags, "host"),
    port: port("port"),
    peerPort: port("peer-port"),
    join: stringsFlag(flags, "join").length > 0 ? splitSeedList(stringsFlag(flags, "join")) : undefined,
    advertisedHost: stringFlag(flags, "advertise-host"),
    dataDir: stringFlag(flags, "data-dir"),
    nodeId: stringFlag(flags, "node-id"),
    logLevel: stringFlag(flags, "log-level") as NodeConfig["logLevel"] | undefined,
    storage: stringFlag(flags, "storage") as NodeConfig["storage"] | undefined,
    clockOffsetMs: offset === undefined ? undefined : parseInteger("start", "--clock-offset-ms", offset, { min: -86_400_000, max: 86_400_000 }),
    planMode: stringFlag(flags, "plan") as NodeConfig["planMode"],
    ...antiEntropyFlags(flags),
  };
}

/** --anti-entropy on|off and its schedule's integers, each checked against its limits here. */
function antiEntropyFlags(flags: FlagValues): ConfigLayer {
  const integer = (name: string, bounds: { min: number; max: number }) => {
    const text = stringFlag(flags, name);
    return text === undefined ? undefined : parseInteger("start", `--${name}`, text, bounds);
  };
  return {
    antiEntropy: choiceFlag("start", flags, "anti-entropy", ["on", "off"] as const),
    antiEntropyIntervalMs: integer("anti-entropy-interval-ms", antiEntropyBounds.antiEntropyIntervalMs),
    antiEntropyConcurrency: integer("anti-entropy-concurrency", antiEntropyBounds.antiEntropyConcurrency),
    antiEntropyBytesPerSecond: integer("anti-entropy-bytes-per-second", antiEntropyBounds.antiEntropyBytesPerSecond),
  };
}

/**
 * Lock the data directory, open storage, start the node, wait for a signal, then shut down in
 * reverse order. The lock is taken first and released last, so a refused second process never
 * opens LMDB.
 */
async function runNode(startConfig: StartConfig, io: CliIo): Promise<number> {
  const logger = pino({ level: startConfig.logLevel, base: { pid: process.pid } }, io.stdout);
  const dataDir = DataDir.open({ path: startConfig.dataDir, ...(startConfig.nodeId !== undefined ? { nodeId: startConfig.nodeId } : {}) });
  const config: NodeConfig = { ...startConfig, nodeId: dataDir.nodeId };
  let storage: StorageEngine | undefined;
  let node: ShoalNode | undefined;
  try {
    storage = config.storage === "lmdb" ? await LmdbStorageEngine.open({ path: dataDir.lmdbPath }) : new MemoryStorageEngine();
    const stopped = waitForStopSignal(logger);
    node = await ShoalNode.start(config, { storage, logger });
    logger.info({ url: node.url, nodeId: node.nodeId, dataDir: config.dataDir, storage: config.storage, peerPort: node.peerPort }, "listening");
    const left = node.left.then(() => "left" as const);
    const signal = await Promise.race([stopped, left]);
    if (signal === "left") logger.info({ nodeId: node.nodeId }, "this node left the cluster (its partitions were handed off): shutting down");
    else logger.info({ signal }, "shutting down: draining in-flight requests");
    return 0;
  } catch (error) {
    logger.fatal({ err: error }, "node failed");
    throw error;
  } finally {
    await shutDown({ node, storage, dataDir, logger });
  }
}

async function shutDown(parts: { node: ShoalNode | undefined; storage: StorageEngine | undefined; dataDir: DataDir; logger: Logger }): Promise<void> {
  try {
    await parts.node?.close();
    await parts.storage?.close();
    parts.logger.info("stopped");
  } finally {
    parts.dataDir.release();
  }
}

/** Resolves on the first SIGINT/SIGTERM; a second one exits at once (drain skipped). */
function waitForStopSignal(logger: Logger): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let received = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (received) {
        logger.warn({ signal }, "second signal: exiting without draining");
        process.exit(1);
      }
      received = true;
      resolve(signal);
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
}
