import { fetch } from "undici";
import type { RingState } from "../ring/ring-state.js";
import { startTestNode, type TestNode } from "./test-node.js";

/**
 * In-process nodes over real TCP for the membership-plan tests (cluster-plan-node, replace-dead-node,
 * hints-leave-node): start and stop them, close whatever is left at the end, and the few views the
 * tests poll (the ring, whether it settled) and the JSON request they send.
 */
export class TestNodeGroup {
  private readonly started: TestNode[] = [];

  async start(id: string, options: { seed?: TestNode | undefined; plan?: "auto" | "manual" } = {}): Promise<TestNode> {
    const node = await startTestNode({
      config: {
        nodeId: id,
        ...(options.seed !== undefined ? { join: [`127.0.0.1:${options.seed.node.peerPort}`] } : {}),
        ...(options.plan !== undefined ? { planMode: options.plan } : {}),
      },
    });
    this.started.push(node);
    return node;
  }

  async stop(node: TestNode): Promise<void> {
    await node.close();
    this.started.splice(this.started.indexOf(node), 1);
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.started.map((n) => n.close().catch(() => undefined)));
  }
}

export const ringOf = (t: TestNode): RingState => t.node.cluster.membership.ring()!;

/** Every node holds the same ring version with `members` members and nothing moving. */
export function settled(nodes: readonly TestNode[], members: number): boolean {
  const rings = nodes.map((t) => t.node.cluster.membership.ring());
  return rings.every((r) => r !== undefined && r.previous === undefined && r.members.length === members && r.version === rings[0]!.version);
}

export async function send(method: string, url: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { method, ...(body !== undefined ? { headers: { "content-type": "application/json" }, body: JSON.stringify(body) } : {}) });
  return { status: res.status, body: await res.json().catch(() => undefined) };
}

/**
 * `promise`, or a failure naming `what` and whatever `state()` says once `deadlineMs` passed (a
 * test never awaits a node's promise without a bound, e.g. `NodeCluster.left`).
 */
export async function within<T>(what: string, promise: Promise<T>, deadlineMs: number, state: () => string = () => ""): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${deadlineMs} ms${describe(state)}`)), deadlineMs);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

function describe(state: () => string): string {
  try {
    const text = state();
    return text === "" ? "" : `: ${text}`;
  } catch (error) {
    return `: (state unavailable: ${error instanceof Error ? error.message : String(error)})`;
  }
}

/** One line per node for a failure message: its ring (version, moving or settled, members) and who it holds down. */
export function ringStates(nodes: readonly TestNode[]): string {
  return nodes
    .map((t) => {
      const m = t.node.cluster.membership;
      const r = m.ring();
      const ring = r === undefined ? "no ring" : `ring ${r.version} ${r.previous === undefined ? "settled" : "in transition"} [${r.members.map((x) => x.id).join(",")}]`;
      const notUp = m.members().filter((x) => x.state !== "up").map((x) => `${x.id}:${x.state}`);
      return `${m.self.id}: ${ring}, not up [${notUp.join(",")}], pendingTransfers ${t.node.cluster.status().pendingTransfers}`;
    })
    .join("; ");
}
