import type { EventualWriteRecord } from "./eventual-workload.js";

/**
 * The eventual path's safety checks over a REST history (TESTING.md, "Checkers"), the same
 * rules as src/checker/eventual-checker.ts with values for dots: values are unique per run, so
 * a read that returned value v had a causal context covering v's write, and a write carrying
 * that context may supersede v.
 *
 * - Lost write: an acknowledged put whose value is not among the key's final siblings, though
 *   no write that could have landed (ok or unknown) carried a context that saw it.
 * - Resurrection: a final sibling that an acknowledged delete's context saw (the delete removed
 *   exactly that; it must not come back).
 * - Phantom: a final sibling no put ever wrote.
 */
export interface EventualFinding {
  kind: "lost-write" | "resurrection" | "phantom";
  key: string;
  value: string;
  detail: string;
}

export interface EventualCheckSummary {
  writes: number;
  acknowledged: number;
  failed: number;
  unknown: number;
  lost: number;
  resurrected: number;
  phantoms: number;
  findings: EventualFinding[];
}

const findingsKeptMax = 50;

export function checkEventualWrites(writes: readonly EventualWriteRecord[], finals: ReadonlyMap<string, readonly string[]>): EventualCheckSummary {
  const written = new Map<string, Set<string>>();
  const superseded = new Map<string, Set<string>>();
  const deleted = new Map<string, Map<string, EventualWriteRecord>>();
  for (const write of writes) {
    if (write.kind === "put" && write.value !== undefined) setOf(written, write.key).add(write.value);
    if (write.outcome === "failed") continue;
    for (const value of write.saw) setOf(superseded, write.key).add(value);
    if (write.kind === "delete" && write.outcome === "ok") {
      const byValue = deleted.get(write.key) ?? new Map<string, EventualWriteRecord>();
      deleted.set(write.key, byValue);
      for (const value of write.saw) byValue.set(value, write);
    }
  }
  const findings: EventualFinding[] = [];
  const counts = { lost: 0, resurrected: 0, phantoms: 0 };
  const add = (finding: EventualFinding, count: keyof typeof counts) => {
    counts[count]++;
    if (findings.length < findingsKeptMax) findings.push(finding);
  };
  for (const write of writes) {
    if (write.kind !== "put" || write.outcome !== "ok" || write.value === undefined) continue;
    const final = finals.get(write.key) ?? [];
    if (final.includes(write.value) || superseded.get(write.key)?.has(write.value)) continue;
    add({ kind: "lost-write", key: write.key, value: write.value, detail: `put #${write.id} by client ${write.client} via n${write.node + 1} was acknowledged (${write.detail}); final siblings [${final.join(", ")}]` }, "lost");
  }
  for (const [key, final] of finals) {
    for (const value of final) {
      const deleter = deleted.get(key)?.get(value);
      if (deleter !== undefined) add({ kind: "resurrection", key, value, detail: `acknowledged delete #${deleter.id} via n${deleter.node + 1} saw it` }, "resurrected");
      if (!written.get(key)?.has(value)) add({ kind: "phantom", key, value, detail: "no put wrote this value" }, "phantoms");
    }
  }
  return {
    writes: writes.length,
    acknowledged: writes.filter((w) => w.outcome === "ok").length,
    failed: writes.filter((w) => w.outcome === "failed").length,
    unknown: writes.filter((w) => w.outcome === "unknown").length,
    ...counts,
    findings,
  };
}

function setOf(map: Map<string, Set<string>>, key: string): Set<string> {
  let set = map.get(key);
  if (set === undefined) {
    set = new Set();
    map.set(key, set);
  }
  return set;
}
