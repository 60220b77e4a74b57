import { Agent, request } from "undici";

/**
 * The elastic benchmark's small HTTP helpers against Shoal nodes: JSON reads of the cluster
 * view and the anti-entropy state, /metrics figures, table creation and a bulk loader through
 * the batch endpoint (many items per request, so loading 200k items takes seconds, not minutes).
 * Every request is bounded in time; a node that does not answer gives undefined, not a hang.
 */
export interface ClusterView {
  self: string;
  ringVersion: number;
  pendingTransfers: number;
  members: { id: string; state: string; partitions: number }[];
}

export interface TreeStatus {
  partition: number;
  n: number;
  root: string;
  replicas: string[];
  lastCompleteAgeMs: number | null;
}

export interface AntiEntropyView {
  enabled: boolean;
  loaded: boolean;
  exchanges: number;
  exchangesFailed: number;
  keysRepaired: number;
  bytes: number;
  trees: TreeStatus[];
}

const agent = new Agent({ connections: 64, keepAliveTimeout: 2000, connect: { timeout: 2000 } });
const requestTimeoutMs = 5000;

export async function getJson<T>(url: string, timeoutMs = requestTimeoutMs): Promise<T | undefined> {
  try {
    const answer = await request(url, { dispatcher: agent, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, signal: AbortSignal.timeout(timeoutMs + 500) });
    const text = await answer.body.text();
    return answer.statusCode === 200 ? (JSON.parse(text) as T) : undefined;
  } catch {
    return undefined;
  }
}

export const clusterView = (url: string) => getJson<ClusterView>(`${url}/v1/cluster`);
export const antiEntropyView = (url: string) => getJson<AntiEntropyView>(`${url}/v1/internal/anti-entropy`);

export async function metricsText(url: string): Promise<string | undefined> {
  try {
    const answer = await request(`${url}/metrics`, { dispatcher: agent, headersTimeout: requestTimeoutMs, bodyTimeout: requestTimeoutMs });
    const text = await answer.body.text();
    return answer.statusCode === 200 ? text : undefined;
  } catch {
    return undefined;
  }
}

/** The sum of every series of `name` (any labels) in a Prometheus text page; 0 when absent. */
export function metricSum(text: string | undefined, name: string, labelFilter?: string): number {
  if (text === undefined) return 0;
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name) || (line[name.length] !== "{" && line[name.length] !== " ")) continue;
    if (labelFilter !== undefined && !line.includes(labelFilter)) continue;
    const value = Number(line.slice(line.lastIndexOf(" ") + 1));
    if (Number.isFinite(value)) sum += value;
  }
  return sum;
}

export async function createTable(url: string, body: { name: string; consistency: "eventual"; conflicts: "lww" | "siblings"; replication: { n: number; r: number; w: number } }): Promise<void> {
  const answer = await request(`${url}/v1/tables`, { method: "POST", dispatcher: agent, headers: { "content-type": "application/json" }, body: JSON.stringify(body), headersTimeout: 10_000, bodyTimeout: 10_000 });
  const text = await answer.body.text();
  if (answer.statusCode !== 201 && answer.statusCode !== 200 && answer.statusCode !== 409) throw new Error(`creating table ${body.name} on ${url}: ${answer.statusCode} ${text.slice(0, 300)}`);
}

/** A printable value of exactly `bytes` bytes (the batch endpoint carries values as JSON strings). */
export function valueOf(bytes: number, tag: string): string {
  return `${tag}:`.padEnd(bytes, "x").slice(0, bytes);
}

/**
 * Writes keys `<prefix><from>` .. `<prefix><to - 1>` through POST /v1/tables/t/batch, `batchSize`
 * puts per request, `concurrency` requests at once, spread over `urls`. A failed batch is
 * retried (bounded); one that keeps failing aborts the load with its answer.
 */
export async function loadKeys(options: { urls: readonly string[]; table: string; prefix: string; from: number; to: number; valueBytes: number; tag: string; batchSize?: number; concurrency?: number }): Promise<number> {
  const batchSize = options.batchSize ?? 500;
  const concurrency = options.concurrency ?? 6;
  const value = valueOf(options.valueBytes, options.tag);
  let next = options.from;
  let written = 0;
  const worker = async (index: number) => {
    while (next < options.to) {
      const start = next;
      const end = Math.min(options.to, start + batchSize);
      next = end;
      const put = Array.from({ length: end - start }, (_, i) => ({ key: `${options.prefix}${start + i}`, value }));
      const url = `${options.urls[(index + start / batchSize) % options.urls.length]}/v1/tables/${encodeURIComponent(options.table)}/batch`;
      let last = "";
      for (let attempt = 0; ; attempt++) {
        if (attempt === 5) throw new Error(`batch ${start}..${end} failed 5 times: ${last}`);
        try {
          const answer = await request(url, { method: "POST", dispatcher: agent, headers: { "content-type": "application/json" }, body: JSON.stringify({ put }), headersTimeout: 30_000, bodyTimeout: 30_000 });
          last = `${answer.statusCode} ${(await answer.body.text()).slice(0, 300)}`;
          if (answer.statusCode === 200) break;
        } catch (error) {
          last = String(error);
        }
      }
      written += end - start;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, i) => worker(i)));
  return written;
}

/**
 * Whether every tree's replicas report one root: for each tree any node lists, every node of
 * its preference list must hold the same root (a replica without the tree counts as the empty
 * root). `views` is keyed by node id.
 */
export function compareRoots(views: ReadonlyMap<string, AntiEntropyView>): { trees: number; differing: number; example?: string } {
  const empty = "0".repeat(16);
  const byName = new Map<string, TreeStatus>();
  for (const view of views.values()) for (const tree of view.trees) byName.set(`${tree.partition}/${tree.n}`, tree);
  const index = new Map<string, Map<string, string>>();
  for (const [node, view] of views) index.set(node, new Map(view.trees.map((t) => [`${t.partition}/${t.n}`, t.root])));
  let differing = 0;
  let example: string | undefined;
  for (const [name, tree] of byName) {
    // A replica whose view is missing (it did not answer) never agrees.
    const roots = tree.replicas.map((node) => (index.has(node) ? (index.get(node)!.get(name) ?? empty) : "no answer"));
    if (roots.some((root) => root !== roots[0] || root === "no answer")) {
      differing++;
      example ??= `tree ${name}: ${tree.replicas.map((node, i) => `${node}=${roots[i]}`).join(" ")}`;
    }
  }
  return example === undefined ? { trees: byName.size, differing } : { trees: byName.size, differing, example };
}

export async function closeHttp(): Promise<void> {
  await agent.close();
}
