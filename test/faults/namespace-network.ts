import { readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run, runIn, tryRun } from "./shell.js";

/**
 * The private network the fault tests run on (TESTING.md, "Fault tests across network
 * namespaces"): one namespace holding a bridge, one namespace per node with a veth into the
 * bridge, and one veth from the root namespace so the test's clients reach every node. The node
 * namespaces get a /24 and no default route, so nothing they send can leave the machine.
 *
 * Every name starts with `shf<pid in base 36>-`: a later run removes whatever a crashed run
 * left behind (its pid is gone) and leaves a live run's network alone. Interface names stay
 * within Linux's 15 characters.
 */
export const namePrefix = "shf";
const namePattern = /^shf([0-9a-z]+)-/;

export interface NamespaceNetworkOptions {
  nodes: number;
  /** The third octet of 10.213.X.0/24; by default derived from the pid. */
  subnet?: number;
}

export class NamespaceNetwork {
  readonly tag: string;
  readonly bridgeNamespace: string;
  readonly namespaces: readonly string[];
  readonly addresses: readonly string[];
  readonly hostAddress: string;
  private readonly hostLink: string;
  private destroyed = false;

  private constructor(readonly nodeCount: number, subnet: number) {
    this.tag = `${namePrefix}${process.pid.toString(36)}`;
    this.bridgeNamespace = `${this.tag}-br`;
    this.namespaces = Array.from({ length: nodeCount }, (_, i) => `${this.tag}-n${i + 1}`);
    this.addresses = Array.from({ length: nodeCount }, (_, i) => `10.213.${subnet}.${i + 1}`);
    this.hostAddress = `10.213.${subnet}.254`;
    this.hostLink = `${this.tag}-h`;
  }

  /** Builds the network; on a failure part way, removes what it built and rethrows. */
  static create(options: NamespaceNetworkOptions): NamespaceNetwork {
    if (options.nodes < 1 || options.nodes > 9) throw new Error(`a fault network holds 1 to 9 nodes, asked for ${options.nodes}`);
    removeLeftovers();
    const network = new NamespaceNetwork(options.nodes, options.subnet ?? 10 + (process.pid % 200));
    try {
      network.build();
      return network;
    } catch (error) {
      network.destroy();
      throw error;
    }
  }

  private build(): void {
    const bridge = this.bridgeNamespace;
    run("ip", ["netns", "add", bridge]);
    runIn(bridge, "ip", ["link", "add", "br0", "type", "bridge"]);
    runIn(bridge, "ip", ["link", "set", "br0", "up"]);
    runIn(bridge, "ip", ["link", "set", "lo", "up"]);
    this.namespaces.forEach((namespace, i) => {
      run("ip", ["netns", "add", namespace]);
      const outer = `${this.tag}-n${i + 1}b`;
      run("ip", ["link", "add", outer, "type", "veth", "peer", "name", `${this.tag}-n${i + 1}a`]);
      run("ip", ["link", "set", `${this.tag}-n${i + 1}a`, "netns", namespace, "name", "eth0"]);
      this.plugIntoBridge(outer);
      runIn(namespace, "ip", ["addr", "add", `${this.addresses[i]}/24`, "dev", "eth0"]);
      runIn(namespace, "ip", ["link", "set", "eth0", "up"]);
      runIn(namespace, "ip", ["link", "set", "lo", "up"]);
    });
    const outer = `${this.tag}-hb`;
    run("ip", ["link", "add", this.hostLink, "type", "veth", "peer", "name", outer]);
    this.plugIntoBridge(outer);
    run("ip", ["addr", "add", `${this.hostAddress}/24`, "dev", this.hostLink]);
    run("ip", ["link", "set", this.hostLink, "up"]);
  }

  private plugIntoBridge(link: string): void {
    run("ip", ["link", "set", link, "netns", this.bridgeNamespace]);
    runIn(this.bridgeNamespace, "ip", ["link", "set", link, "master", "br0"]);
    runIn(this.bridgeNamespace, "ip", ["link", "set", link, "up"]);
  }

  /** Kills whatever still runs in the namespaces, then deletes them and the host link. Idempotent. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    removeTagged(this.tag);
  }
}

/** Removes the namespaces, links and data directories of runs whose process no longer exists. */
export function removeLeftovers(): string[] {
  const tags = new Set<string>();
  for (const name of [...listNamespaces(), ...listLinks()]) {
    const match = namePattern.exec(name);
    if (match === null) continue;
    const pid = Number.parseInt(match[1]!, 36);
    if (!isAlive(pid)) tags.add(`${namePrefix}${match[1]}`);
  }
  for (const tag of tags) removeTagged(tag);
  return [...tags];
}

function removeTagged(tag: string): void {
  for (const namespace of listNamespaces().filter((name) => name.startsWith(`${tag}-`))) {
    for (const pid of namespacePids(namespace)) tryKill(pid);
    tryRun("ip", ["netns", "del", namespace]);
  }
  for (const link of listLinks().filter((name) => name.startsWith(`${tag}-`))) tryRun("ip", ["link", "del", link]);
  for (const name of readdirSync(tmpdir()).filter((entry) => entry.startsWith(`${tag}-data-`))) {
    rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
}

function listNamespaces(): string[] {
  return run("ip", ["netns", "list"]).split("\n").map((line) => line.split(" ")[0] ?? "").filter((name) => name !== "");
}

function listLinks(): string[] {
  return run("ip", ["-o", "link", "show"]).split("\n")
    .map((line) => /^\d+: ([^:@]+)/.exec(line)?.[1] ?? "")
    .filter((name) => name !== "");
}

function namespacePids(namespace: string): number[] {
  try {
    return run("ip", ["netns", "pids", namespace]).split("\n").filter((l) => l.trim() !== "").map(Number);
  } catch {
    return [];
  }
}

function tryKill(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // already gone
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Removes this process's own network (for a signal handler; NamespaceNetwork.destroy is the normal path). */
export function removeOwnNetwork(): void {
  removeTagged(`${namePrefix}${process.pid.toString(36)}`);
}
