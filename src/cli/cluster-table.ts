import type { ClusterStatus } from "../api/cluster-handler.js";

/** Plain-text tables for `shoal cluster`: left-aligned columns, two spaces apart. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => (row[i] ?? "").length)));
  const line = (cells: readonly string[]) => cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  ");
  return [line(header), ...rows.map(line)].join("\n");
}

/** `shoal cluster status`: a summary line, then one row per member. */
export function formatClusterStatus(status: ClusterStatus): string {
  const up = status.members.filter((m) => m.state === "up").length;
  const summary = `node ${status.self}: ring version ${status.ringVersion}, ${status.partitionCount} partitions, ${up} of ${status.members.length} members up, ${status.pendingTransfers} pending transfers`;
  const rows = status.members.map((m) => [m.id === status.self ? `${m.id} *` : m.id, m.state, String(m.partitions), m.address, m.clientUrl]);
  return `${summary}\n${formatTable(["ID", "STATE", "PARTITIONS", "PEER ADDRESS", "CLIENT URL"], rows)}\n`;
}

/** Checks the shape of a /v1/cluster body before printing it; undefined when it is not one. */
export function parseClusterStatus(value: unknown): ClusterStatus | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const v = value as Partial<Record<keyof ClusterStatus, unknown>>;
  if (typeof v.self !== "string" || typeof v.ringVersion !== "number" || !Array.isArray(v.members)) return undefined;
  const membersOk = v.members.every((m: unknown) => {
    const member = m as Record<string, unknown> | null;
    return typeof member === "object" && member !== null && typeof member.id === "string" && typeof member.state === "string" && typeof member.partitions === "number";
  });
  return membersOk ? (value as ClusterStatus) : undefined;
}
