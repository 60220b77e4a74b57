import { ShoalError, badRequest, unavailable } from "../errors.js";
import type { PlanOp, PlanOpResult } from "../node/cluster-plan-record.js";
import { parsePlanChange } from "../ring/ring-plan.js";
import type { ApiContext } from "./api-context.js";
import { readJsonBody, refuseUnknownFields, requireObject } from "./json-body.js";
import { sendJson } from "./respond.js";
import type { ShoalRequest, ShoalResponse } from "./shoal-response.js";

/**
 * `GET /v1/cluster` (issue 3, item 2): this node's view of the cluster. Any node answers; two
 * nodes agree once gossip has converged (same ringVersion, same member states).
 */
export interface ClusterMemberStatus {
  id: string;
  /** Peer address, "host:peerPort". */
  address: string;
  /** REST endpoint, "http://host:clientPort". */
  clientUrl: string;
  state: "up" | "suspect" | "down" | "joining" | "leaving";
  /** Partitions this member owns in the current ring (0 when not placed yet). */
  partitions: number;
}

export interface ClusterStatus {
  self: string;
  /** 0 before this node holds a ring (a joiner that has not heard from its seed yet). */
  ringVersion: number;
  partitionCount: number;
  members: ClusterMemberStatus[];
  /** Partitions still moving after a ring change (0 once the ring is settled: handoff/ownership-*.ts). */
  pendingTransfers: number;
}

export function getCluster(context: ApiContext, _req: ShoalRequest, res: ShoalResponse): void {
  sendJson(res, 200, context.cluster());
}

/**
 * The staged membership plan (issue 6, item 2), served by the node's ClusterPlan
 * (node/cluster-plan.ts). Absent on a context without a cluster (fakes): the plan routes then
 * answer 503.
 */
export interface ClusterPlanAccess {
  /** GET /v1/cluster/plan: mode, ringVersion, staged changes, what would move, and why it cannot be placed. */
  view(): unknown;
  /** Runs one operation at the ring leader. */
  execute(op: PlanOp): Promise<PlanOpResult>;
}

/** The fields a POST /v1/cluster/plan body may carry: exactly one of them. */
const planBodyFields = ["join", "zone", "leave", "replace", "mode"] as const;

export function getClusterPlan(context: ApiContext, _req: ShoalRequest, res: ShoalResponse): void {
  sendJson(res, 200, requirePlan(context).view());
}

/**
 * POST /v1/cluster/plan: `{"join": id}` (optionally with `"zone"`), `{"leave": id}`,
 * `{"replace": [old, new]}` stage a change; `{"mode": "auto"|"manual"}` sets the cluster's plan
 * mode. Answers 200 with the plan as it is now.
 */
export async function postClusterPlan(context: ApiContext, req: ShoalRequest, res: ShoalResponse): Promise<void> {
  const plan = requirePlan(context);
  const body = requireObject(await readJsonBody(req, res, context.limits), "InvalidPlanChange", "a plan change");
  refuseUnknownFields(body, planBodyFields, "InvalidPlanChange", "a plan change");
  let op: PlanOp;
  if ("mode" in body) {
    if (Object.keys(body).length !== 1) throw badRequest("InvalidPlanChange", 'a mode change is {"mode": "auto"|"manual"} alone');
    if (body.mode !== "auto" && body.mode !== "manual") throw badRequest("InvalidPlanMode", `mode must be "auto" or "manual"; got ${JSON.stringify(body.mode)?.slice(0, 64)}`);
    op = { kind: "mode", mode: body.mode };
  } else {
    const kinds = ["join", "leave", "replace"].filter((k) => k in body);
    if (kinds.length !== 1) throw badRequest("InvalidPlanChange", `a plan change names exactly one of join, leave, replace; got ${kinds.length === 0 ? "none" : kinds.join(" and ")}`);
    if ("zone" in body && !("join" in body)) throw badRequest("InvalidPlanChange", "zone applies to a join only");
    const parsed = parsePlanChange(body);
    if (!parsed.ok) throw badRequest("InvalidPlanChange", parsed.error);
    op = { kind: "stage", change: parsed.change };
  }
  await answer(res, await plan.execute(op), () => plan.view());
}

/** DELETE /v1/cluster/plan: drops every staged change (the mode stays). */
export async function deleteClusterPlan(context: ApiContext, _req: ShoalRequest, res: ShoalResponse): Promise<void> {
  const plan = requirePlan(context);
  await answer(res, await plan.execute({ kind: "clear" }), () => plan.view());
}

/**
 * POST /v1/cluster/commit: applies the staged plan; answers `{"ringVersion"}` of the ring it
 * published. `?force=true` commits a plan that would lose data (409 DataLoss otherwise).
 */
export async function commitClusterPlan(context: ApiContext, req: ShoalRequest, res: ShoalResponse): Promise<void> {
  const plan = requirePlan(context);
  const force = new URLSearchParams((req.url ?? "").split("?")[1] ?? "").get("force");
  if (force !== null && force !== "true" && force !== "false") throw badRequest("InvalidForce", `force must be true or false; got ${JSON.stringify(force.slice(0, 64))}`);
  const result = await plan.execute(force === "true" ? { kind: "commit", force: true } : { kind: "commit" });
  await answer(res, result, () => ({ committed: true, ringVersion: result.ok ? result.ringVersion : undefined }));
}

/** What the node answers a forget (node/node-items.ts forgetDeparture). */
export type ClusterForgetResult = { ok: true; node: string; ringVersion: number; membersTold: number } | { ok: false; status: number; code: string; message: string };

/**
 * POST /v1/cluster/forget `{"node": id}`: an operator declares a leaver that died mid-drain gone
 * for good, so tombstone GC stops waiting for its clean departure report
 * (coordinator/tombstone-reaper-departures.ts). 404 NoDeparture when this node holds no record
 * of it, 409 StillMember while the ring places it, 409 DepartureClean when it already reported.
 * Answers `{"node", "forgotten": true, "ringVersion", "membersTold"}`.
 */
export async function forgetClusterNode(context: ApiContext, req: ShoalRequest, res: ShoalResponse): Promise<void> {
  if (context.clusterForget === undefined) throw unavailable("ForgetUnavailable", "this node keeps no departure records");
  const body = requireObject(await readJsonBody(req, res, context.limits), "InvalidForget", "a forget request");
  refuseUnknownFields(body, ["node"], "InvalidForget", "a forget request");
  const node = body.node;
  if (typeof node !== "string" || node.length === 0 || node.length > 256) {
    throw badRequest("InvalidForget", `node must be a node id of 1-256 characters; got ${node === undefined ? "none" : JSON.stringify(node)?.slice(0, 64)}`);
  }
  const result = await context.clusterForget(node);
  if (!result.ok) throw new ShoalError(result.code, result.status, result.message);
  sendJson(res, 200, { node: result.node, forgotten: true, ringVersion: result.ringVersion, membersTold: result.membersTold });
}

async function answer(res: ShoalResponse, result: PlanOpResult, body: () => unknown): Promise<void> {
  if (!result.ok) throw new ShoalError(result.code, result.status, result.message);
  sendJson(res, 200, body());
  return Promise.resolve();
}

function requirePlan(context: ApiContext): ClusterPlanAccess {
  if (context.clusterPlan === undefined) throw unavailable("PlanUnavailable", "this node serves no cluster plan");
  return context.clusterPlan;
}
