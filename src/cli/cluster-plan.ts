import { fetch } from "undici";
import { ShoalError } from "../errors.js";
import type { CliIo } from "./command.js";
import { formatTable } from "./cluster-table.js";
import { booleanFlag, parseCommandArgs, stringFlag, type FlagValues } from "./parse-command-args.js";
import { UsageError } from "./usage-error.js";
import { defaultNodeUrl, urlFlag, urlHelp, writeLine } from "./with-client.js";

/**
 * `shoal cluster plan|commit|leave|replace` (issue 6, item 2): the staged membership plan from
 * the shell, over the node's REST API (GET/POST/DELETE /v1/cluster/plan, POST /v1/cluster/commit).
 * Exit codes as everywhere: 0 done, 1 the node refused or could not be reached, 2 bad usage.
 */
export const planSubcommands: readonly string[] = ["plan", "commit", "leave", "replace", "forget"];

export const planUsage = `Usage: shoal cluster plan [--url URL]
       shoal cluster plan [--url URL] --join ID [--zone Z] | --leave ID | --replace OLD,NEW
       shoal cluster plan [--url URL] --mode auto|manual | --clear
       shoal cluster commit [--url URL] [--force]
       shoal cluster leave [--url URL] [ID]
       shoal cluster replace [--url URL] OLD NEW
       shoal cluster forget [--url URL] ID

Membership changes go through a plan (as in Riak): stage changes, look at what would move,
commit. Any node takes the request; the ring leader applies it.

  plan              prints the plan: mode, staged changes, the partitions each node would gain
                    and lose, and why it cannot be committed (if it cannot)
  plan --join ID    stages a join of ID, a node started with --join that owns nothing yet
  plan --leave ID   stages a leave of ID: its partitions move to the others, then it exits
  plan --replace OLD,NEW  stages NEW (a joining node) taking exactly OLD's partitions; OLD may
                    be dead (NEW is filled from the surviving replicas) and is removed
  plan --mode M     sets the cluster's plan mode: auto (a --join node is claimed at once) or
                    manual (it waits for a committed join)
  plan --clear      drops every staged change
  commit            applies the staged plan; refused while partitions are still moving, and
                    when a dead node it removes holds the only copies of some data (an n=1
                    table): --force commits anyway and that data is lost
  leave [ID]        stages and commits a leave of ID (default: the node at --url)
  replace OLD NEW   stages and commits a replacement of OLD by NEW
  forget ID         declares ID, a node that left the ring but died before it handed
                    everything on, gone for good: deletes stop waiting for it (tombstone GC).
                    Risk: values deleted meanwhile may come back if ID ever returns with its data

Options:
${urlHelp}
  -h, --help           show this help

Examples:
  shoal cluster plan --url http://127.0.0.1:8000 --join node-4
  shoal cluster commit --url http://127.0.0.1:8000
  shoal cluster leave --url http://127.0.0.1:8002
  shoal cluster replace --url http://127.0.0.1:8000 node-3 node-5
`;

const requestTimeoutMs = 10_000;

const commitFlags = { ...urlFlag, force: { type: "boolean" } } as const;

const planFlags = {
  ...urlFlag,
  join: { type: "string" },
  zone: { type: "string" },
  leave: { type: "string" },
  replace: { type: "string" },
  mode: { type: "string" },
  clear: { type: "boolean" },
} as const;

/** A parsed plan subcommand: what to send, in order. */
export type PlanCall =
  | { kind: "show"; url: string }
  | { kind: "stage"; url: string; body: Record<string, unknown> }
  | { kind: "clear"; url: string }
  | { kind: "commit"; url: string; force?: boolean }
  | { kind: "leave"; url: string; id: string | undefined }
  | { kind: "replace"; url: string; old: string; now: string }
  | { kind: "forget"; url: string; id: string };

