import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync, type WriteStream } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { ShoalError } from "../errors.js";

/**
 * The children of `shoal cluster`: N `shoal start` processes on loopback, node 1 first (the
 * others join its peer port), each logging to <dataDir>/node-<i>.log. `stop()` sends each one
 * SIGTERM (they drain and close storage) and `exited` resolves once all are gone. Children run
 * in their own process group, so a terminal's Ctrl-C reaches them once, through us, rather
 * than twice (a second signal would make `shoal start` skip its drain).
 */
export interface LocalClusterOptions {
  nodes: number;
  host: string;
  /** Client port of node 1; node i gets port + i - 1 (0: every node picks a free port). */
  port: number;
  peerPort: number;
  dataDir: string;
  logLevel: string;
  /** How to run `shoal`: the node binary and the arguments before "start". */
  command: { executable: string; args: readonly string[] };
  startDeadlineMs: number;
}

export interface LocalNode {
  index: number;
  nodeId: string;
  url: string;
  peerAddress: string;
  dataDir: string;
  logPath: string;
  pid: number;
}

export interface NodeExit {
  index: number;
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class LocalCluster {
  private readonly children: Array<{ child: ChildProcess; log: WriteStream; exited: Promise<NodeExit> }> = [];

  constructor(private readonly options: LocalClusterOptions) {}

  /** Starts node 1, then the rest joining it; resolves once every node logged "listening". */
  async start(onExit: (exit: NodeExit) => void): Promise<LocalNode[]> {
    mkdirSync(this.options.dataDir, { recursive: true });
    const first = await this.startNode(1, [], onExit);
    const rest = await Promise.all(Array.from({ length: this.options.nodes - 1 }, (_, i) => this.startNode(i + 2, ["--join", first.peerAddress], onExit)));
    return [first, ...rest];
  }

  /** SIGTERM to every child still running (SIGKILL when `force`). */
  stop(force = false): void {
    for (const { child } of this.children) if (child.exitCode === null && child.signalCode === null) child.kill(force ? "SIGKILL" : "SIGTERM");
  }

  /** Resolves when every child started so far has exited. */
  async exited(): Promise<NodeExit[]> {
    const exits = await Promise.all(this.children.map((c) => c.exited));
    await Promise.all(this.children.map(({ log }) => new Promise<void>((resolve) => log.end(() => resolve()))));
    return exits;
  }

  private startNode(index: number, extra: readonly string[], onExit: (exit: NodeExit) => void): Promise<LocalNode> {
    const { host, port, peerPort, dataDir, logLevel, command } = this.options;
    const nodeDir = join(dataDir, `node-${index}`);
    const logPath = join(dataDir, `node-${index}.log`);
    const offset = (base: number) => (base === 0 ? 0 : base + index - 1);
    const args = [...command.args, "start", "--host", host, "--port", String(offset(port)), "--peer-port", String(offset(peerPort)), "--data-dir", nodeDir, "--log-level", logLevel, ...extra];
    const child = spawn(command.executable, args, { stdio: ["ignore", "pipe", "pipe"], detached: true });
    const log = createWriteStream(logPath, { flags: "a" });
    child.stderr!.pipe(log, { end: false });
    const exited = new Promise<NodeExit>((resolve) => child.once("exit", (code, signal) => resolve({ index, code, signal })));
    void exited.then(onExit);
    this.children.push({ child, log, exited });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new ShoalError("NodeStartTimeout", 500, `node ${index} did not start listening within ${this.options.startDeadlineMs} ms; see ${logPath}`)), this.options.startDeadlineMs);
      void exited.then((exit) => {
        clearTimeout(timer);
        reject(new ShoalError("NodeStartFailed", 500, `node ${index} exited before listening (code ${exit.code}, signal ${exit.signal}); see ${logPath}`));
      });
      createInterface({ input: child.stdout! }).on("line", (line) => {
        log.write(`${line}\n`);
        const listening = parseListening(line);
        if (listening === undefined) return;
        clearTimeout(timer);
        resolve({ index, nodeId: listening.nodeId, url: listening.url, peerAddress: `${hostForPeers(host)}:${listening.peerPort}`, dataDir: nodeDir, logPath, pid: child.pid! });
      });
    });
  }
}

function parseListening(line: string): { url: string; nodeId: string; peerPort: number } | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  const v = value as Record<string, unknown> | null;
  if (v?.msg !== "listening" || typeof v.url !== "string" || typeof v.nodeId !== "string" || typeof v.peerPort !== "number") return undefined;
  return { url: v.url, nodeId: v.nodeId, peerPort: v.peerPort };
}

function hostForPeers(host: string): string {
  if (host === "0.0.0.0" || host === "::") return "127.0.0.1";
  return host.includes(":") ? `[${host}]` : host;
}
