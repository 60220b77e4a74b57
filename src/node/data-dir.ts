import { randomBytes } from "node:crypto";
import {
  closeSync, constants, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync,
} from "node:fs";
import { join } from "node:path";
import { ShoalError } from "../errors.js";
import { assert } from "../assert.js";

/**
 * A node's data directory: one process at a time, and a node id that outlives restarts.
 *
 * The lock is a pid file created with O_EXCL, so exactly one process can create it. A process
 * killed with SIGKILL leaves it behind; the next start sees that the pid is gone (or now belongs
 * to a different process, told apart by its start time in /proc) and takes the lock over. The
 * takeover itself is guarded by a second O_EXCL file, so two processes that both find a stale
 * lock cannot both win. A second process never touches anything else in the directory before it
 * holds the lock, so refusing it leaves the running node's files as they were.
 *
 * Layout: `<dir>/LOCK` (pid file), `<dir>/node-id`, `<dir>/lmdb/` (storage, opened by the caller).
 */
export interface DataDirOptions {
  path: string;
  /** Use this node id; it is stored on first start and must match the stored one afterwards. */
  nodeId?: string;
}

/** Who holds a lock file: what it contains. */
interface LockOwner {
  pid: number;
  /** Process start time in clock ticks since boot (/proc/<pid>/stat field 22); null off Linux. */
  startTicks: number | null;
}

export const nodeIdPattern = /^[A-Za-z0-9_.-]{1,64}$/;
/** Random node ids: 8 bytes as 16 hex characters. */
const nodeIdRandomBytes = 8;
const lockFileName = "LOCK";
const takeoverFileName = "LOCK.takeover";
const nodeIdFileName = "node-id";

export class DataDir {
  private released = false;

  private constructor(
    /** The directory as given (used in messages). */
    readonly path: string,
    readonly nodeId: string,
    private readonly owner: LockOwner,
  ) {}

  /** Where the LMDB environment lives. */
  get lmdbPath(): string {
    return join(this.path, "lmdb");
  }

  /**
   * Creates the directory if needed, takes the lock, then reads or creates the node id.
   * Throws ShoalError `DataDirInUse` when a live process holds the lock and `NodeIdMismatch`
   * when `nodeId` differs from the stored id (the lock is released again in that case).
   *
   * @example
   *   const dataDir = DataDir.open({ path: "./data" });
   *   // ... open storage under dataDir.lmdbPath, run the node ...
   *   dataDir.release();
   */
  static open(options: DataDirOptions): DataDir {
    if (options.nodeId !== undefined) checkNodeId(options.nodeId);
    mkdirSync(options.path, { recursive: true });
    const owner = acquireLock(options.path);
    try {
      const nodeId = resolveNodeId(options.path, options.nodeId);
      return new DataDir(options.path, nodeId, owner);
    } catch (error) {
      releaseLock(options.path, owner);
      throw error;
    }
  }

  /** Removes the lock file if it is still ours. Idempotent. */
  release(): void {
    if (this.released) return;
    this.released = true;
    releaseLock(this.path, this.owner);
  }
}

export function checkNodeId(nodeId: string): void {
  if (!nodeIdPattern.test(nodeId)) {
    throw new ShoalError("InvalidNodeId", 400, `node id ${JSON.stringify(nodeId)} must be 1-64 characters of [A-Za-z0-9_.-]`);
  }
}

function acquireLock(dir: string): LockOwner {
  const self = currentOwner();
  const lockPath = join(dir, lockFileName);
  // Look before writing anything: a refused process must not even create a temp file here.
  const existing = readOwner(lockPath);
  if (existing !== undefined && isAlive(existing)) throw inUse(dir, existing);
  if (tryCreateExclusive(lockPath, serializeOwner(self))) return self;
  const holder = readOwner(lockPath);
  if (holder !== undefined && isAlive(holder)) throw inUse(dir, holder);
  takeOverStaleLock(dir, holder, self);
  return self;
}

/** Replaces a stale lock; only the process that creates the takeover file may do so. */
function takeOverStaleLock(dir: string, stale: LockOwner | undefined, self: LockOwner): void {
  const lockPath = join(dir, lockFileName);
  const takeoverPath = join(dir, takeoverFileName);
  if (!tryCreateExclusive(takeoverPath, serializeOwner(self))) {
    const other = readOwner(takeoverPath);
    throw new ShoalError(
      "DataDirInUse",
      409,
      `data directory ${dir} is being taken over by process ${other?.pid ?? "unknown"}; ` +
        `if no such process runs, remove ${takeoverPath}`,
    );
  }
  try {
    // Re-read under the takeover guard: someone may have taken over between our check and now.
    const current = readOwner(lockPath);
    if (current !== undefined && !sameOwner(current, stale) && isAlive(current)) throw inUse(dir, current);
    unlinkIfExists(lockPath);
    if (!tryCreateExclusive(lockPath, serializeOwner(self))) {
      const winner = readOwner(lockPath);
      throw inUse(dir, winner ?? { pid: -1, startTicks: null });
    }
  } finally {
    unlinkIfExists(takeoverPath);
  }
}