/** Parses `shoal cluster <sub> ...` for the plan subcommands; UsageError on anything wrong. */
export function parsePlanCall(sub: string, argv: string[]): PlanCall | "help" {
  const bounds = sub === "leave" ? { min: 0, max: 1 } : sub === "replace" ? { min: 2, max: 2 } : sub === "forget" ? { min: 1, max: 1 } : { min: 0, max: 0 };
  const spec = sub === "plan" ? planFlags : sub === "commit" ? commitFlags : urlFlag;
  const args = parseCommandArgs("cluster", argv, spec, bounds);
  if (args.help) return "help";
  const url = checkUrl(stringFlag(args.flags, "url") ?? defaultNodeUrl);
  switch (sub) {
    case "commit":
      return booleanFlag(args.flags, "force") ? { kind: "commit", url, force: true } : { kind: "commit", url };
    case "leave":
      return { kind: "leave", url, id: nodeIdArg(args.positionals[0]) };
    case "forget":
      return { kind: "forget", url, id: nodeIdArg(args.positionals[0])! };
    case "replace": {
      const [old, now] = args.positionals.map((p) => nodeIdArg(p)!);
      if (old === now) throw new UsageError(`cannot replace ${old} by itself`, "cluster");
      return { kind: "replace", url, old: old!, now: now! };
    }
    default:
      return planCall(url, args.flags);
  }
}

function planCall(url: string, flags: FlagValues): PlanCall {
  const given = ["join", "leave", "replace", "mode", "clear"].filter((name) => flags[name] !== undefined && flags[name] !== false);
  if (given.length > 1) throw new UsageError(`give at most one of --join, --leave, --replace, --mode, --clear; got ${given.map((g) => `--${g}`).join(" and ")}`, "cluster");
  const zone = stringFlag(flags, "zone");
  if (zone !== undefined && given[0] !== "join") throw new UsageError("--zone applies to --join only", "cluster");
  switch (given[0]) {
    case undefined:
      return { kind: "show", url };
    case "join":
      return { kind: "stage", url, body: { join: nodeIdArg(stringFlag(flags, "join")), ...(zone !== undefined ? { zone } : {}) } };
    case "leave":
      return { kind: "stage", url, body: { leave: nodeIdArg(stringFlag(flags, "leave")) } };
    case "replace": {
      const parts = (stringFlag(flags, "replace") ?? "").split(",");
      if (parts.length !== 2 || parts.some((p) => p.trim() === "")) throw new UsageError(`--replace takes OLD,NEW; got ${JSON.stringify(stringFlag(flags, "replace"))}`, "cluster");
      const [old, now] = parts.map((p) => nodeIdArg(p.trim())!);
      if (old === now) throw new UsageError(`cannot replace ${old} by itself`, "cluster");
      return { kind: "stage", url, body: { replace: [old, now] } };
    }
    case "mode": {
      const mode = stringFlag(flags, "mode");
      if (mode !== "auto" && mode !== "manual") throw new UsageError(`--mode must be auto or manual; got ${JSON.stringify(mode)}`, "cluster");
      return { kind: "stage", url, body: { mode } };
    }
    default:
      return { kind: "clear", url };
  }
}

function nodeIdArg(id: string | undefined): string | undefined {
  if (id === undefined) return undefined;
  if (id.length === 0 || id.length > 256) throw new UsageError(`a node id has 1 to 256 characters; got ${JSON.stringify(id.slice(0, 300))}`, "cluster");
  return id;
}

function checkUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== "http:") throw new Error("not http");
  } catch {
    throw new UsageError(`--url must be an http://host:port address; got ${JSON.stringify(url)}`, "cluster");
  }
  return url;
}

/** Runs a plan subcommand against the node; returns the exit code. */
export async function runPlanSubcommand(sub: string, argv: string[], io: CliIo): Promise<number> {
  const call = parsePlanCall(sub, argv);
  if (call === "help") {
    io.stdout.write(planUsage);
    return 0;
  }
  switch (call.kind) {
    case "show":
      await writeLine(io.stdout, formatPlan(await request("GET", call.url, "/v1/cluster/plan")));
      return 0;
    case "stage":
      await writeLine(io.stdout, `staged.\n${formatPlan(await request("POST", call.url, "/v1/cluster/plan", call.body))}`);
      return 0;
    case "clear":
      await writeLine(io.stdout, `cleared.\n${formatPlan(await request("DELETE", call.url, "/v1/cluster/plan"))}`);
      return 0;
    case "commit":
      await writeLine(io.stdout, committedLine(await request("POST", call.url, call.force === true ? "/v1/cluster/commit?force=true" : "/v1/cluster/commit")));
      return 0;
    case "leave": {
      const id = call.id ?? selfOf(await request("GET", call.url, "/v1/cluster"));
      await stageAndCommit(call.url, { leave: id }, io);
      await writeLine(io.stdout, `${id} hands its partitions off and then stops; "shoal cluster status" shows pendingTransfers falling to 0`);
      return 0;
    }
    case "replace":
      await stageAndCommit(call.url, { replace: [call.old, call.now] }, io);
      await writeLine(io.stdout, `${call.now} is filled with ${call.old}'s partitions from the other replicas; ${call.old} is removed (and stops, if it is running)`);
      return 0;
    case "forget": {
      const answer = (await request("POST", call.url, "/v1/cluster/forget", { node: call.id })) as { ringVersion?: unknown; membersTold?: unknown } | undefined;
      await writeLine(io.stdout, `forgot ${call.id}'s departure at ring version ${String(answer?.ringVersion)} (${String(answer?.membersTold)} other members told; the rest learn it from tombstone GC's checks)`);
      return 0;
    }
  }
}

