import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";

/**
 * One `shoal start` process inside a node's network namespace. `ip netns exec` and `env`
 * both exec rather than fork, so the child's pid is the node's own pid: SIGKILL, SIGSTOP and
 * SIGCONT reach the node itself. A clock skew starts the node under libfaketime (TESTING.md:
 * LD_PRELOAD=libfaketime.so.1 FAKETIME=+30s); the monotonic clock stays real so timers work.
 */
export const faketimeLibrary = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";
const startDeadlineMs = 30_000;
const logLinesMax = 500;

export interface FaultNodeSpec {
  index: number;
  nodeId: string;
  namespace: string;
  address: string;
  dataDir: string;
  cliPath: string;
  /** Peer addresses (host:port) to join; empty for the first node. */
  join: readonly string[];
}

export interface StartOptions {
  /** Start under libfaketime with this offset, e.g. "+40s". */
  faketime?: string;
}

export const clientPort = 8000;
export const peerPort = 9000;

export class FaultNode {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  readonly logs: string[] = [];
  stopped = false;
  everStarted = false;

  constructor(readonly spec: FaultNodeSpec) {}

  get url(): string {
    return `http://${this.spec.address}:${clientPort}`;
  }

  get peerAddress(): string {
    return `${this.spec.address}:${peerPort}`;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Spawns the node and resolves when it logs "listening"; rejects if it exits first or is late. */
  start(options: StartOptions = {}): Promise<void> {
    if (this.running) throw new Error(`node ${this.spec.nodeId} is already running (pid ${this.child?.pid})`);
    const { spec } = this;
    const args = [
      "netns", "exec", spec.namespace, "env",
      ...(options.faketime !== undefined ? [`LD_PRELOAD=${faketimeLibrary}`, `FAKETIME=${options.faketime}`, "FAKETIME_DONT_FAKE_MONOTONIC=1"] : []),
      process.execPath, spec.cliPath, "start",
      "--host", spec.address, "--port", String(clientPort), "--peer-port", String(peerPort),
      "--data-dir", spec.dataDir, "--node-id", spec.nodeId, "--log-level", "info",
      ...spec.join.flatMap((seed) => ["--join", seed]),
    ];
    const child = spawn("ip", args, { stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
    this.stopped = false;
    this.everStarted = true;
    this.exited = new Promise((resolve) => child.once("exit", () => resolve()));
    const keep = (line: string) => {
      if (this.logs.length >= logLinesMax) this.logs.shift();
      this.logs.push(line);
    };
    createInterface({ input: child.stderr! }).on("line", keep);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`node ${spec.nodeId} did not log "listening" within ${startDeadlineMs} ms; last logs:\n${this.logs.slice(-20).join("\n")}`)), startDeadlineMs);
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`node ${spec.nodeId} exited before listening (code ${code}, signal ${signal}); last logs:\n${this.logs.slice(-20).join("\n")}`));
      });
      createInterface({ input: child.stdout! }).on("line", (line) => {
        keep(line);
        if (line.includes('"msg":"listening"')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  }

  /** Sends a signal to the node process (SIGKILL, SIGSTOP, SIGCONT, SIGTERM). */
  signal(signal: NodeJS.Signals): void {
    if (!this.running) throw new Error(`cannot send ${signal} to node ${this.spec.nodeId}: it is not running`);
    this.child!.kill(signal);
    if (signal === "SIGSTOP") this.stopped = true;
    if (signal === "SIGCONT") this.stopped = false;
  }

  /** SIGKILL and wait for the exit. */
  async kill(): Promise<void> {
    if (!this.running) return;
    if (this.stopped) this.child!.kill("SIGCONT");
    this.child!.kill("SIGKILL");
    await this.exited;
    this.stopped = false;
  }
}