function releaseLock(dir: string, owner: LockOwner): void {
  const lockPath = join(dir, lockFileName);
  const holder = readOwner(lockPath);
  if (holder !== undefined && sameOwner(holder, owner)) unlinkIfExists(lockPath);
}

function inUse(dir: string, holder: LockOwner): ShoalError {
  return new ShoalError("DataDirInUse", 409, `data directory ${dir} is in use by process ${holder.pid}`, { pid: holder.pid });
}

function resolveNodeId(dir: string, requested: string | undefined): string {
  const path = join(dir, nodeIdFileName);
  const stored = readTextIfExists(path)?.trim();
  if (stored !== undefined && stored !== "") {
    checkNodeId(stored);
    if (requested !== undefined && requested !== stored) {
      throw new ShoalError(
        "NodeIdMismatch",
        409,
        `data directory ${dir} belongs to node ${stored}; refusing to start it as node ${requested}`,
      );
    }
    return stored;
  }
  const nodeId = requested ?? randomBytes(nodeIdRandomBytes).toString("hex");
  writeFileDurably(path, `${nodeId}\n`);
  return nodeId;
}

/** Writes a temp file, fsyncs it and renames it into place, so a crash leaves old or new. */
function writeFileDurably(path: string, text: string): void {
  const temp = `${path}.tmp-${process.pid}`;
  const fd = openSync(temp, "w", 0o644);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, path);
  syncDirectory(path.slice(0, path.lastIndexOf("/")) || ".");
}

function syncDirectory(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Creates `path` with `text` only if it does not exist. The content is written to a temp file
 * first and hard-linked into place, so nobody ever reads a half-written lock file.
 */
function tryCreateExclusive(path: string, text: string): boolean {
  const temp = `${path}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  const fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(temp, path);
    return true;
  } catch (error) {
    if (errorCode(error) === "EEXIST") return false;
    throw error;
  } finally {
    unlinkIfExists(temp);
  }
}

function currentOwner(): LockOwner {
  return { pid: process.pid, startTicks: readProcessStat(process.pid)?.startTicks ?? null };
}

function serializeOwner(owner: LockOwner): string {
  return `${JSON.stringify(owner)}\n`;
}

/** The owner recorded in a lock file; undefined if the file is gone or unreadable. */
function readOwner(path: string): LockOwner | undefined {
  const text = readTextIfExists(path);
  if (text === undefined) return undefined;
  try {
    const parsed = JSON.parse(text) as Partial<LockOwner>;
    if (typeof parsed.pid !== "number" || !Number.isSafeInteger(parsed.pid) || parsed.pid <= 0) return undefined;
    const startTicks = typeof parsed.startTicks === "number" ? parsed.startTicks : null;
    return { pid: parsed.pid, startTicks };
  } catch {
    return undefined;
  }
}

function sameOwner(a: LockOwner, b: LockOwner | undefined): boolean {
  return b !== undefined && a.pid === b.pid && a.startTicks === b.startTicks;
}

/**
 * Whether the process that wrote a lock still runs. A pid can be reused after a crash (in a
 * container a restarted node is often pid 1 again), so a live pid counts only if its start
 * time matches the one recorded. A zombie (killed, not yet reaped by its parent) is dead.
 */
function isAlive(owner: LockOwner): boolean {
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    if (errorCode(error) === "ESRCH") return false;
    // EPERM: the pid exists but belongs to another user; fall through to /proc.
  }
  const stat = readProcessStat(owner.pid);
  if (stat === undefined || owner.startTicks === null) return owner.pid !== process.pid;
  return stat.state !== "Z" && stat.state !== "X" && stat.startTicks === owner.startTicks;
}

/** Fields 3 (state) and 22 (start time in clock ticks) of /proc/<pid>/stat; undefined off Linux or if gone. */
export function readProcessStat(pid: number): { state: string; startTicks: number } | undefined {
  const stat = readTextIfExists(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  // The command name (field 2) is in parentheses and may contain spaces: parse after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  assert(fields.length > 19, `unexpected /proc/${pid}/stat format`);
  const startTicks = Number(fields[19]);
  assert(Number.isSafeInteger(startTicks), `unexpected start time in /proc/${pid}/stat`);
  return { state: fields[0]!, startTicks };
}

function readTextIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    if (errorCode(error) === "ENOENT" || errorCode(error) === "ESRCH") return undefined;
    throw error;
  }
}

function unlinkIfExists(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if (errorCode(error) !== "ENOENT") throw error;
  }
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}