async function stageAndCommit(url: string, body: Record<string, unknown>, io: CliIo): Promise<void> {
  await request("POST", url, "/v1/cluster/plan", body);
  try {
    await writeLine(io.stdout, committedLine(await request("POST", url, "/v1/cluster/commit")));
  } catch (error) {
    if (error instanceof ShoalError) throw new ShoalError(error.code, error.status, `${error.message} (the change stays staged: "shoal cluster commit" to retry, "shoal cluster plan --clear" to drop it)`);
    throw error;
  }
}

function committedLine(body: unknown): string {
  const version = (body as { ringVersion?: unknown } | undefined)?.ringVersion;
  return `committed: ring version ${typeof version === "number" ? version : "?"}`;
}

function selfOf(status: unknown): string {
  const self = (status as { self?: unknown } | undefined)?.self;
  if (typeof self !== "string") throw new ShoalError("BadClusterStatus", 502, "GET /v1/cluster gave no node id (self)");
  return self;
}

async function request(method: string, url: string, path: string, body?: unknown): Promise<unknown> {
  const endpoint = new URL(path, url);
  let res: Awaited<ReturnType<typeof fetch>>;
  try {
    res = await fetch(endpoint, {
      method,
      signal: AbortSignal.timeout(requestTimeoutMs),
      ...(body !== undefined ? { headers: { "content-type": "application/json" }, body: JSON.stringify(body) } : {}),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new ShoalError("NodeUnreachable", 503, `cannot ${method} ${endpoint.href} within ${requestTimeoutMs} ms: ${cause?.code ?? cause?.message ?? (error as Error).message}`);
  }
  const answer: unknown = await res.json().catch(() => undefined);
  if (res.ok) return answer;
  const failure = (answer as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  const code = typeof failure?.code === "string" ? failure.code : "RequestFailed";
  const message = typeof failure?.message === "string" ? failure.message : `${method} ${endpoint.href} answered ${res.status}`;
  throw new ShoalError(code, res.status, message);
}

/** The plan as text: a header, the staged changes, and per node what it would gain and lose. */
export function formatPlan(value: unknown): string {
  const plan = (value ?? {}) as { mode?: unknown; ringVersion?: unknown; changes?: unknown; transfers?: unknown; summary?: unknown; error?: unknown };
  const changes = Array.isArray(plan.changes) ? (plan.changes as Array<Record<string, unknown>>) : [];
  const lines = [`mode: ${String(plan.mode)}   ring version: ${String(plan.ringVersion)}   staged changes: ${changes.length}`];
  for (const change of changes) lines.push(`  ${describeChange(change)}`);
  const summary = Array.isArray(plan.summary) ? (plan.summary as Array<{ node: string; gains: number; loses: number; owns: number }>) : [];
  if (summary.length > 0) {
    const moving = Array.isArray(plan.transfers) ? plan.transfers.length : 0;
    lines.push(`partitions whose replicas change: ${moving}`);
    lines.push(formatTable(["NODE", "GAINS", "LOSES", "OWNS AFTER"], summary.map((s) => [s.node, String(s.gains), String(s.loses), String(s.owns)])).trimEnd());
  }
  if (typeof plan.error === "string") lines.push(`cannot commit: ${plan.error}`);
  return lines.join("\n");
}

function describeChange(change: Record<string, unknown>): string {
  if (typeof change.join === "string") return `join ${change.join}${typeof change.zone === "string" ? ` (zone ${change.zone})` : ""}`;
  if (typeof change.leave === "string") return `leave ${change.leave}`;
  if (Array.isArray(change.replace)) return `replace ${String(change.replace[0])} by ${String(change.replace[1])}`;
  return JSON.stringify(change);
}
