/**
 * The ownership transfer's one message (issue 6, item 2): a node that filled every partition
 * it gains in ring `ringVersion`'s transition tells the ring leader, again each interval until
 * the ring settles (so a lost message or a new leader costs one interval, not the transition).
 *
 *   { type: "handoff.done", ringVersion, ringHash, tables? }   one-way, to the ring leader
 *
 * `ringHash` is the content hash (ring/ring-hash.ts) of the ring the node filled: the leader
 * counts a report only for the ring it holds, (version, hash), never for another ring of the
 * same version (two leaders once published different rings of one version; issue 6). A report
 * without one does not count.
 *
 * `tables` lists the ids of the tables the node transferred (its catalog's): the leader counts
 * the report only when it covers every table the leader knows, so a new node whose catalog has
 * not caught up yet (a join or a replacement right after its start) cannot settle the ring
 * before it pulled every table. A report without it (an older node) counts as before.
 */
export interface TransferDoneMessage {
  type: "handoff.done";
  ringVersion: number;
  ringHash?: string;
  tables?: number[];
}

/** The longest ring hash a report may carry. */
export const doneRingHashLengthMax = 64;

/** Table ids one report may carry. */
export const doneTablesMax = 65_536;

export const ownershipMessagePrefix = "handoff.";

export function transferDoneMessage(ringVersion: number, tables?: readonly number[], ringHash?: string): TransferDoneMessage {
  const base: TransferDoneMessage = ringHash === undefined ? { type: "handoff.done", ringVersion } : { type: "handoff.done", ringVersion, ringHash };
  return tables === undefined ? base : { ...base, tables: [...tables] };
}

/** The message, or undefined when it is not a well-formed "handoff.done" (a peer's bug: dropped). */
export function parseTransferDone(message: unknown): TransferDoneMessage | undefined {
  if (typeof message !== "object" || message === null) return undefined;
  const m = message as Partial<TransferDoneMessage>;
  if (m.type !== "handoff.done" || !Number.isSafeInteger(m.ringVersion) || (m.ringVersion as number) < 0) return undefined;
  if (m.ringHash !== undefined && (typeof m.ringHash !== "string" || m.ringHash.length === 0 || m.ringHash.length > doneRingHashLengthMax)) return undefined;
  const base: TransferDoneMessage = m.ringHash === undefined ? { type: "handoff.done", ringVersion: m.ringVersion as number } : { type: "handoff.done", ringVersion: m.ringVersion as number, ringHash: m.ringHash };
  if (m.tables === undefined) return base;
  if (!Array.isArray(m.tables) || m.tables.length > doneTablesMax || !m.tables.every((id) => Number.isSafeInteger(id))) return undefined;
  return { ...base, tables: m.tables };
}
