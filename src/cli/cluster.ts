import { resolve } from "node:path";
import { fetch } from "undici";
import type { ClusterStatus } from "../api/cluster-handler.js";
import { ShoalError } from "../errors.js";
import type { Command, CliIo } from "./command.js";
import { formatClusterStatus, formatTable, parseClusterStatus } from "./cluster-table.js";
import { LocalCluster, type LocalNode, type NodeExit } from "./local-cluster.js";
import { planSubcommands, runPlanSubcommand } from "./cluster-plan.js";
import { integerFlag, parseCommandArgs, stringFlag } from "./parse-command-args.js";
import { UsageError } from "./usage-error.js";
import { defaultNodeUrl, urlFlag, urlHelp, writeLine } from "./with-client.js";

const nodesMax = 7;

const usage = `Usage: shoal cluster [--nodes N] [--port P] [--peer-port Q] [--data-dir D] [--log-level L]
       shoal cluster status [--url URL]
       shoal cluster plan|commit|leave|replace|forget ...   (membership plans: "shoal cluster plan --help")

"shoal cluster" starts a local cluster of N separate "shoal start" processes on loopback:
client ports from --port upward, peer ports from --peer-port upward, data directories
D/node-1 .. D/node-N, nodes 2..N joining node 1. It prints the endpoints once every node is
listening, then waits until all of them see each other "up". Each node logs to D/node-<i>.log.
Ctrl-C (or SIGTERM) stops every node gracefully; a second one kills them.

"shoal cluster status" prints a node's view of the cluster (GET /v1/cluster) as a table.

"shoal cluster plan" shows or stages membership changes (join, leave, replace, the plan mode),
"shoal cluster commit" applies them, "shoal cluster leave [ID]" and "shoal cluster replace OLD
NEW" stage and commit in one step; see "shoal cluster plan --help".

Options:
  --nodes N            how many nodes, 1 to ${nodesMax} (default 3)
  --port P             client port of node 1; node i gets P+i-1; 0 picks free ports (default 8000)
  --peer-port Q        peer port of node 1; node i gets Q+i-1; 0 picks free ports (default 9000)
  --data-dir D         parent of the nodes' data directories (default ./data)
  --log-level L        the nodes' log level (default info)
${urlHelp} (status only)
  -h, --help           show this help

Examples:
  shoal cluster --nodes 3
  shoal cluster status --url http://127.0.0.1:8001
`;

const startDeadlineMs = 30_000;
/** How long `shoal cluster` waits for every node to see every other "up" after they listen. */
const formDeadlineMs = 30_000;
const pollIntervalMs = 100;
const statusTimeoutMs = 5000;

const flagSpec = {
  ...urlFlag,
  nodes: { type: "string" },
  port: { type: "string" },
  "peer-port": { type: "string" },
  "data-dir": { type: "string" },
  "log-level": { type: "string" },
} as const;

export const clusterCommand: Command = {
  name: "cluster",
  summary: "start a local multi-process cluster, or show a node's view of one (status)",
  usage,
  async run(argv: string[], io: CliIo): Promise<number> {
    const first = argv[0];
    if (first !== undefined && planSubcommands.includes(first)) return runPlanSubcommand(first, argv.slice(1), io);
    const args = parseCommandArgs("cluster", argv, flagSpec, { min: 0, max: 1 });
    if (args.help) {
      io.stdout.write(usage);
      return 0;
    }
    const [sub] = args.positionals;
    if (sub === "status") {
      for (const name of ["nodes", "port", "peer-port", "data-dir", "log-level"]) {
        if (args.flags[name] !== undefined) throw new UsageError(`--${name} does not apply to "cluster status"`, "cluster");
      }
      return printStatus(stringFlag(args.flags, "url") ?? defaultNodeUrl, io);
    }
    if (sub !== undefined) throw new UsageError(`unknown subcommand ${JSON.stringify(sub)}; use status, ${planSubcommands.join(", ")} or none`, "cluster");
    if (args.flags.url !== undefined) throw new UsageError(`--url applies to "cluster status" only`, "cluster");
    const portBounds = { min: 0, max: 65_535 - nodesMax };
    return runLocalCluster(
      {
        nodes: integerFlag("cluster", args.flags, "nodes", { min: 1, max: nodesMax }) ?? 3,
        port: integerFlag("cluster", args.flags, "port", portBounds) ?? 8000,
        peerPort: integerFlag("cluster", args.flags, "peer-port", portBounds) ?? 9000,
        dataDir: resolve(stringFlag(args.flags, "data-dir") ?? "./data"),
        logLevel: stringFlag(args.flags, "log-level") ?? "info",
      },
      io,
    );
  },
};

