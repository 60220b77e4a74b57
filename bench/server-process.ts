import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";

/**
 * A server (Shoal, the ceiling, Redis) or the load generator as a child process, pinned to one
 * core with `taskset -c` when the machine has it (taskset execs the command, so the pid is the
 * server's own and /proc/<pid>/stat measures the server).
 */
export interface ServerProcess {
  readonly pid: number;
  readonly url: string;
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

let tasksetAvailable: boolean | undefined;

export function hasTaskset(): boolean {
  tasksetAvailable ??= spawnSync("taskset", ["-c", "0", "true"]).status === 0;
  return tasksetAvailable;
}

/** The command line, with `taskset -c <cpu>` in front when available and a cpu is asked for. */
export function pinned(cpu: number | undefined, command: string, args: readonly string[]): [string, string[]] {
  if (cpu === undefined || !hasTaskset()) return [command, [...args]];
  return ["taskset", ["-c", String(cpu), command, ...args]];
}

/** Lines a server may print before its "listening" line (logs); beyond it we give up. */
const startupLinesMax = 10_000;
const defaultGraceMs = 10_000;

/**
 * Starts a process that prints a JSON line `{"msg": "listening", "url": ...}` on stdout and
 * resolves with that url; rejects if it exits first or `deadlineMs` passes. Later stdout is
 * drained (a full pipe would stall the server) and dropped.
 */
export function startListeningProcess(options: { cpu?: number; command: string; args: readonly string[]; deadlineMs: number }): Promise<ServerProcess> {
  const [command, args] = pinned(options.cpu, options.command, options.args);
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
  const stderr: string[] = [];
  child.stderr!.setEncoding("utf8").on("data", (text: string) => {
    if (stderr.length < 100) stderr.push(text);
  });
  return new Promise((resolve, reject) => {
    let lines = 0;
    const timer = setTimeout(() => fail(`did not print "listening" within ${options.deadlineMs} ms`), options.deadlineMs);
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(new Error(`${options.command} ${options.args.join(" ")} ${why}; stderr: ${stderr.join("").slice(0, 2000)}`));
    };
    child.once("exit", (code, signal) => fail(`exited (code ${code}, signal ${signal})`));
    const reader = createInterface({ input: child.stdout! });
    reader.on("line", (line) => {
      if (++lines > startupLinesMax) return;
      const url = listeningUrl(line);
      if (url === undefined) return;
      clearTimeout(timer);
      child.removeAllListeners("exit");
      resolve(processHandle(child, url));
    });
  });
}

function listeningUrl(line: string): string | undefined {
  try {
    const parsed = JSON.parse(line) as { msg?: unknown; url?: unknown };
    return parsed.msg === "listening" && typeof parsed.url === "string" ? parsed.url : undefined;
  } catch {
    return undefined;
  }
}

/** Wraps an already running child whose address is known. */
export function processHandle(child: ChildProcess, url: string): ServerProcess {
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
  return {
    pid: child.pid!,
    url,
    async stop(graceMs = defaultGraceMs) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
