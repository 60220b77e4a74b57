import type { NodeId } from "../runtime/network.js";
import { reclaim, type ClaimOptions } from "./claim.js";
import { ringDiff, type PartitionTransfer } from "./ring-diff.js";
import { ringState, ringTransition, type RingMember, type RingState } from "./ring-state.js";

/**
 * Staged ring changes (issue 6, item 3: `--plan manual`; Riak's `cluster plan` / `commit`), as
 * pure functions: an operator stages joins, leaves and replacements, looks at what would move,
 * then commits. The ring a plan gives is a ring in transition (ring-state.ts), so a committed
 * plan moves data through the ownership transfer like any other change.
 *
 * A replacement hands the old node's partitions to the new one as they are (only those move);
 * joins and leaves then go through claim, which moves as little as balance allows.
 */
export type RingPlanChange = { join: NodeId; zone?: string } | { leave: NodeId } | { replace: readonly [NodeId, NodeId] };

/** Changes one plan may stage. */
export const ringPlanChangesMax = 64;

export type RingPlanResult = { ok: true; ring: RingState; transfers: PartitionTransfer[] } | { ok: false; error: string };

/**
 * Which nodes a plan's ring lists as `departing` (ring-state.ts): of the nodes a `leave` or a
 * `replace` takes out, those `departs` names (the committing leader: those it believes running,
 * which hand their data on and report). By default every leaver and no replaced node.
 */
export interface RingPlanOptions extends ClaimOptions {
  departs?: (id: NodeId, op: "leave" | "replace") => boolean;
}

/** The ring in transition `changes` would give from `ring` (settled), with the owner moves. */
export function planRing(ring: RingState, changes: readonly RingPlanChange[], options: RingPlanOptions = {}): RingPlanResult {
  if (ring.previous !== undefined) return { ok: false, error: `ring ${ring.version} is still in transition; plan again once it settles` };
  if (changes.length > ringPlanChangesMax) return { ok: false, error: `${changes.length} staged changes exceed the limit of ${ringPlanChangesMax}` };
  if (changes.length === 0) return { ok: false, error: "no changes are staged" };
  let owners = [...ring.owners];
  let members: RingMember[] = [...ring.members];
  const renamed: RingMember[] = [...ring.members];
  for (const change of changes) {
    const problem = applyChange(change, members, (next) => (members = next), (old, now) => {
      owners = owners.map((o) => (o === old ? now.id : o));
      const at = renamed.findIndex((m) => m.id === old);
      if (at >= 0) renamed[at] = now;
    });
    if (problem !== undefined) return { ok: false, error: problem };
  }
  const base = ringState({ version: ring.version, partitionCount: ring.partitionCount, owners, members: renamed.filter((m) => owners.includes(m.id)) });
  const { departs, ...claimOptions } = options;
  const next = reclaim(base, members, claimOptions);
  if (!next.ok) return { ok: false, error: `the plan cannot be placed: ${next.error.code}` };
  const moved = ringTransition(ring, next.ring);
  const placed = new Set(moved.members.map((m) => m.id));
  const departing = (id: NodeId, op: "leave" | "replace"): NodeId[] => (!placed.has(id) && (departs?.(id, op) ?? op === "leave") ? [id] : []);
  const leavers = [...new Set(changes.flatMap((change) => ("leave" in change ? departing(change.leave, "leave") : "replace" in change ? departing(change.replace[0], "replace") : [])))];
  const transition = leavers.length === 0 ? moved : ringState({ ...moved, departing: leavers });
  return { ok: true, ring: transition, transfers: ringDiff(ring, transition) };
}

function applyChange(change: RingPlanChange, members: readonly RingMember[], set: (members: RingMember[]) => void, rename: (old: NodeId, now: RingMember) => void): string | undefined {
  const has = (id: NodeId) => members.some((m) => m.id === id);
  if ("join" in change) {
    if (has(change.join)) return `${change.join} is already a member`;
    set([...members, change.zone === undefined ? { id: change.join } : { id: change.join, zone: change.zone }]);
    return undefined;
  }
  if ("leave" in change) {
    if (!has(change.leave)) return `${change.leave} is not a member`;
    if (members.length === 1) return `${change.leave} is the last member`;
    set(members.filter((m) => m.id !== change.leave));
    return undefined;
  }
  const [old, now] = change.replace;
  if (!has(old)) return `${old} is not a member`;
  if (has(now)) return `${now} is already a member`;
  const replaced = members.find((m) => m.id === old)!;
  const member: RingMember = replaced.zone === undefined ? { id: now } : { id: now, zone: replaced.zone };
  set(members.map((m) => (m.id === old ? member : m)));
  rename(old, member);
  return undefined;
}

/** A staged change from a request body ({"join": id} | {"leave": id} | {"replace": [old, new]}), checked. */
export function parsePlanChange(value: unknown): { ok: true; change: RingPlanChange } | { ok: false; error: string } {
  if (typeof value !== "object" || value === null) return { ok: false, error: "a plan change must be an object" };
  const v = value as Record<string, unknown>;
  const id = (x: unknown): x is string => typeof x === "string" && x.length > 0 && x.length <= 256;
  if (id(v.join)) {
    if (v.zone === undefined) return { ok: true, change: { join: v.join } };
    return id(v.zone) ? { ok: true, change: { join: v.join, zone: v.zone } } : { ok: false, error: "a zone must be a string of 1-256 characters" };
  }
  if (id(v.leave)) return { ok: true, change: { leave: v.leave } };
  if (Array.isArray(v.replace) && v.replace.length === 2 && id(v.replace[0]) && id(v.replace[1]) && v.replace[0] !== v.replace[1]) {
    return { ok: true, change: { replace: [v.replace[0], v.replace[1]] } };
  }
  return { ok: false, error: 'a plan change is {"join": id}, {"leave": id} or {"replace": [old, new]} with ids of 1-256 characters' };
}
