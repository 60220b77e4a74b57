import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";

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

/** What one server's log file may hold; past it the rest is dropped (a note says so). */
export const serverLogBytesMax = 256 * 1024 * 1024;

/**
 * Where servers' output is kept: `SHOAL_BENCH_LOG_DIR`, or undefined (dropped, the default).
 * A stall seen in benchmarks (servers idle, requests waiting seconds) could not be explained
 * because nothing kept the servers' logs; with this set, every server's stdout and stderr go to
 * DIR/<pid>.log.
 */
export function serverLogDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dir = env["SHOAL_BENCH_LOG_DIR"];
  return dir === undefined || dir === "" ? undefined : dir;
}

/** Copies the child's stdout and stderr into DIR/<pid>.log, at most `bytesMax` bytes. */
export function keepServerLog(child: ChildProcess, dir: string, bytesMax = serverLogBytesMax): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${child.pid}.log`);
  const file = createWriteStream(path, { flags: "a" });
  let written = 0;
  let full = false;
  const copy = (stream: Readable | null) =>
    stream?.on("data", (chunk: Buffer | string) => {
      if (full) return;
      const bytes = typeof chunk === "string" ? Buffer.byteLength(chunk) : chunk.length;
      if (written + bytes > bytesMax) {
        full = true;
        file.write(`\n[log cut: it reached ${bytesMax} bytes]\n`);
        return;
      }
      written += bytes;
      file.write(chunk);
    });
  copy(child.stdout);
  copy(child.stderr);
  child.once("exit", () => file.end());
  return path;
}

/**
 * Starts a process that prints a JSON line `{"msg": "listening", "url": ...}` on stdout and
 * resolves with that url; rejects if it exits first or `deadlineMs` passes. Later stdout is
 * drained (a full pipe would stall the server) and dropped, unless `SHOAL_BENCH_LOG_DIR` keeps it.
 */
export function startListeningProcess(options: { cpu?: number; command: string; args: readonly string[]; deadlineMs: number; logDir?: string }): Promise<ServerProcess> {
  const [command, args] = pinned(options.cpu, options.command, options.args);
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
  const logDir = options.logDir ?? serverLogDir();
  if (logDir !== undefined) keepServerLog(child, logDir);
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
