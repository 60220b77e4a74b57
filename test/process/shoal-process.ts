import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

/**
 * Real `shoal` processes for the multi-process tests (TESTING.md, layer 4). Everything a test
 * starts is registered with a ProcessGroup, and the test's `after` hook kills what is left, so a
 * failing assertion never leaves a node running. Waiting is always for an event (a log line, an
 * exit) with a deadline, never a sleep.
 */

function findRepoRoot(start: string): string {
  let dir = start;
  for (let depth = 0; depth < 8; depth++) {
    if (existsSync(join(dir, "package.json"))) return dir;
    dir = dirname(dir);
  }
  throw new Error(`no package.json above ${start}`);
}

/** The compiled CLI; the tests run from dist/ (after `npm run build`), and so does this path. */
export const repoRoot = findRepoRoot(dirname(fileURLToPath(import.meta.url)));
export const cliPath = join(repoRoot, "dist", "src", "cli", "main.js");
export const benchMainPath = join(repoRoot, "dist", "bench", "main.js");

export const startDeadlineMs = 20_000;
export const exitDeadlineMs = 20_000;
/** Log lines kept per process for diagnostics. */
const logLinesMax = 2000;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface NodeProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly url: string;
  readonly nodeId: string;
  readonly logs: string[];
  readonly exited: Promise<Exit>;
  stderr(): string;
}

export class ProcessGroup {
  private readonly children = new Set<ChildProcess>();
  private readonly dirs: string[] = [];
  /** Every node this group started, for `withNodeLogs`. */
  readonly started: NodeProcess[] = [];

  track(child: ChildProcess): ChildProcess {
    this.children.add(child);
    child.once("exit", () => this.children.delete(child));
    return child;
  }

  tempDir(prefix: string): string {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    this.dirs.push(dir);
    return dir;
  }

  /** For `after`: SIGKILL every child still running, wait for them, remove temp dirs. */
  async cleanUp(): Promise<void> {
    const waits = [...this.children].map((child) => new Promise<void>((resolve) => {
      child.once("exit", () => resolve());
      child.kill("SIGKILL");
    }));
    await Promise.all(waits);
    for (const dir of this.dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  }
}

function exitOf(child: ChildProcess): Promise<Exit> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once("exit", (code, signal) => resolve({ code, signal }));
  });
}

/** Starts `shoal start --port 0 --data-dir <dir>` and resolves when it logs "listening". */
export function startNode(group: ProcessGroup, dataDir: string, extraArgs: readonly string[] = []): Promise<NodeProcess> {
  const child = group.track(spawn(process.execPath, [cliPath, "start", "--port", "0", "--peer-port", "0", "--data-dir", dataDir, ...extraArgs], { stdio: ["ignore", "pipe", "pipe"] }));
  const logs: string[] = [];
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (text: string) => (stderr = (stderr + text).slice(-20_000)));
  const exited = exitOf(child);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`node did not log "listening" within ${startDeadlineMs} ms; stderr: ${stderr}; logs: ${logs.join("\n")}`)), startDeadlineMs);
    void exited.then((exit) => {
      clearTimeout(timer);
      reject(new Error(`node exited before listening (code ${exit.code}, signal ${exit.signal}); stderr: ${stderr}; logs: ${logs.join("\n")}`));
    });
    createInterface({ input: child.stdout! }).on("line", (line) => {
      if (logs.length < logLinesMax) logs.push(line);
      const parsed = parseJson(line);
      if (parsed?.msg !== "listening" || typeof parsed.url !== "string" || typeof parsed.nodeId !== "string") return;
      clearTimeout(timer);
      const node = { child, pid: child.pid!, url: parsed.url, nodeId: parsed.nodeId, logs, exited, stderr: () => stderr };
      group.started.push(node);
      resolve(node);
    });
  });
}

function parseJson(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Resolves with the exit, or rejects (after SIGKILL) if it takes longer than the deadline. */
export function waitForExit(group: ProcessGroup, child: ChildProcess, deadlineMs = exitDeadlineMs): Promise<Exit> {
  group.track(child);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`process ${child.pid} did not exit within ${deadlineMs} ms`));
    }, deadlineMs);
    void exitOf(child).then((exit) => {
      clearTimeout(timer);
      resolve(exit);
    });
  });
}

export interface CliRun {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** Runs `node dist/src/cli/main.js ...args` to completion, optionally feeding stdin. */
export async function runShoal(group: ProcessGroup, args: readonly string[], input?: Uint8Array): Promise<CliRun> {
  const child = spawn(process.execPath, [cliPath, ...args], { stdio: ["pipe", "pipe", "pipe"] });
  const stdout: Buffer[] = [];
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => stdout.push(chunk));
  child.stderr!.setEncoding("utf8").on("data", (text: string) => (stderr += text));
  child.stdin!.end(input === undefined ? undefined : Buffer.from(input));
  const exit = await waitForExit(group, child);
  return { code: exit.code, stdout: Buffer.concat(stdout), stderr };
}

const warnLevel = 40;
const troubleLinesMax = 40;

/**
 * Runs a test body; if it throws, the error carries every warning and error the group's nodes
 * logged (pino level 40 and up, the last lines of each), so a failure seen only in CI says what
 * the servers saw.
 */
export async function withNodeLogs(group: ProcessGroup, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    const lines = group.started.flatMap((node) =>
      node.logs
        .filter((line) => {
          const level = parseJson(line)?.level;
          return typeof level === "number" && level >= warnLevel;
        })
        .slice(-troubleLinesMax)
        .map((line) => `${node.nodeId}: ${line}`),
    );
    if (error instanceof Error && lines.length > 0) error.message += `\nnode warnings and errors:\n${lines.join("\n")}`;
    throw error;
  }
}
