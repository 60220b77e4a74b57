import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./redis-system.js";
import { pinned, processHandle, type ServerProcess } from "./server-process.js";

/**
 * A three-member etcd cluster from the Debian package (etcd-server), on loopback, for the
 * cluster benchmark: each member with its own data directory in a temp dir, default durability
 * (Raft log fsynced before a write is acknowledged, like Shoal's durable writes).
 */
export const etcdDurability = "Raft log fsynced before ack (etcd default)";

export function etcdVersion(): string | undefined {
  const answer = spawnSync("etcd", ["--version"], { encoding: "utf8" });
  if (answer.error !== undefined || answer.status !== 0) return undefined;
  return /etcd Version: ([\d.]+)/.exec(answer.stdout)?.[1] ?? answer.stdout.split("\n")[0]?.trim();
}

export interface EtcdCluster {
  urls: string[];
  pids: number[];
  stop(): Promise<void>;
}

const pollIntervalMs = 100;

export async function startEtcdCluster(options: { members: number; cpu?: number; deadlineMs: number }): Promise<EtcdCluster> {
  const dir = mkdtempSync(join(tmpdir(), "shoal-bench-etcd-"));
  const ports = [];
  for (let i = 0; i < options.members; i++) ports.push({ client: await freePort(), peer: await freePort() });
  const initialCluster = ports.map((p, i) => `e${i + 1}=http://127.0.0.1:${p.peer}`).join(",");
  const children: ChildProcess[] = [];
  const handles: ServerProcess[] = [];
  const stop = async () => {
    await Promise.all(handles.map((handle) => handle.stop()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    ports.forEach((p, i) => {
      const [command, args] = pinned(options.cpu, "etcd", [
        "--name", `e${i + 1}`,
        "--data-dir", join(dir, `e${i + 1}`),
        "--listen-client-urls", `http://127.0.0.1:${p.client}`,
        "--advertise-client-urls", `http://127.0.0.1:${p.client}`,
        "--listen-peer-urls", `http://127.0.0.1:${p.peer}`,
        "--initial-advertise-peer-urls", `http://127.0.0.1:${p.peer}`,
        "--initial-cluster", initialCluster,
        "--initial-cluster-state", "new",
        "--initial-cluster-token", "shoal-bench",
        "--log-level", "error",
      ]);
      const child = spawn(command, args, { stdio: ["ignore", "ignore", "pipe"] });
      child.stderr!.resume();
      children.push(child);
      handles.push(processHandle(child, `http://127.0.0.1:${p.client}`));
    });
    const urls = handles.map((handle) => handle.url);
    await waitHealthy(urls, children, options.deadlineMs);
    return { urls, pids: handles.map((handle) => handle.pid), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Every member answers /health with "true" (a leader exists and the member is in it). */
async function waitHealthy(urls: string[], children: ChildProcess[], deadlineMs: number): Promise<void> {
  const deadline = performance.now() + deadlineMs;
  for (;;) {
    const exited = children.find((child) => child.exitCode !== null);
    if (exited !== undefined) throw new Error(`etcd member exited with code ${exited.exitCode} during start`);
    const healthy = await Promise.all(urls.map((url) => isHealthy(url)));
    if (healthy.every(Boolean)) return;
    if (performance.now() > deadline) throw new Error(`etcd cluster not healthy within ${deadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, pollIntervalMs));
  }
}

async function isHealthy(url: string): Promise<boolean> {
  try {
    const answer = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
    const body = (await answer.json()) as { health?: string };
    return body.health === "true";
  } catch {
    return false;
  }
}
