import assert from "node:assert/strict";
import { fetch } from "undici";
import type { NodeProcess } from "./shoal-process.js";

/**
 * What the multi-process tests ask of a running cluster through GET /v1/cluster: one node's view,
 * whether every node sees a set of members up in one ring version, whether survivors see a
 * killed node suspect or down, and the peer port a node logged when it started listening.
 */
export interface ClusterView {
  ringVersion: number;
  members: Array<{ id: string; state: string }>;
  pendingTransfers?: number;
}

export async function clusterView(url: string): Promise<ClusterView | undefined> {
  try {
    const res = await fetch(`${url}/v1/cluster`, { signal: AbortSignal.timeout(2000) });
    return res.status === 200 ? ((await res.json()) as ClusterView) : undefined;
  } catch {
    return undefined;
  }
}

/** True when every node answers and sees all `ids` up in one ring version. */
export async function allUp(nodes: readonly NodeProcess[], ids: readonly string[]): Promise<boolean> {
  const views = await Promise.all(nodes.map((n) => clusterView(n.url)));
  if (views.some((v) => v === undefined)) return false;
  const version = views[0]!.ringVersion;
  return views.every((v) => v!.ringVersion === version && ids.every((id) => v!.members.find((m) => m.id === id)?.state === "up"));
}

/** allUp, and no partition still moving on any node (the ring settled). */
export async function allUpSettled(nodes: readonly NodeProcess[], ids: readonly string[]): Promise<boolean> {
  if (!(await allUp(nodes, ids))) return false;
  const views = await Promise.all(nodes.map((n) => clusterView(n.url)));
  return views.every((v) => v !== undefined && v.pendingTransfers === 0);
}

export async function victimSeenDown(survivors: readonly NodeProcess[], victimId: string): Promise<boolean> {
  const views = await Promise.all(survivors.map((n) => clusterView(n.url)));
  return views.every((v) => {
    const state = v?.members.find((m) => m.id === victimId)?.state;
    return state === "suspect" || state === "down";
  });
}

export function peerPortOf(node: NodeProcess): number {
  for (const line of node.logs) {
    const parsed = JSON.parse(line) as { msg?: string; peerPort?: unknown };
    if (parsed.msg === "listening" && typeof parsed.peerPort === "number") return parsed.peerPort;
  }
  assert.fail(`node ${node.nodeId} logged no peer port`);
}
