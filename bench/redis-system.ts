import { spawn, spawnSync } from "node:child_process";
import { createServer, type AddressInfo } from "node:net";
import { createInterface } from "node:readline";
import { pinned, processHandle, type ServerProcess } from "./server-process.js";
import { RespClient } from "./resp-client.js";

/**
 * Redis from the Debian package, started and stopped by the benchmark: on a free loopback port,
 * with persistence off (`--save "" --appendonly no`), so it never fsyncs. The report says so.
 */
export const redisDurability = 'none: --save "" --appendonly no (no fsync)';

/** "Redis server v=7.0.15 ..." -> "7.0.15"; undefined when redis-server is not installed. */
export function redisVersion(): string | undefined {
  const answer = spawnSync("redis-server", ["--version"], { encoding: "utf8" });
  if (answer.error !== undefined || answer.status !== 0) return undefined;
  return /v=([\d.]+)/.exec(answer.stdout)?.[1] ?? answer.stdout.trim();
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function startRedis(options: { cpu?: number; deadlineMs: number }): Promise<ServerProcess & { host: string; port: number }> {
  const port = await freePort();
  const [command, args] = pinned(options.cpu, "redis-server", [
    "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "no", "--loglevel", "notice",
  ]);
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
  child.stderr!.resume();
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`redis-server did not get ready within ${options.deadlineMs} ms`));
    }, options.deadlineMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with code ${code} before it was ready`));
    });
    createInterface({ input: child.stdout! }).on("line", (line) => {
      if (!line.includes("Ready to accept connections")) return;
      clearTimeout(timer);
      child.removeAllListeners("exit");
      resolve();
    });
  });
  const client = await RespClient.connect({ host: "127.0.0.1", port, pipelineMax: 1 });
  const pong = await client.command(["PING"]);
  client.close();
  if (pong !== "PONG") throw new Error(`redis-server answered PING with ${String(pong)}`);
  return { ...processHandle(child, `redis://127.0.0.1:${port}`), host: "127.0.0.1", port };
}