async function printStatus(url: string, io: CliIo): Promise<number> {
  let endpoint: URL;
  try {
    endpoint = new URL("/v1/cluster", url);
    if (endpoint.protocol !== "http:") throw new Error("not http");
  } catch {
    throw new UsageError(`--url must be an http://host:port address; got ${JSON.stringify(url)}`, "cluster");
  }
  await writeLine(io.stdout, formatClusterStatus(await fetchStatus(endpoint)).trimEnd());
  return 0;
}

async function fetchStatus(endpoint: URL): Promise<ClusterStatus> {
  let res: Awaited<ReturnType<typeof fetch>>;
  try {
    res = await fetch(endpoint, { signal: AbortSignal.timeout(statusTimeoutMs) });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new ShoalError("NodeUnreachable", 503, `cannot GET ${endpoint.href} within ${statusTimeoutMs} ms: ${cause?.code ?? cause?.message ?? (error as Error).message}`);
  }
  const body: unknown = await res.json().catch(() => undefined);
  const status = res.ok ? parseClusterStatus(body) : undefined;
  if (status === undefined) throw new ShoalError("BadClusterStatus", 502, `GET ${endpoint.href} answered ${res.status} without a cluster status: ${JSON.stringify(body)?.slice(0, 200)}`);
  return status;
}

interface ClusterSettings {
  nodes: number;
  port: number;
  peerPort: number;
  dataDir: string;
  logLevel: string;
}

async function runLocalCluster(settings: ClusterSettings, io: CliIo): Promise<number> {
  if (settings.port !== 0 && settings.peerPort !== 0 && Math.abs(settings.port - settings.peerPort) < settings.nodes) {
    throw new UsageError(`client ports ${settings.port}.. and peer ports ${settings.peerPort}.. overlap for ${settings.nodes} nodes`, "cluster");
  }
  const cluster = new LocalCluster({
    ...settings,
    host: "127.0.0.1",
    // Run `shoal` the way we were run (compiled, or from source under a loader such as tsx).
    command: { executable: process.execPath, args: [...process.execArgv, process.argv[1]!] },
    startDeadlineMs,
  });
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    io.stderr.write(stopping ? `${signal} again: killing the nodes\n` : `${signal}: stopping the nodes\n`);
    cluster.stop(stopping);
    stopping = true;
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const onExit = (exit: NodeExit) => {
    if (!stopping) io.stderr.write(`node ${exit.index} exited (code ${exit.code}, signal ${exit.signal})\n`);
  };
  try {
    const started = performance.now();
    let nodes: LocalNode[];
    try {
      nodes = await cluster.start(onExit);
    } catch (error) {
      stopping = true;
      cluster.stop(true);
      await cluster.exited();
      throw error;
    }
    await writeLine(io.stdout, endpointTable(nodes));
    const formed = await waitForFormation(nodes, () => stopping);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    if (formed !== undefined) await writeLine(io.stdout, `cluster formed: ${nodes.length} members up, ring version ${formed} (${seconds} s after start). Ctrl-C stops it.`);
    else if (!stopping) await writeLine(io.stdout, `warning: the nodes did not all see each other up within ${formDeadlineMs} ms; see "shoal cluster status" and the logs`);
    const exits = await cluster.exited();
    return exits.every((e) => e.code === 0) ? 0 : 1;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

function endpointTable(nodes: readonly LocalNode[]): string {
  const rows = nodes.map((n) => [String(n.index), n.nodeId, n.url, n.peerAddress, String(n.pid), n.logPath]);
  return formatTable(["NODE", "ID", "CLIENT URL", "PEER ADDRESS", "PID", "LOG"], rows);
}

/** The common ring version once every node lists every node "up", or undefined at the deadline. */
async function waitForFormation(nodes: readonly LocalNode[], stopped: () => boolean): Promise<number | undefined> {
  const deadline = performance.now() + formDeadlineMs;
  while (performance.now() < deadline && !stopped()) {
    const views = await Promise.all(nodes.map((n) => fetchStatus(new URL("/v1/cluster", n.url)).catch(() => undefined)));
    const versions = new Set(views.map((v) => v?.ringVersion));
    const allUp = views.every((v) => v !== undefined && v.members.length === nodes.length && v.members.every((m) => m.state === "up" && m.partitions > 0));
    if (allUp && versions.size === 1) return views[0]!.ringVersion;
    await new Promise((r) => setTimeout(r, pollIntervalMs));
  }
  return undefined;
}
